import { ArgusError, type TaskRequest } from '@argus/contracts';
import type { ListingProfiles, NamedEntries } from '@argus/config';
import type { ImageProcessor } from '@argus/imaging';
import {
  applyPiiMode,
  evaluateCompliance,
  modelCheckIds,
  overlayWords,
  type TaskResult,
} from '@argus/inference';

/** The requested entry, or the file's default; an unknown name is the caller's error. */
export function resolveNamed<Entry>(
  entries: NamedEntries<Entry>,
  requested: string | undefined,
  what: string,
): { name: string; entry: Entry } {
  const name = requested ?? entries.defaultName;
  const entry = entries.get(name);
  if (entry === undefined) {
    throw new ArgusError('INVALID_REQUEST', `unknown ${what} "${name}"; known: ${entries.names.join(', ')}`);
  }
  return { name, entry };
}

/** Deterministic work added to a task's answer after routing, whichever tier answered; never cached. */
export interface TaskPostprocessor {
  /** True when run() reads the pixels, so the task cannot answer a cache-only request. */
  readonly readsImage: boolean;
  /**
   * Returns fields that are added to (or replace fields of) the routed answer. `needsGpuTier` is the answering
   * engine's list: a postprocessor that returns its own `needsGpuTier` replaces the reply's, so it merges.
   */
  run(
    /** Reads the stored image on first use; a postprocessor that needs no pixels never calls it. */
    loadImage: () => Promise<Uint8Array>,
    request: TaskRequest,
    result: TaskResult,
    needsGpuTier?: readonly string[],
  ): Promise<Record<string, unknown>>;
}

/** OCR: personal data in the text, flagged or redacted as the request asks. */
export class PiiPostprocessor implements TaskPostprocessor {
  readonly readsImage = false;

  run(
    _loadImage: () => Promise<Uint8Array>,
    request: TaskRequest,
    result: TaskResult,
  ): Promise<Record<string, unknown>> {
    const mode = request.pii ?? 'off';
    if (mode === 'off' || !('lines' in result)) return Promise.resolve({});
    return Promise.resolve({ ...applyPiiMode(result, mode) });
  }
}

type Box = { x: number; y: number; width: number; height: number };

/**
 * A read word's box with a margin, for painting the word out of the listing measurements: OCR boxes follow the
 * recogniser's idea of the glyphs (PaddleOCR's come from CTC peaks), and a bold glyph's stem or an anti-aliased edge
 * left outside the box would count as product and stretch the product's box over promotional text beside it.
 * A quarter of the text height each side and a tenth above and below cover that without reaching the product.
 */
export function textMargin(box: Box): Box {
  const dx = Math.round(box.height * 0.25);
  const dy = Math.round(box.height * 0.1);
  return {
    x: Math.max(0, box.x - dx),
    y: Math.max(0, box.y - dy),
    width: box.width + 2 * dx - Math.max(0, dx - box.x),
    height: box.height + 2 * dy - Math.max(0, dy - box.y),
  };
}

/**
 * Product tagging: listing-photo compliance against the request's profile, measured on the CPU, plus the profile's
 * vision-model checks (one product, no props, not a placeholder) from the model's look at the photo when a GPU tier
 * answered. On the CPU tier those are left out and named in needsGpuTier as `compliance.<id>`.
 */
export class ListingCompliancePostprocessor implements TaskPostprocessor {
  readonly readsImage = true;

  constructor(
    private readonly processor: Pick<ImageProcessor, 'measureListing'>,
    private readonly profiles: ListingProfiles,
    /** Words read in the image, with boxes; only called when the profile checks text_overlay. */
    private readonly readWords: (
      image: Uint8Array,
    ) => Promise<
      Array<{ text: string; box: { x: number; y: number; width: number; height: number } }> | undefined
    >,
  ) {}

  async run(
    loadImage: () => Promise<Uint8Array>,
    request: TaskRequest,
    result: TaskResult,
    needsGpuTier: readonly string[] = [],
  ): Promise<{ compliance: ReturnType<typeof evaluateCompliance>; needsGpuTier?: string[] }> {
    const { name, entry: profile } = resolveNamed(this.profiles, request.profile, 'listing profile');
    const image = await loadImage();
    // Words are read first so that text over the background is measured as background, not as product.
    const words = profile.checks.text_overlay ? await this.readWords(image) : [];
    const readable = words ?? [];
    const listing = await this.processor.measureListing(image, {
      ignore: readable.map((word) => textMargin(word.box)),
    });
    const photo = 'photo' in result ? result.photo : null;
    const compliance = evaluateCompliance(
      name,
      profile,
      listing,
      words ? overlayWords(words, listing.productBox) : 'unreadable',
      photo,
      // The tagging engine already ran the face detector on this image; its answer is reused, not recomputed.
      'people' in result ? result.people : undefined,
    );
    const unjudged = photo ? [] : modelCheckIds(profile).map((id) => `compliance.${id}`);
    if (unjudged.length === 0) return { compliance };
    return { compliance, needsGpuTier: [...new Set([...needsGpuTier, ...unjudged])] };
  }
}
