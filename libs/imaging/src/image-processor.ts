import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { ArgusError, type SourceFormat } from '@argus/contracts';
import sharp, { type Sharp, type SharpOptions } from 'sharp';
import { ACCEPTED_MEDIA_TYPES, findCorruptPngChunk, sniffImageFormat } from './image-format';
import { isPlainJpeg } from './jpeg-segments';
import {
  dominantColours,
  measureExposure,
  measureRegionSharpness,
  measureSharpness,
  subjectGrey,
  type ImageMeasurements,
} from './image-measurements';
import {
  analyseListing,
  BACKDROP_TOLERANCE,
  DEFAULT_WHITE_TOLERANCE,
  LISTING_ANALYSIS_LONG_SIDE,
  type ListingMeasurements,
  type ListingOptions,
} from './listing-measurements';
import { GEMMA3_INPUT, modelInputSize, type FamilyTarget } from './model-input';
import { divideByPaper, estimatePaper, stretchContrast } from './ocr-background';

export type OutputMime = 'image/jpeg' | 'image/png';

export interface ImageLimits {
  maxBytes: number;
  maxPixels: number;
  maxLongSide: number;
}

export interface EncodedImage {
  data: Buffer;
  mime: OutputMime;
  width: number;
  height: number;
}

export interface NormalisedImage extends EncodedImage {
  sourceFormat: SourceFormat;
  sourceBytes: number;
  /** Width × height of the first frame as uploaded, before orientation or the cap. */
  sourcePixels: number;
  /** Hex sha256 of the bytes as uploaded, so clients can match results to what they sent. */
  sha256: string;
  timings: { decodeMs: number; normaliseMs: number };
}

/** Engines that take any size (the CPU tier's): cap the long side, pass smaller images through. */
export interface LongSideTarget {
  longSide: number;
  /** Sides shorter than this are padded; defaults to {@link DEFAULT_MIN_SIDE}. */
  minSide?: number;
}

/** Engines with one fixed input (nsfwjs wants 224×224): fit inside the square and pad, never stretch. */
export interface SquareTarget {
  square: number;
}

/**
 * A vision model's own rule ({@link FamilyTarget}, model-input.ts): the image is sent at exactly the size Ollama's
 * processor for that family would make of it, so Ollama never resizes it again.
 */
export type ModelInputTarget = LongSideTarget | SquareTarget | FamilyTarget;

/**
 * How resizeForModel lays the image into the model input: `fill` scales each axis to the family's exact size
 * (qwen2.5vl, qwen3-vl, mllama); `contain` scales both axes by one factor and pads evenly where the shape differs
 * (squares, gemma3's 896², a long side's thin strips).
 */
export type ModelInputFit = 'fill' | 'contain';

export function modelInputFit(target: ModelInputTarget): ModelInputFit {
  return 'family' in target && target.family !== 'gemma3' ? 'fill' : 'contain';
}

/** Packed 8-bit RGB, three bytes per pixel, no padding. */
export interface RawRgbImage {
  data: Buffer;
  width: number;
  height: number;
}

export interface OcrImage {
  /** Grey PNG. */
  data: Buffer;
  /** Output size ÷ input size (after EXIF orientation): divide coordinates by it to map back to the input. */
  scale: number;
  width: number;
  height: number;
}

export interface ImageProbe {
  format: string;
  /** Header dimensions, before any EXIF orientation. */
  width: number;
  height: number;
  hasAlpha: boolean;
  depth?: string;
  orientation?: number;
  hasExif: boolean;
}

/**
 * What a caller already knows of an upright (orientation 1) normalised image, so resizeForModel need not read its
 * header: a worker has these from the task request.
 */
export interface KnownImageFacts {
  width: number;
  height: number;
  /** normalise() writes PNG exactly when there is transparency, so this is `mime === 'image/png'`. */
  hasAlpha: boolean;
}

/** qwen2.5vl rejects any side under 28 px (one vision patch). */
export const DEFAULT_MIN_SIDE = 28;

/**
 * resizeForModel reads bytes that normalise() already produced (at most maxLongSide²), so this
 * limit only stops a wrong reference from making a worker decode something enormous.
 */
const MODEL_INPUT_MAX_PIXELS = 40_000_000;

