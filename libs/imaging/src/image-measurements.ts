import { deltaE, nearestColourName, rgbToHex, rgbToLab, type Lab } from './colour-names';

export interface DominantColour {
  /** The nearest word of {@link COLOUR_PALETTE}. */
  name: string;
  /** The cluster's mean colour, lowercase `#rrggbb`. */
  hex: string;
  /** Share of the image's area, 0–1. */
  share: number;
}

export type ExposureVerdict = 'under' | 'ok' | 'over';
export type SharpnessVerdict = 'blurry' | 'ok';

export interface ExposureMeasurement {
  /** Mean grey level, 0–1. */
  meanLuminance: number;
  /** Share of pixels at or below 2 % grey. */
  shadowsClipped: number;
  /** Share of pixels at or above 98 % grey. */
  highlightsClipped: number;
  verdict: ExposureVerdict;
}

export interface SharpnessMeasurement {
  laplacianVariance: number;
  verdict: SharpnessVerdict;
}

export interface ImageMeasurements {
  width: number;
  height: number;
  dominantColours: DominantColour[];
  exposure: ExposureMeasurement;
  sharpness: SharpnessMeasurement;
}

/** Colours covering less of the image than this are detail, not "the colour of the product". */
export const MIN_COLOUR_SHARE = 0.03;
export const MAX_COLOURS = 5;

/**
 * Below this variance of the Laplacian (see {@link laplacianVariance}; grey 0–255, long side ≤ 1024 px) an image
 * counts as blurry. 100 is the value commonly used with OpenCV's identical kernel on whole photos.
 */
export const BLUR_THRESHOLD = 100;

/**
 * Exposure verdicts. Brightness alone misleads: a page of black text on white paper averages above 90 % grey, and
 * packshots sit on pure white or pure black on purpose. What marks a washed-out (or crushed) photo is that, besides
 * being bright (or dark) overall or heavily clipped, it has almost no tones on the other side of mid-grey.
 */
export const EXPOSURE_RULES = {
  /** Mean luminance at or below which an image is dark overall. */
  darkMean: 0.25,
  /** Mean luminance at or above which an image is bright overall. */
  brightMean: 0.75,
  /** Share of clipped pixels that is heavy clipping. */
  clippedShare: 0.25,
  /** At most this share of pixels on the far side of mid-grey for a dark or bright image to be badly exposed. */
  oppositeShare: 0.02,
} as const;

const SEED_BITS = 4;
const MAX_CLUSTERS = 8;
/** Seeds closer than this would split one colour into two shades. */
const SEED_SEPARATION = 12;
/** Clusters that end up closer than this are the same colour to a shopper, so they are merged. */
const MERGE_DISTANCE = 10;
const MAX_ITERATIONS = 20;

interface Cluster {
  lab: Lab;
  rgb: [number, number, number];
  count: number;
}

/**
 * Dominant colours of packed 8-bit RGB pixels (a small thumbnail: the work is O(pixels × clusters)). k-means in
 * CIELAB, seeded deterministically from the most populated cells of a coarse RGB histogram, so the same image
 * always gives the same answer and seeds start on real colours rather than on outliers.
 */
export function dominantColours(rgb: Uint8Array): DominantColour[] {
  const pixels = Math.floor(rgb.length / 3);
  if (pixels === 0) return [];
  const labs = new Float64Array(pixels * 3);
  const bins = new Uint32Array(pixels);
  const binCount = new Map<number, number>();
  const shift = 8 - SEED_BITS;
  for (let i = 0; i < pixels; i++) {
    const r = rgb[i * 3];
    const g = rgb[i * 3 + 1];
    const b = rgb[i * 3 + 2];
    const lab = rgbToLab({ r, g, b });
    labs[i * 3] = lab.l;
    labs[i * 3 + 1] = lab.a;
    labs[i * 3 + 2] = lab.b;
    const bin = ((r >> shift) << (2 * SEED_BITS)) | ((g >> shift) << SEED_BITS) | (b >> shift);
    bins[i] = bin;
    binCount.set(bin, (binCount.get(bin) ?? 0) + 1);
  }

  const seeds = seedCentres(labs, bins, binCount);
  const assignment = new Int32Array(pixels).fill(-1);
  let clusters: Cluster[] = seeds.map((lab) => ({ lab, rgb: [0, 0, 0], count: 0 }));
  for (let iteration = 0; iteration < MAX_ITERATIONS; iteration++) {
    let changed = false;
    for (let i = 0; i < pixels; i++) {
      const nearest = nearestCluster(labs, i, clusters);
      if (nearest !== assignment[i]) {
        assignment[i] = nearest;
        changed = true;
      }
    }
    const next = recompute(rgb, labs, assignment, clusters.length);
    clusters = next.filter((c) => c.count > 0);
    // A centre that attracted no pixel is dropped; indices shift, so every pixel is assigned afresh.
    if (clusters.length !== next.length) assignment.fill(-1);
    else if (!changed) break;
  }

  return mergeClose(clusters)
    .map((c) => ({ ...c, share: c.count / pixels }))
    .filter((c) => c.share >= MIN_COLOUR_SHARE)
    .sort((p, q) => q.share - p.share || p.lab.l - q.lab.l)
    .slice(0, MAX_COLOURS)
    .map((c) => {
      const mean = { r: c.rgb[0] / c.count, g: c.rgb[1] / c.count, b: c.rgb[2] / c.count };
      return { name: nearestColourName(mean), hex: rgbToHex(mean), share: round(c.share, 3) };
    });
}

