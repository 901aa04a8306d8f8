import type {
  EncodedImage,
  ImageMeasurements,
  ImageProcessor,
  KnownImageFacts,
  MeasureCopy,
  ModelInputTarget,
  OutputMime,
} from '@argus/imaging';

/** What the gateway told the worker about a stored image; known before its bytes are read. */
export interface ImageFacts {
  sha256: string;
  width: number;
  height: number;
  /** What normalise() stored; absent for bytes that did not come through it (warm-up samples). */
  mime?: OutputMime;
}

/**
 * One request's image: its bytes, read from the store on first use (a cache hit never reads them), and what the
 * stages of the request derive from them (measurements, the words the CPU OCR reads, a resized copy), each computed
 * once however many stages ask. Created once per request by the pipeline and dropped with it; nothing is shared
 * between requests.
 */
export class ImageContext {
  private loaded?: Promise<Uint8Array>;
  private readonly derived = new Map<string, Promise<unknown>>();

  constructor(
    readonly facts: ImageFacts,
    private readonly load: () => Promise<Uint8Array>,
  ) {}

  /** For bytes already in hand (warm-up, tests, benchmarks). */
  static of(bytes: Uint8Array, facts: Partial<ImageFacts> = {}): ImageContext {
    return new ImageContext({ sha256: '', width: 0, height: 0, ...facts }, () => Promise.resolve(bytes));
  }

  /** The stored bytes; the first call reads them, and a failed read is tried again by the next caller. */
  bytes(): Promise<Uint8Array> {
    if (!this.loaded) {
      const loading = this.load();
      this.loaded = loading;
      loading.catch(() => {
        if (this.loaded === loading) this.loaded = undefined;
      });
    }
    return this.loaded;
  }

  /**
   * What `make` derives from this image, computed on the first call for `key` and shared by every later one. A
   * failure is not kept, so a later stage may try again.
   */
  derive<Value>(key: string, make: (bytes: Uint8Array) => Promise<Value>): Promise<Value> {
    const known = this.derived.get(key) as Promise<Value> | undefined;
    if (known) return known;
    const made = this.bytes().then(make);
    this.derived.set(key, made);
    made.catch(() => {
      if (this.derived.get(key) === made) this.derived.delete(key);
    });
    return made;
  }
}

/** The ≤ 1024 px copy the measurements read, decoded once per request whoever measures first. */
export function measurementCopy(
  context: ImageContext,
  processor: Pick<ImageProcessor, 'decodeForMeasurement'>,
): Promise<MeasureCopy> {
  return context.derive('measurement-copy', (bytes) => processor.decodeForMeasurement(bytes));
}

/** Size, colours, exposure and sharpness of the request's image, measured once. */
export function measurements(
  context: ImageContext,
  processor: Pick<ImageProcessor, 'measure' | 'decodeForMeasurement'>,
): Promise<ImageMeasurements> {
  return context.derive('measurements', (bytes) =>
    processor.measure(bytes, measurementCopy(context, processor)),
  );
}

/** The image resized and encoded for a model's input, once per target: a second call and box scaling reuse it. */
export function modelInput(
  context: ImageContext,
  processor: Pick<ImageProcessor, 'resizeForModel'>,
  target: ModelInputTarget,
): Promise<EncodedImage> {
  const known = knownFacts(context.facts);
  return context.derive(`model-input:${JSON.stringify(target)}`, (bytes) =>
    processor.resizeForModel(bytes, target, known),
  );
}

/**
 * The gateway's facts about its normalised image, for resizeForModel to use instead of a header read; undefined when
 * the context does not carry them all (ImageContext.of leaves the size 0 and the mime unset).
 */
function knownFacts(facts: ImageFacts): KnownImageFacts | undefined {
  if (facts.mime === undefined || facts.width < 1 || facts.height < 1) return undefined;
  return { width: facts.width, height: facts.height, hasAlpha: facts.mime === 'image/png' };
}