/**
 * tesseract needs an x-height of roughly 20 px, so an image whose long side is below OCR_UPSCALE_BELOW (small
 * labels, thumbnails of pages) is doubled; OCR_MAX_LONG_SIDE bounds the work for tesseract and for the JS passes.
 */
const OCR_UPSCALE_BELOW = 1600;
const OCR_UPSCALE = 2;
const OCR_MAX_LONG_SIDE = 4000;
/** Sharpness is judged at a fixed scale so the same photo gives the same verdict whatever its upload size. */
const MEASURE_LONG_SIDE = 1024;
/** Colours need area shares, not detail; 4096 pixels keep k-means in the low milliseconds. */
const COLOUR_THUMBNAIL = 64;

const JPEG_QUALITY = 90;
/** libjpeg can scale by 1/8 while decoding, one output pixel per 8×8 DCT block. */
const JPEG_DCT_BLOCK = 8;
const PNG_COMPRESSION = 6;
const PAD_COLOUR = { r: 255, g: 255, b: 255, alpha: 1 };

/** The decoded ≤ {@link MEASURE_LONG_SIDE} px copy that the measurements read. */
export interface MeasureCopy {
  /** Packed RGB, transparency flattened onto white. */
  rgb: Buffer;
  channels: 1 | 2 | 3 | 4;
  width: number;
  height: number;
  grey: Buffer;
  /** The input's upright size. */
  upright: { width: number; height: number };
}

/**
 * RGBA to RGB over white (how shops display a cut-out) plus the alpha channel on its own. sharp's flatten() would
 * lose the alpha, which for a cut-out is the product's mask.
 */
function flattenOntoWhite(rgba: Buffer, pixels: number): { rgb: Buffer; alpha: Uint8Array } {
  const rgb = Buffer.alloc(pixels * 3);
  const alpha = new Uint8Array(pixels);
  for (let i = 0; i < pixels; i++) {
    const a = rgba[i * 4 + 3];
    alpha[i] = a;
    for (let c = 0; c < 3; c++) {
      rgb[i * 3 + c] = Math.round((rgba[i * 4 + c] * a + 255 * (255 - a)) / 255);
    }
  }
  return { rgb, alpha };
}

function hexToRgb(hex: string): { r: number; g: number; b: number } {
  const value = Number.parseInt(hex.slice(1), 16);
  return { r: (value >> 16) & 255, g: (value >> 8) & 255, b: value & 255 };
}

/** Paints boxes (input pixels, scaled to the raw buffer) white, with a 1 px margin for resampling blur. */
function paintWhite(
  data: Buffer,
  width: number,
  height: number,
  boxes: ReadonlyArray<{ x: number; y: number; width: number; height: number }>,
  scale: number,
): void {
  for (const box of boxes) {
    const x0 = Math.max(0, Math.floor(box.x * scale) - 1);
    const y0 = Math.max(0, Math.floor(box.y * scale) - 1);
    const x1 = Math.min(width, Math.ceil((box.x + box.width) * scale) + 1);
    const y1 = Math.min(height, Math.ceil((box.y + box.height) * scale) + 1);
    for (let y = y0; y < y1; y += 1) data.fill(255, (y * width + x0) * 3, (y * width + x1) * 3);
  }
}

function untrusted(limitInputPixels: number): SharpOptions {
  // pages: 1 keeps GIF/TIFF/WebP to their first frame, so an animation cannot multiply the pixel budget.
  return { failOn: 'warning', limitInputPixels, pages: 1, sequentialRead: true };
}

/**
 * Models and browsers handle 8-bit sRGB JPEG/PNG everywhere; CMYK, 16-bit and grey inputs are
 * converted here so nothing downstream has to care. No withMetadata(): sharp then drops EXIF
 * (including GPS) and other metadata.
 */
function encode(pipeline: Sharp, hasAlpha: boolean): { pipeline: Sharp; mime: OutputMime } {
  const srgb = pipeline.toColourspace('srgb');
  return hasAlpha
    ? { pipeline: srgb.png({ compressionLevel: PNG_COMPRESSION }), mime: 'image/png' }
    : { pipeline: srgb.jpeg({ quality: JPEG_QUALITY }), mime: 'image/jpeg' };
}