function seedCentres(labs: Float64Array, bins: Uint32Array, binCount: Map<number, number>): Lab[] {
  // Most populated first; the bin number breaks ties so Map order never matters.
  const ranked = [...binCount.entries()].sort((p, q) => q[1] - p[1] || p[0] - q[0]);
  const sums = new Map<number, [number, number, number]>();
  for (let i = 0; i < bins.length; i++) {
    const sum = sums.get(bins[i]) ?? [0, 0, 0];
    sum[0] += labs[i * 3];
    sum[1] += labs[i * 3 + 1];
    sum[2] += labs[i * 3 + 2];
    sums.set(bins[i], sum);
  }
  const seeds: Lab[] = [];
  for (const [bin, count] of ranked) {
    const sum = sums.get(bin);
    if (!sum) continue;
    const lab = { l: sum[0] / count, a: sum[1] / count, b: sum[2] / count };
    if (seeds.every((seed) => deltaE(seed, lab) >= SEED_SEPARATION)) seeds.push(lab);
    if (seeds.length === MAX_CLUSTERS) break;
  }
  return seeds;
}

function nearestCluster(labs: Float64Array, i: number, clusters: Cluster[]): number {
  let best = 0;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (let c = 0; c < clusters.length; c++) {
    const { lab } = clusters[c];
    const dl = labs[i * 3] - lab.l;
    const da = labs[i * 3 + 1] - lab.a;
    const db = labs[i * 3 + 2] - lab.b;
    const distance = dl * dl + da * da + db * db;
    if (distance < bestDistance) {
      best = c;
      bestDistance = distance;
    }
  }
  return best;
}

function recompute(rgb: Uint8Array, labs: Float64Array, assignment: Int32Array, k: number): Cluster[] {
  const clusters: Cluster[] = Array.from({ length: k }, () => ({
    lab: { l: 0, a: 0, b: 0 },
    rgb: [0, 0, 0],
    count: 0,
  }));
  for (let i = 0; i < assignment.length; i++) {
    const c = clusters[assignment[i]];
    c.lab.l += labs[i * 3];
    c.lab.a += labs[i * 3 + 1];
    c.lab.b += labs[i * 3 + 2];
    c.rgb[0] += rgb[i * 3];
    c.rgb[1] += rgb[i * 3 + 1];
    c.rgb[2] += rgb[i * 3 + 2];
    c.count++;
  }
  for (const c of clusters) {
    if (c.count === 0) continue;
    c.lab = { l: c.lab.l / c.count, a: c.lab.a / c.count, b: c.lab.b / c.count };
  }
  return clusters;
}

function mergeClose(clusters: Cluster[]): Cluster[] {
  const merged = [...clusters];
  for (;;) {
    let pair: [number, number] | undefined;
    let closest = MERGE_DISTANCE;
    for (let i = 0; i < merged.length; i++) {
      for (let j = i + 1; j < merged.length; j++) {
        const distance = deltaE(merged[i].lab, merged[j].lab);
        if (distance < closest) {
          closest = distance;
          pair = [i, j];
        }
      }
    }
    if (!pair) return merged;
    const [p, q] = [merged[pair[0]], merged[pair[1]]];
    const count = p.count + q.count;
    const mix = (x: number, y: number) => (x * p.count + y * q.count) / count;
    merged[pair[0]] = {
      lab: { l: mix(p.lab.l, q.lab.l), a: mix(p.lab.a, q.lab.a), b: mix(p.lab.b, q.lab.b) },
      rgb: [p.rgb[0] + q.rgb[0], p.rgb[1] + q.rgb[1], p.rgb[2] + q.rgb[2]],
      count,
    };
    merged.splice(pair[1], 1);
  }
}

