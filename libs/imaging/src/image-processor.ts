import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Injectable } from '@nestjs/common';
import { ArgusError, type SourceFormat } from '@argus/contracts';
import sharp, { type Sharp, type SharpOptions } from 'sharp';
import { ACCEPTED_MEDIA_TYPES, sniffImageFormat } from './image-format';

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

export interface ModelInputTarget {
  longSide: number;
  /** Sides shorter than this are padded; defaults to {@link DEFAULT_MIN_SIDE}. */
  minSide?: number;
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

/** qwen2.5vl rejects any side under 28 px (one vision patch). */
export const DEFAULT_MIN_SIDE = 28;

/**
 * resizeForModel reads bytes that normalise() already produced (at most maxLongSide²), so this
 * limit only stops a wrong reference from making a worker decode something enormous.
 */
const MODEL_INPUT_MAX_PIXELS = 40_000_000;

const JPEG_QUALITY = 90;
const PNG_COMPRESSION = 6;
const PAD_COLOUR = { r: 255, g: 255, b: 255, alpha: 1 };

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

function toArgusError(error: unknown, what: string): ArgusError {
  if (ArgusError.is(error)) return error;
  const reason = error instanceof Error ? error.message : String(error);
  if (reason.includes('pixel limit')) {
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

/** The one adapter over sharp: every image decode, resize and encode in Argus goes through here. */
@Injectable()
export class ImageProcessor {
  /**
   * Validates an upload and turns it into what every worker can rely on: an accepted type within
   * the limits, EXIF orientation applied, metadata gone, long side capped, 8-bit sRGB JPEG (or PNG
   * when there is transparency to keep).
   */
  async normalise(input: Uint8Array, limits: ImageLimits): Promise<NormalisedImage> {
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
    const normaliseMs = performance.now() - normaliseStart;

    return {
      data,
      mime,
      width: info.width,
      height: info.height,
      sourceFormat,
      sourceBytes: input.length,
      sourcePixels: pixels,
      sha256: this.sha256(input),
      timings: { decodeMs, normaliseMs },
    };
  }

  /**
   * Shrinks a normalised image to the size a model wants. Extreme strips are padded rather than
   * stretched so the model still sees true proportions.
   */
  async resizeForModel(input: Uint8Array, target: ModelInputTarget): Promise<EncodedImage> {
    const minSide = target.minSide ?? DEFAULT_MIN_SIDE;
    const passThrough = await this.fitsAlready(input, target.longSide, minSide);
    if (passThrough) return passThrough;
    // Resizing to raw first gives the exact size sharp chose, so the padding is computed from
    // facts rather than by re-implementing sharp's rounding.
    const resized = await guard('image', () =>
      sharp(input, untrusted(MODEL_INPUT_MAX_PIXELS))
        .rotate()
        .resize({ width: target.longSide, height: target.longSide, fit: 'inside', withoutEnlargement: true })
        .toColourspace('srgb')
        .raw()
        .toBuffer({ resolveWithObject: true }),
    );
    const { width, height, channels } = resized.info;
    const padX = Math.max(0, minSide - width);
    const padY = Math.max(0, minSide - height);

    let raw = sharp(resized.data, { raw: { width, height, channels } });
    if (padX > 0 || padY > 0) {
      raw = raw.extend({
        left: Math.floor(padX / 2),
        right: Math.ceil(padX / 2),
        top: Math.floor(padY / 2),
        bottom: Math.ceil(padY / 2),
        background: PAD_COLOUR,
      });
    }
    const { pipeline, mime } = encode(raw, channels === 4);
    const { data, info } = await guard('image', () => pipeline.toBuffer({ resolveWithObject: true }));
    return { data, mime, width: info.width, height: info.height };
  }

  /**
   * normalise() already wrote a clean, upright JPEG or PNG; when it also fits the model, decoding and re-encoding it
   * would only cost time (about 15 ms for 1024×768) and a generation of JPEG loss.
   */
  private async fitsAlready(
    input: Uint8Array,
    longSide: number,
    minSide: number,
  ): Promise<EncodedImage | undefined> {
    const meta = await guard('image', () => sharp(input, { pages: 1 }).metadata());
    const mime = meta.format === 'jpeg' ? 'image/jpeg' : meta.format === 'png' ? 'image/png' : undefined;
    const upright = meta.orientation === undefined || meta.orientation === 1;
    const fits =
      Math.max(meta.width, meta.height) <= longSide && Math.min(meta.width, meta.height) >= minSide;
    const plain =
      meta.depth === 'uchar' && meta.space === 'srgb' && meta.exif === undefined && meta.icc === undefined;
    if (!mime || !upright || !fits || !plain) return undefined;
    return {
      data: Buffer.from(input.buffer, input.byteOffset, input.byteLength),
      mime,
      width: meta.width,
      height: meta.height,
    };
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