/**
 * An upload that is already what normalise() would write (upright 8-bit sRGB JPEG within the limits, nothing in it
 * but the picture) is kept byte for byte: re-encoding would cost most of normalise's CPU and a generation of JPEG
 * loss. Grey JPEGs are re-encoded, as normalise() promises sRGB. The size checks come first so a large upload, which
 * is resized anyway, is not walked.
 */
function isAlreadyNormal(input: Uint8Array, header: sharp.Metadata, limits: ImageLimits): boolean {
  return (
    header.format === 'jpeg' &&
    header.width <= limits.maxLongSide &&
    header.height <= limits.maxLongSide &&
    header.channels === 3 &&
    header.depth === 'uchar' &&
    header.space === 'srgb' &&
    (header.orientation === undefined || header.orientation === 1) &&
    header.exif === undefined &&
    header.icc === undefined &&
    header.iptc === undefined &&
    header.xmp === undefined &&
    isPlainJpeg(input)
  );
}

/**
 * A header can be whole while the scans are cut or corrupt, so a kept JPEG is still decoded once, with the same
 * untrusted options as the re-encoding path: libjpeg reports missing or corrupt entropy-coded data as a warning,
 * which failOn: 'warning' turns into an error. Scaling by 1/8 while loading still entropy-decodes every block of
 * every scan (that is where the warnings come from) but skips most of the inverse DCT and colour conversion: a
 * third less CPU than a full-size decode for a 12 MP JPEG.
 */
async function proveJpegDecodes(input: Uint8Array, header: sharp.Metadata, maxPixels: number): Promise<void> {
  await sharp(input, untrusted(maxPixels))
    .resize({
      width: Math.ceil(header.width / JPEG_DCT_BLOCK),
      height: Math.ceil(header.height / JPEG_DCT_BLOCK),
      fit: 'fill',
    })
    .raw()
    .toBuffer();
}

/** The stored image of a plain upload: the upload itself, once a decode has proved it whole. */
async function keptAsUploaded(
  input: Uint8Array,
  header: sharp.Metadata,
  maxPixels: number,
  what: string,
): Promise<EncodedImage> {
  await guard(what, () => proveJpegDecodes(input, header, maxPixels));
  return { data: asBuffer(input), mime: 'image/jpeg', width: header.width, height: header.height };
}

/** The stored image of any other upload: EXIF orientation applied, long side capped, metadata gone, re-encoded. */
async function reencoded(
  input: Uint8Array,
  header: sharp.Metadata,
  limits: ImageLimits,
  what: string,
): Promise<EncodedImage> {
  const { pipeline, mime } = encode(
    sharp(input, untrusted(limits.maxPixels)).rotate().resize({
      width: limits.maxLongSide,
      height: limits.maxLongSide,
      fit: 'inside',
      withoutEnlargement: true,
    }),
    header.hasAlpha,
  );
  const { data, info } = await guard(what, () => pipeline.toBuffer({ resolveWithObject: true }));
  return { data, mime, width: info.width, height: info.height };
}

/** The same bytes as a Buffer, without a copy. */
function asBuffer(input: Uint8Array): Buffer {
  return Buffer.from(input.buffer, input.byteOffset, input.byteLength);
}

function toArgusError(error: unknown, what: string): ArgusError {
  if (ArgusError.is(error)) return error;
  const reason = error instanceof Error ? error.message : String(error);
  // libjpeg refuses a side over 65500 px while reading the header ("Maximum supported image dimension is 65500
  // pixels"): an absurd size declared in the SOF segment is a too-large image, not a broken one.
  if (reason.includes('pixel limit') || reason.includes('Maximum supported image dimension')) {
    return new ArgusError('IMAGE_TOO_LARGE', `The ${what} has more pixels than allowed`);
  }
  // libvips' reason helps whoever reads the logs; the client gets a fixed sentence.
  const firstLine = reason.split('\n', 1)[0] ?? '';
  return new ArgusError('IMAGE_DECODE_FAILED', `The ${what} could not be decoded`, {
    reason: firstLine.slice(0, 200),
  });
}

async function guard<T>(what: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw toArgusError(error, what);
  }
}

function greyRaw(data: Buffer, width: number, height: number): Sharp {
  return sharp(data, { raw: { width, height, channels: 1 } });
}