/**
 * Exposure of 8-bit grey pixels; see {@link EXPOSURE_RULES} for how the verdict is reached. With `subject` (the grey
 * levels of the product's own pixels, backdrop left out), "almost no tones on the other side of mid-grey" is judged
 * on the product: a thin dark tool on a wide white field covers under 2 % of the frame, yet it is the product, and it
 * has its dark tones; a blown-out product has none left, whatever its share of the frame. The mean and the clipped
 * shares are always the whole photo's.
 */
export function measureExposure(grey: Uint8Array, subject?: Uint8Array): ExposureMeasurement {
  const n = grey.length;
  if (n === 0) return { meanLuminance: 0, shadowsClipped: 0, highlightsClipped: 0, verdict: 'ok' };
  // 2 % and 98 % of 255 fall between integer levels, so "at or below 2 %" is ≤ 5 and "at or above 98 %" is ≥ 250.
  const shadowLevel = Math.floor(0.02 * 255);
  const highlightLevel = Math.ceil(0.98 * 255);
  let sum = 0;
  let shadows = 0;
  let highlights = 0;
  for (let i = 0; i < n; i++) {
    const v = grey[i];
    sum += v;
    if (v <= shadowLevel) shadows++;
    if (v >= highlightLevel) highlights++;
  }
  const judged = subject && subject.length > 0 ? subject : grey;
  let belowMid = 0;
  for (const v of judged) if (v < 128) belowMid++;
  const belowShare = belowMid / judged.length;
  const aboveShare = 1 - belowShare;
  const meanLuminance = sum / n / 255;
  const rules = EXPOSURE_RULES;
  let verdict: ExposureVerdict = 'ok';
  const dark = meanLuminance <= rules.darkMean || shadows / n >= rules.clippedShare;
  const bright = meanLuminance >= rules.brightMean || highlights / n >= rules.clippedShare;
  if (dark && aboveShare <= rules.oppositeShare) verdict = 'under';
  else if (bright && belowShare <= rules.oppositeShare) verdict = 'over';
  return {
    meanLuminance: round(meanLuminance, 3),
    shadowsClipped: round(shadows / n, 3),
    highlightsClipped: round(highlights / n, 3),
    verdict,
  };
}

/**
 * Grey levels of the product's own pixels: those inside `region` whose RGB (packed, three bytes per pixel) is not
 * within `tolerance` of the backdrop's colour on every channel. For {@link measureExposure}'s `subject`.
 */
export function subjectGrey(
  rgb: Uint8Array,
  grey: Uint8Array,
  width: number,
  region: { x0: number; y0: number; x1: number; y1: number },
  backdrop: { r: number; g: number; b: number },
  tolerance: number,
): Uint8Array {
  const values = new Uint8Array(Math.max(0, (region.x1 - region.x0) * (region.y1 - region.y0)));
  let count = 0;
  for (let y = region.y0; y < region.y1; y++) {
    for (let x = region.x0; x < region.x1; x++) {
      const i = y * width + x;
      const near =
        Math.abs(rgb[i * 3] - backdrop.r) <= tolerance &&
        Math.abs(rgb[i * 3 + 1] - backdrop.g) <= tolerance &&
        Math.abs(rgb[i * 3 + 2] - backdrop.b) <= tolerance;
      if (!near) values[count++] = grey[i];
    }
  }
  return values.subarray(0, count);
}

/** Tiles per side for deciding where the image has content. */
const SHARPNESS_TILES = 16;
/** A tile whose grey levels vary less than this (standard deviation) is background, not subject. */
const TEXTURE_MIN_STDDEV = 8;

/**
 * Variance of the 4-neighbour Laplacian (0 1 0 / 1 −4 1 / 0 1 0) of 8-bit grey pixels, taken over the tiles that
 * have content (grey σ ≥ {@link TEXTURE_MIN_STDDEV}); over every pixel when no tile has. Flat background says
 * nothing about focus, yet over the whole frame it would dilute the variance: a sharp packshot on white would score
 * like a blurry photo.
 *
 * Computed here rather than with sharp's convolve because convolve clamps its output to 0–255: the Laplacian is
 * signed and reaches ±1020, and an offset plus a scale to fit it into a byte would quantise away the small responses
 * that tell "slightly soft" from "blurry". One pass over a ≤ 1024 px image costs a few milliseconds.
 */