function assertPositiveSide(value: number, name: string): void {
  if (!Number.isInteger(value) || value < 1)
    throw new RangeError(`${name} must be a positive integer, got ${value}`);
}

/** The one adapter over sharp: every image decode, resize and encode in Argus goes through here. */
export class ImageProcessor {
  /**
   * Validates an upload and turns it into what every worker can rely on: an accepted type within
   * the limits, EXIF orientation applied, metadata gone, long side capped, 8-bit sRGB JPEG (or PNG
   * when there is transparency to keep).
   */
  async normalise(
    input: Uint8Array,
    limits: ImageLimits,
    /** The caller's hash of `input`, when it already has one, so a large upload is not hashed twice. */
    knownSha256?: string,
  ): Promise<NormalisedImage> {
    if (input.length === 0) throw new ArgusError('IMAGE_DECODE_FAILED', 'The image is empty');
    if (input.length > limits.maxBytes) {
      throw new ArgusError(
        'IMAGE_TOO_LARGE',
        `The image is ${input.length} bytes; the limit is ${limits.maxBytes} bytes`,
        { bytes: input.length, maxBytes: limits.maxBytes },
      );
    }
    const sourceFormat = sniffImageFormat(input);
    if (sourceFormat === null) {
      throw new ArgusError(
        'UNSUPPORTED_MEDIA_TYPE',
        `The image type is not supported; send one of ${ACCEPTED_MEDIA_TYPES.join(', ')}`,
        { accepted: [...ACCEPTED_MEDIA_TYPES] },
      );
    }
    const what = `${sourceFormat} image`;
    const corruptChunk = sourceFormat === 'png' ? findCorruptPngChunk(input) : null;
    if (corruptChunk !== null) {
      throw new ArgusError('IMAGE_DECODE_FAILED', `The ${what} could not be decoded`, {
        reason: `${corruptChunk} chunk fails its CRC check`,
      });
    }

    const decodeStart = performance.now();
    // The header read skips limitInputPixels on purpose: it allocates no pixels, and sharp's own
    // check would throw a message without the numbers. The decode below keeps the limit.
    const header = await guard(what, () =>
      sharp(input, { failOn: 'warning', limitInputPixels: false, pages: 1 }).metadata(),
    );
    const decodeMs = performance.now() - decodeStart;

    const pixels = header.width * header.height;
    if (pixels > limits.maxPixels) {
      throw new ArgusError(
        'IMAGE_TOO_LARGE',
        `The image is ${header.width}x${header.height} = ${pixels} pixels; the limit is ${limits.maxPixels} pixels`,
        { width: header.width, height: header.height, pixels, maxPixels: limits.maxPixels },
      );
    }

    const normaliseStart = performance.now();
    const stored = isAlreadyNormal(input, header, limits)
      ? await keptAsUploaded(input, header, limits.maxPixels, what)
      : await reencoded(input, header, limits, what);
    return {
      ...stored,
      sourceFormat,
      sourceBytes: input.length,
      sourcePixels: pixels,
      sha256: knownSha256 ?? this.sha256(input),
      timings: { decodeMs, normaliseMs: performance.now() - normaliseStart },
    };
  }

  /**
   * Resizes a normalised image to the size a model wants. For a model family's rule that is the size Ollama's own
   * processor would produce (modelInputSize), reached in one exact resize; for a long side, extreme strips are padded
   * rather than stretched so the engine still sees true proportions. A caller that already knows the image's facts
   * (a worker, from the task request) passes them as `known` and saves the header read.
   */
  async resizeForModel(
    input: Uint8Array,
    target: ModelInputTarget,
    known?: KnownImageFacts,
  ): Promise<EncodedImage> {
    const source = known ? fromKnownFacts(known) : await readModelSource(input);
    if ('family' in target) return this.resizeForFamily(input, target, source);
    if ('square' in target) return this.resizeToSquare(input, target.square, source);
    const minSide = target.minSide ?? DEFAULT_MIN_SIDE;
    const passThrough = asIs(
      input,
      source,
      (width, height) => Math.max(width, height) <= target.longSide && Math.min(width, height) >= minSide,
    );
    if (passThrough) return passThrough;
    // One decode-resize-encode pass; only a strip thinner than minSide (rare) needs a second pass for padding.
    const { pipeline, mime } = encode(
      sharp(input, untrusted(MODEL_INPUT_MAX_PIXELS))
        .rotate()
        .resize({ width: target.longSide, height: target.longSide, fit: 'inside', withoutEnlargement: true }),
      source.hasAlpha,
    );
    const resized = await guard('image', () => pipeline.toBuffer({ resolveWithObject: true }));
    const { width, height } = resized.info;
    if (width >= minSide && height >= minSide) return { data: resized.data, mime, width, height };
    const padX = Math.max(0, minSide - width);
    const padY = Math.max(0, minSide - height);
    const padded = encode(
      sharp(resized.data).extend({
        left: Math.floor(padX / 2),
        right: Math.ceil(padX / 2),
        top: Math.floor(padY / 2),
        bottom: Math.ceil(padY / 2),
        background: PAD_COLOUR,
      }),
      source.hasAlpha,
    );
    const { data, info } = await guard('image', () => padded.pipeline.toBuffer({ resolveWithObject: true }));
    return { data, mime: padded.mime, width: info.width, height: info.height };
  }

  /**
   * qwen2.5vl and qwen3-vl: exactly the SmartResize size (`fit: 'fill'`; the aspect ratio moves by at most the rounding
   * to 28 or 32 px, as it does inside Ollama). mllama: the size its tiled canvas fits, or the image as it is when
   * Ollama would only enlarge it. gemma3: 896² padded with white, as for a square target; Ollama itself would stretch
   * the image to 896², which keeps the size but not the proportions.
   */
  private async resizeForFamily(
    input: Uint8Array,
    target: FamilyTarget,
    source: ModelInputSource,
  ): Promise<EncodedImage> {
    if (target.family === 'gemma3') return this.resizeToSquare(input, GEMMA3_INPUT.side, source);
    // EXIF orientations 5-8 swap the sides; the model sees the upright image.
    const swapped = source.orientation >= 5;
    const upright = swapped
      ? { width: source.height, height: source.width }
      : { width: source.width, height: source.height };
    const size = modelInputSize(target, upright.width, upright.height);
    const passThrough = asIs(
      input,
      source,
      (width, height) => width === size.width && height === size.height,
    );
    if (passThrough) return passThrough;
    const { pipeline, mime } = encode(
      sharp(input, untrusted(MODEL_INPUT_MAX_PIXELS))
        .rotate()
        .resize({ width: size.width, height: size.height, fit: 'fill' }),
      source.hasAlpha,
    );
    const { data, info } = await guard('image', () => pipeline.toBuffer({ resolveWithObject: true }));
    return { data, mime, width: info.width, height: info.height };
  }

  /**
   * Scales the image to fit inside side×side, enlarging small images as the model's own preprocessor would, and
   * pads with white so the model sees the true proportions instead of a stretched picture.
   */
  private async resizeToSquare(
    input: Uint8Array,
    side: number,
    source: ModelInputSource,
  ): Promise<EncodedImage> {
    const passThrough = asIs(input, source, (width, height) => width === side && height === side);
    if (passThrough) return passThrough;
    const { pipeline, mime } = encode(
      sharp(input, untrusted(MODEL_INPUT_MAX_PIXELS))
        .rotate()
        .resize({ width: side, height: side, fit: 'contain', background: PAD_COLOUR }),
      source.hasAlpha,
    );
    const { data, info } = await guard('image', () => pipeline.toBuffer({ resolveWithObject: true }));
    return { data, mime, width: info.width, height: info.height };
  }

  /**
   * Exactly size×size packed RGB for classifiers with a fixed input (nsfwjs wants 224²). The image is stretched,
   * not padded, because that is how such classifiers were trained; transparency is flattened onto white.
   */
  async toRawRgb(input: Uint8Array, size: number): Promise<RawRgbImage> {
    assertPositiveSide(size, 'size');
    const { data, info } = await guard('image', () =>
      sharp(input, untrusted(MODEL_INPUT_MAX_PIXELS))
        .rotate()
        .resize({ width: size, height: size, fit: 'fill' })
        .flatten({ background: PAD_COLOUR })
        .toColourspace('srgb')
        .raw()
        .toBuffer({ resolveWithObject: true }),
    );
    if (info.channels !== 3) throw new Error(`expected 3 channels of RGB, got ${info.channels}`);
    return { data, width: info.width, height: info.height };
  }