export function laplacianVariance(grey: Uint8Array, width: number, height: number): number {
  if (width < 3 || height < 3) return 0;
  const tileWidth = Math.ceil(width / SHARPNESS_TILES);
  const tileHeight = Math.ceil(height / SHARPNESS_TILES);
  const tiles = SHARPNESS_TILES * SHARPNESS_TILES;
  // Per tile: pixel count, grey sum and sum of squares, Laplacian count, sum and sum of squares.
  const n = new Float64Array(tiles);
  const greySum = new Float64Array(tiles);
  const greySquares = new Float64Array(tiles);
  const m = new Float64Array(tiles);
  const lapSum = new Float64Array(tiles);
  const lapSquares = new Float64Array(tiles);
  const tileColumn = new Int32Array(width);
  for (let x = 0; x < width; x++) tileColumn[x] = Math.floor(x / tileWidth);
  for (let y = 0; y < height; y++) {
    const row = y * width;
    const tileRow = Math.floor(y / tileHeight) * SHARPNESS_TILES;
    const interiorRow = y > 0 && y < height - 1;
    for (let x = 0; x < width; x++) {
      const i = row + x;
      const t = tileRow + tileColumn[x];
      const v = grey[i];
      n[t]++;
      greySum[t] += v;
      greySquares[t] += v * v;
      if (interiorRow && x > 0 && x < width - 1) {
        const response = grey[i - width] + grey[i + width] + grey[i - 1] + grey[i + 1] - 4 * v;
        m[t]++;
        lapSum[t] += response;
        lapSquares[t] += response * response;
      }
    }
  }
  const pooled = (useTile: (t: number) => boolean) => {
    let count = 0;
    let sum = 0;
    let squares = 0;
    for (let t = 0; t < tiles; t++) {
      if (!useTile(t)) continue;
      count += m[t];
      sum += lapSum[t];
      squares += lapSquares[t];
    }
    return count === 0 ? undefined : squares / count - (sum / count) ** 2;
  };
  const textured = (t: number) => {
    if (n[t] === 0) return false;
    const mean = greySum[t] / n[t];
    return greySquares[t] / n[t] - mean * mean >= TEXTURE_MIN_STDDEV ** 2;
  };
  return pooled(textured) ?? pooled(() => true) ?? 0;
}

export function measureSharpness(grey: Uint8Array, width: number, height: number): SharpnessMeasurement {
  const variance = laplacianVariance(grey, width, height);
  return { laplacianVariance: round(variance, 1), verdict: variance < BLUR_THRESHOLD ? 'blurry' : 'ok' };
}

/** Extra grey pixels kept around a region so that its outline, where the Laplacian responds most, is measured. */
export const SHARPNESS_REGION_MARGIN_PX = 4;

/**
 * {@link measureSharpness} over one region of 8-bit grey pixels (e.g. the product's box), widened by
 * {@link SHARPNESS_REGION_MARGIN_PX} and clipped to the image; over the whole image when the region is null or empty.
 */
export function measureRegionSharpness(
  grey: Uint8Array,
  width: number,
  height: number,
  region: { x: number; y: number; width: number; height: number } | null,
): SharpnessMeasurement {
  if (!region || region.width <= 0 || region.height <= 0) return measureSharpness(grey, width, height);
  const x0 = Math.max(0, Math.floor(region.x) - SHARPNESS_REGION_MARGIN_PX);
  const y0 = Math.max(0, Math.floor(region.y) - SHARPNESS_REGION_MARGIN_PX);
  const x1 = Math.min(width, Math.ceil(region.x + region.width) + SHARPNESS_REGION_MARGIN_PX);
  const y1 = Math.min(height, Math.ceil(region.y + region.height) + SHARPNESS_REGION_MARGIN_PX);
  if (x1 <= x0 || y1 <= y0) return measureSharpness(grey, width, height);
  const cropWidth = x1 - x0;
  const crop = new Uint8Array(cropWidth * (y1 - y0));
  for (let y = y0; y < y1; y++) crop.set(grey.subarray(y * width + x0, y * width + x1), (y - y0) * cropWidth);
  return measureSharpness(crop, cropWidth, y1 - y0);
}

function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