  /**
   * Upright packed RGB, transparency flattened onto white, long side capped at maxLongSide and never enlarged: for
   * engines that do their own normalisation (PaddleOCR). Divide coordinates by `scale` to map back to the input.
   */
  async toUprightRgb(input: Uint8Array, maxLongSide: number): Promise<RawRgbImage & { scale: number }> {
    assertPositiveSide(maxLongSide, 'maxLongSide');
    const header = await guard('image', () => sharp(input, { pages: 1 }).metadata());
    const { data, info } = await guard('image', () =>
      sharp(input, untrusted(MODEL_INPUT_MAX_PIXELS))
        .rotate()
        .flatten({ background: PAD_COLOUR })
        .resize({ width: maxLongSide, height: maxLongSide, fit: 'inside', withoutEnlargement: true })
        .toColourspace('srgb')
        .raw()
        .toBuffer({ resolveWithObject: true }),
    );
    if (info.channels !== 3) throw new Error(`expected 3 channels of RGB, got ${info.channels}`);
    return { data, width: info.width, height: info.height, scale: info.width / header.autoOrient.width };
  }

  /**
   * Grey, evenly lit, contrast-stretched and, when small, enlarged: what tesseract reads best. Steps:
   * 1. grey and scale (×2 below {@link OCR_UPSCALE_BELOW} px, long side capped at {@link OCR_MAX_LONG_SIDE});
   * 2. estimate the blank paper per tile ({@link estimatePaper}), and whether the ink is lighter than the paper;
   * 3. divide by the smoothed paper estimate, so shadows and lighting gradients vanish and ink is always dark;
   * 4. stretch the levels over the full grey range, as normalise() would.
   */
  async prepareForOcr(input: Uint8Array): Promise<OcrImage> {
    const header = await guard('image', () => sharp(input, { pages: 1 }).metadata());
    const { width: sourceWidth, height: sourceHeight } = header.autoOrient;
    const longSide = Math.max(sourceWidth, sourceHeight);
    const scale = Math.min(longSide < OCR_UPSCALE_BELOW ? OCR_UPSCALE : 1, OCR_MAX_LONG_SIDE / longSide);
    const width = Math.max(1, Math.round(sourceWidth * scale));
    const height = Math.max(1, Math.round(sourceHeight * scale));

    const grey = await guard('image', () =>
      sharp(input, untrusted(MODEL_INPUT_MAX_PIXELS))
        .rotate()
        .flatten({ background: PAD_COLOUR })
        .resize({ width, height, fit: 'fill', kernel: 'cubic' })
        .toColourspace('b-w')
        .raw()
        .toBuffer(),
    );
    const estimate = estimatePaper(grey, width, height);
    const paper = await greyRaw(Buffer.from(estimate.paper), estimate.columns, estimate.rows)
      // Smooths tile edges so the division leaves no seams; the linear resize cannot overshoot below the floor.
      .blur(1)
      .resize({ width, height, fit: 'fill', kernel: 'linear' })
      .toColourspace('b-w')
      .raw()
      .toBuffer();
    const flat = divideByPaper(grey, paper, estimate.inverted);
    stretchContrast(flat);
    const data = await greyRaw(flat, width, height)
      .toColourspace('b-w')
      .png({ compressionLevel: 1 })
      .toBuffer();
    return { data, scale, width, height };
  }

  /**
   * Listing-quality facts that need no model: oriented size, dominant colours with palette names, exposure and
   * sharpness. Transparent areas count as white, which is how shops display cut-out product images. A caller that
   * also measures the listing passes the same decoded copy to both (see {@link decodeForMeasurement}).
   */
  measure(input: Uint8Array, copy?: Promise<MeasureCopy>): Promise<ImageMeasurements> {
    return this.measureOnce(copy ?? this.decodeForMeasurement(input));
  }

  /** The ≤ 1024 px copy measure() and measureListing() read (for sharpness and exposure); decode it once per image. */
  decodeForMeasurement(input: Uint8Array): Promise<MeasureCopy> {
    return this.decodeMeasureCopy(input);
  }

  private async decodeMeasureCopy(input: Uint8Array): Promise<MeasureCopy> {
    const header = await guard('image', () => sharp(input, { pages: 1 }).metadata());
    const decoded = await guard('image', () =>
      sharp(input, untrusted(MODEL_INPUT_MAX_PIXELS))
        .rotate()
        .resize({
          width: MEASURE_LONG_SIDE,
          height: MEASURE_LONG_SIDE,
          fit: 'inside',
          withoutEnlargement: true,
        })
        .flatten({ background: PAD_COLOUR })
        .toColourspace('srgb')
        .raw()
        .toBuffer({ resolveWithObject: true }),
    );
    const { width, height, channels } = decoded.info;
    const grey = await sharp(decoded.data, { raw: { width, height, channels } })
      .toColourspace('b-w')
      .raw()
      .toBuffer();
    return { rgb: decoded.data, channels, width, height, grey, upright: header.autoOrient };
  }

  private async measureOnce(decoded: Promise<MeasureCopy>): Promise<ImageMeasurements> {
    const { rgb, channels, width, height, grey, upright } = await decoded;
    // stats() would read the original input, not this pipeline's output, so pixels are computed from raw buffers.
    const thumbnail = await sharp(rgb, { raw: { width, height, channels } })
      .resize({ width: COLOUR_THUMBNAIL, height: COLOUR_THUMBNAIL, fit: 'fill' })
      .toColourspace('srgb')
      .raw()
      .toBuffer();
    return {
      width: upright.width,
      height: upright.height,
      dominantColours: dominantColours(thumbnail),
      exposure: measureExposure(grey),
      sharpness: measureSharpness(grey, width, height),
    };
  }

  /**
   * Deterministic listing-photo checks (backdrop, white background share, product box and fill ratio, added frame)
   * on an upright copy downscaled to {@link LISTING_ANALYSIS_LONG_SIDE} px with a linear kernel (no ringing at hard
   * edges), transparency flattened onto white and the alpha channel kept as the cut-out's mask; boxes and widths come
   * back in pixels of the upright input. The product's sharpness is measured on its box in the ≤ 1024 px copy that
   * measure() uses.
   */
  async measureListing(
    input: Uint8Array,
    options?: ListingOptions,
    measureCopy?: Promise<MeasureCopy>,
  ): Promise<ListingMeasurements> {
    const header = await guard('image', () => sharp(input, { pages: 1 }).metadata());
    const { data, info } = await guard('image', () =>
      sharp(input, untrusted(MODEL_INPUT_MAX_PIXELS))
        .rotate()
        .resize({
          width: LISTING_ANALYSIS_LONG_SIDE,
          height: LISTING_ANALYSIS_LONG_SIDE,
          fit: 'inside',
          withoutEnlargement: true,
          kernel: 'linear',
        })
        .toColourspace('srgb')
        .ensureAlpha()
        .raw()
        .toBuffer({ resolveWithObject: true }),
    );
    if (info.channels !== 4) throw new Error(`expected 4 channels of RGBA, got ${info.channels}`);
    const { rgb, alpha } = flattenOntoWhite(data, info.width * info.height);
    const upright = header.autoOrient;
    paintWhite(rgb, info.width, info.height, options?.ignore ?? [], info.width / upright.width);
    const analysis = analyseListing(
      { data: rgb, width: info.width, height: info.height, ...(header.hasAlpha ? { alpha } : {}) },
      upright,
      options,
    );
    // Sharpness and exposure are judged on the product, in the copy measure() reads.
    const copy = await (measureCopy ?? this.decodeForMeasurement(input));
    const scale = copy.width / upright.width;
    const box = analysis.productBox;
    const backdrop = analysis.backdrop.hex === null ? null : hexToRgb(analysis.backdrop.hex);
    if (!box || !backdrop) {
      return {
        ...analysis,
        sharpness: measureSharpness(copy.grey, copy.width, copy.height),
        exposure: measureExposure(copy.grey),
      };
    }
    const region = {
      x: box.x * scale,
      y: box.y * scale,
      width: box.width * scale,
      height: box.height * scale,
    };
    const inside = {
      x0: Math.max(0, Math.floor(region.x)),
      y0: Math.max(0, Math.floor(region.y)),
      x1: Math.min(copy.width, Math.ceil(region.x + region.width)),
      y1: Math.min(copy.height, Math.ceil(region.y + region.height)),
    };
    const tolerance = Math.max(options?.whiteTolerance ?? DEFAULT_WHITE_TOLERANCE, BACKDROP_TOLERANCE);
    const subject = subjectGrey(copy.rgb, copy.grey, copy.width, inside, backdrop, tolerance);
    return {
      ...analysis,
      sharpness: measureRegionSharpness(copy.grey, copy.width, copy.height, region),
      exposure: measureExposure(copy.grey, subject),
    };
  }

  /**
   * A small synthetic label (dark text on white) for warming engines at start, so the first real request does not
   * pay for code paths that run for the first time. Text keeps tesseract's warm-up short; a texture would not.
   */
  async sample(): Promise<Buffer> {
    const svg =
      '<svg xmlns="http://www.w3.org/2000/svg" width="480" height="120"><rect width="100%" height="100%" fill="#fff"/>' +
      '<text x="24" y="76" font-family="DejaVu Sans, sans-serif" font-size="48" fill="#111">ARGUS 2026</text></svg>';
    return sharp(Buffer.from(svg)).jpeg({ quality: 90 }).toBuffer();
  }

  /** Header facts, for checking what a model was actually sent. */
  async probe(input: Uint8Array): Promise<ImageProbe> {
    const meta = await guard('image', () => sharp(input, { pages: 1 }).metadata());
    return {
      format: meta.format,
      width: meta.width,
      height: meta.height,
      hasAlpha: meta.hasAlpha,
      depth: meta.depth,
      orientation: meta.orientation,
      hasExif: meta.exif !== undefined,
    };
  }

  sha256(input: Uint8Array): string {
    return createHash('sha256').update(input).digest('hex');
  }
}

/**
 * What resizeForModel needs to know of its input before the real pipeline: the header size (before EXIF
 * orientation), the orientation, transparency, and whether the bytes could go to a model as they are.
 */
interface ModelInputSource {
  width: number;
  height: number;
  orientation: number;
  hasAlpha: boolean;
  /** Set only for a plain 8-bit sRGB JPEG or PNG without EXIF or ICC, the kind a model may be sent unchanged. */
  plainMime?: OutputMime;
}

async function readModelSource(input: Uint8Array): Promise<ModelInputSource> {
  const meta = await guard('image', () => sharp(input, { pages: 1 }).metadata());
  const mime = meta.format === 'jpeg' ? 'image/jpeg' : meta.format === 'png' ? 'image/png' : undefined;
  const plain =
    meta.depth === 'uchar' && meta.space === 'srgb' && meta.exif === undefined && meta.icc === undefined;
  return {
    width: meta.width,
    height: meta.height,
    orientation: meta.orientation ?? 1,
    hasAlpha: meta.hasAlpha,
    ...(plain && mime ? { plainMime: mime } : {}),
  };
}

/**
 * normalise() only ever stores upright, metadata-free 8-bit sRGB images, PNG exactly when there is transparency, so
 * the facts it reported stand in for the header.
 */
function fromKnownFacts(known: KnownImageFacts): ModelInputSource {
  return {
    width: known.width,
    height: known.height,
    orientation: 1,
    hasAlpha: known.hasAlpha,
    plainMime: known.hasAlpha ? 'image/png' : 'image/jpeg',
  };
}

/**
 * The input itself as the model input, when it already is one: a plain upright 8-bit sRGB JPEG or PNG without
 * metadata, of a size `fitsModel` accepts; undefined otherwise. normalise() already wrote such an image, so when it
 * also fits the model, decoding and re-encoding it would only cost time (about 15 ms for 1024×768) and a generation
 * of JPEG loss.
 */
function asIs(
  input: Uint8Array,
  source: ModelInputSource,
  fitsModel: (width: number, height: number) => boolean,
): EncodedImage | undefined {
  if (!source.plainMime || source.orientation !== 1 || !fitsModel(source.width, source.height))
    return undefined;
  return {
    data: asBuffer(input),
    mime: source.plainMime,
    width: source.width,
    height: source.height,
  };
}
