import { performance } from 'node:perf_hooks';
import { ArgusError, type OcrMode } from '@argus/contracts';
import type { PageOrientation, PaddleLine } from '../cpu/paddle-ocr';
import type { ImageContext } from '../image-context';
import type { OcrLine, PageSegmentation } from '../cpu/tesseract-ocr';
import type { EngineDependencies } from './engine-kit';
import { round } from './engine-kit';

/**
 * Tesseract reads texture and gradients as strings of junk letters at low confidence; words under this are dropped
 * from the CPU tier's answer (real print scores 0.8–0.97 here).
 */
export const MIN_OCR_WORD_CONFIDENCE = 0.6;

/**
 * Reading text is a side job for moderation (contact details) and tagging (text over the background, brand and
 * size text), so it gets a budget: a busy photo makes the engines take seconds, and a photo with that much texture
 * rarely carries a phone number a person could read anyway.
 */
export const SIDE_OCR_BUDGET_MS = 3_000;

/**
 * PaddleOCR reads crops of this upright copy: enough for 8 pt print on an A4 scan (the detector itself works on at
 * most DETECTION_MAX_SIDE), and a bound on the memory of the JS crops.
 */
export const PADDLE_INPUT_LONG_SIDE = 2400;
/**
 * The side reads look for promotional text and contact details on product photos, which is large text: PaddleOCR's
 * own default detector side (960) keeps them in budget.
 */
export const SIDE_DETECTION_SIDE = 960;

/**
 * Under this mean line confidence, PaddleOCR is unsure of the page (blackletter, decorative fonts, very small print)
 * and tesseract reads the page too; the more confident answer wins. PaddleOCR reads print at 0.93–0.99 and scores its
 * misreadings of blackletter at 0.6–0.8.
 */
export const PADDLE_SURE = 0.85;

/**
 * A PaddleOCR line under this confidence is dropped: on photos without text its readings of texture (a "1" in a
 * flower, "11" in wood grain) scored 0.5–0.7, real lines 0.8 and up.
 */
export const MIN_PADDLE_LINE_CONFIDENCE = 0.75;

export interface OcrLineLike {
  text: string;
  confidence: number;
  box: { x: number; y: number; width: number; height: number };
}

const LETTER_OR_DIGIT = /[\p{L}\p{N}]/gu;
/** A run of three letters or digits, or a number with a separator (a price, a time, a date). */
const LONG_WORD = /[\p{L}\p{N}]{3,}|\p{N}+[.,:/-]\p{N}+/u;
/** One-character words that are real words or symbols on labels. */
const SINGLE_CHARACTER_WORDS = new Set([
  'a',
  'A',
  'I',
  '&',
  '+',
  '-',
  '€',
  '$',
  '£',
  '%',
  '@',
  '/',
  '=',
  'x',
  'X',
]);

/**
 * Whether a read line looks like text rather than texture read as characters. Dictionary-free, so codes, prices and
 * other languages pass: at least half of the line's visible characters are letters or digits, it has a run of three
 * letters or digits or a number such as "12.99" (or, read with high confidence, two letters or digits: "XL"), and at
 * most half of its words
 * are single characters that are not words or symbols on their own. Junk from photos without text fails: "7; ¥"
 * (one letter or digit), "| 3 : 5 | ry r 4 2. i : BY A" (mostly lone characters).
 */
export function plausibleText(text: string, confidence: number): boolean {
  const visible = text.replace(/\s+/g, '');
  if (visible === '') return false;
  const lettersAndDigits = visible.match(LETTER_OR_DIGIT)?.length ?? 0;
  if (lettersAndDigits < 2 || lettersAndDigits / Array.from(visible).length < 0.5) return false;
  if (!LONG_WORD.test(text) && confidence < 0.9) return false;
  const words = text.split(/\s+/).filter((word) => word !== '');
  const loose = words.filter(
    (word) => Array.from(word).length === 1 && !SINGLE_CHARACTER_WORDS.has(word),
  ).length;
  return loose <= words.length / 2;
}

/**
 * Sparse segmentation finds "words" in texture too: confident lone dots and bars. In scene mode a word needs a
 * letter, a digit, a currency sign or a percent sign.
 */
const MEANINGFUL_WORD = /[\p{L}\p{N}\p{Sc}%]/u;

/** How tesseract looks for text in each OCR mode (measured on rendered labels, receipts and photos: docs/ocr.md). */
export const OCR_PAGE_SEGMENTATION: Readonly<Record<OcrMode, PageSegmentation>> = {
  // Line by line across the page (tesseract.js's default, unchanged): a receipt's item and price stay on one line.
  // Automatic segmentation (PSM 3) reads columns apart, which pages need and receipts do not survive.
  document: 'single_block',
  // One column of lines of any size: a key and its right-aligned value stay on one line, and a big title is kept
  // (a single block drops it).
  label: 'single_column',
  // Words anywhere, in no particular order: finds text on the background beside a product that `auto` misses.
  scene: 'sparse',
};

type Box = OcrLineLike['box'];

export interface CpuOcrLine {
  text: string;
  confidence: number;
  box: Box;
  words: Array<{ text: string; confidence: number; box: Box }>;
}

export interface CpuOcrRead {
  lines: CpuOcrLine[];
  /** Mean confidence of the engine that answered, over everything it read (dropped lines included), 0–1. */
  confidence: number;
  /** Which engine's reading this is; `none` when neither found text. */
  engine: 'paddleocr' | 'tesseract' | 'none';
  /** How the page was turned, when PaddleOCR looked. */
  orientation?: PageOrientation;
}

type OcrDependencies = Pick<EngineDependencies, 'processor' | 'tesseract' | 'paddle'>;

const unscaleBox = (box: Box, scale: number): Box => ({
  x: Math.round(box.x / scale),
  y: Math.round(box.y / scale),
  width: Math.round(box.width / scale),
  height: Math.round(box.height / scale),
});

/** Tesseract on the preprocessed image: confident, plausible words only, boxes in pixels of the stored image. */
async function tesseractRead(
  image: Uint8Array,
  deps: Pick<EngineDependencies, 'processor' | 'tesseract'>,
  budgetMs: number | undefined,
  mode: OcrMode,
): Promise<CpuOcrRead> {
  const prepared = await deps.processor.prepareForOcr(image);
  const page = await deps.tesseract().recognize(prepared.data, budgetMs, OCR_PAGE_SEGMENTATION[mode]);
  const keep = (word: { text: string; confidence: number }) =>
    word.confidence >= MIN_OCR_WORD_CONFIDENCE && (mode !== 'scene' || MEANINGFUL_WORD.test(word.text));
  const lines = page.lines.flatMap((line: OcrLine): CpuOcrLine[] => {
    const words = line.words.filter(keep);
    if (words.length === 0) return [];
    const text = words.length === line.words.length ? line.text : words.map((word) => word.text).join(' ');
    if (!plausibleText(text, line.confidence)) return [];
    return [
      {
        text,
        confidence: round(line.confidence),
        box: unscaleBox(line.box, prepared.scale),
        words: words.map((word) => ({
          text: word.text,
          confidence: round(word.confidence),
          box: unscaleBox(word.box, prepared.scale),
        })),
      },
    ];
  });
  return {
    lines,
    // The page's own confidence, dropped words included, so a noisy page still reads as unsure and escalates.
    confidence: lines.length > 0 ? round(page.confidence) : 0,
    engine: lines.length > 0 ? 'tesseract' : 'none',
  };
}

function paddleLines(lines: readonly PaddleLine[], scale: number): CpuOcrLine[] {
  return lines
    .filter(
      (line) => line.confidence >= MIN_PADDLE_LINE_CONFIDENCE && plausibleText(line.text, line.confidence),
    )
    .map((line) => ({
      text: line.text,
      confidence: round(line.confidence),
      box: unscaleBox(line.box, scale),
      words: line.words.map((word) => ({
        text: word.text,
        confidence: round(word.confidence),
        box: unscaleBox(word.box, scale),
      })),
    }));
}

function meanConfidence(lines: ReadonlyArray<{ text: string; confidence: number }>): number {
  const characters = lines.reduce((sum, line) => sum + line.text.length, 0);
  if (characters === 0) return 0;
  return lines.reduce((sum, line) => sum + line.confidence * line.text.length, 0) / characters;
}

/**
 * The CPU tier's reading of an image:
 * 1. PaddleOCR finds the text, turns the page upright and reads it (photographed, skewed and coloured text, pages
 *    turned by 90°/180°/270°). Lines it is unsure of and lines that do not look like text are dropped, so a photo
 *    without text answers nothing.
 * 2. On an upright page in `document` mode, in `label` mode when PaddleOCR is unsure (under {@link PADDLE_SURE}),
 *    and when PaddleOCR could read none of the text lines it found, tesseract reads the page as well. When PaddleOCR is unsure, the more confident plausible
 *    reading wins (tesseract reads blackletter and decorative fonts that PaddleOCR's Chinese-trained recogniser
 *    does not know); when it is sure, tesseract's reading is kept only if both read the same letters
 *    ({@link SAME_READING}), for its word spacing.
 * Without PaddleOCR (its models not installed, or tests), tesseract reads alone.
 */
export async function cpuOcr(
  image: Uint8Array,
  deps: OcrDependencies,
  budgetMs?: number,
  mode: OcrMode = 'document',
  side = false,
): Promise<CpuOcrRead> {
  if (!deps.paddle) return tesseractRead(image, deps, budgetMs, mode);
  const deadline = budgetMs === undefined ? undefined : performance.now() + budgetMs;
  const pixels = await deps.processor.toUprightRgb(image, PADDLE_INPUT_LONG_SIDE);
  const page = await deps.paddle().read(pixels, {
    deadline,
    // Text over a product photo is printed upright; the side reads skip the direction vote to stay in budget.
    assumeUpright: side,
    ...(side || mode === 'scene' ? { detectionMaxSide: SIDE_DETECTION_SIDE } : {}),
  });
  const lines = paddleLines(page.lines, pixels.scale);
  const paddle: CpuOcrRead = {
    lines,
    confidence: lines.length > 0 ? round(meanConfidence(page.lines)) : 0,
    engine: lines.length > 0 ? 'paddleocr' : 'none',
    orientation: page.orientation,
  };
  const unsure = paddle.confidence < PADDLE_SURE;
  if (mode === 'scene' || side) return paddle;
  if (lines.length === 0) {
    // Nothing PaddleOCR could read: a photo without text, or type its recogniser does not know (blackletter), which
    // shows as confident line-shaped detections read at low confidence (and often as a page turned by 180°, as the
    // direction classifier does not know the type either). Only then is tesseract asked, whatever the angle, and
    // only its confident lines count, so texture stays unread.
    const unreadable =
      page.unreadableLines +
      page.lines.filter(
        (line) =>
          line.confidence < MIN_PADDLE_LINE_CONFIDENCE &&
          line.detectionScore >= 0.8 &&
          line.box.width >= 2.5 * line.box.height,
      ).length;
    if (unreadable === 0) return paddle;
    const remaining = deadline === undefined ? undefined : Math.max(1, deadline - performance.now());
    const tesseract = await tesseractRead(image, deps, remaining, mode);
    const confident = tesseract.lines.filter((line) => line.confidence >= MIN_PADDLE_LINE_CONFIDENCE);
    // Tesseract read the stored image as it is: PaddleOCR's angle, voted on type it could not read, is left out.
    return confident.length === 0 ? paddle : { ...tesseract, lines: confident };
  }
  // Tesseract reads the stored image as it is, so it is only a second opinion on pages that are upright already.
  if (page.orientation.angle !== 0) return paddle;
  if (!unsure && mode !== 'document') return paddle;
  const remaining = deadline === undefined ? undefined : Math.max(1, deadline - performance.now());
  const tesseract = await tesseractRead(image, deps, remaining, mode).catch((error: unknown) => {
    if (error instanceof ArgusError && error.code === 'INFERENCE_TIMEOUT') return undefined;
    throw error;
  });
  if (!tesseract || tesseract.lines.length === 0) return paddle;
  const withOrientation = { ...tesseract, orientation: page.orientation };
  if (unsure) return meanConfidence(tesseract.lines) > meanConfidence(lines) ? withOrientation : paddle;
  // Both read the page the same way letter for letter: tesseract's word spacing is the better one.
  return textAgreement(tesseract.lines, lines) >= SAME_READING ? withOrientation : paddle;
}

/**
 * On a page both engines read alike (letters compared without spaces), tesseract's reading is kept in `document`
 * mode: on clean upright scans it keeps every word space, where PaddleOCR's recogniser merges a few words ("ofthe").
 * Where they differ (photographed, skewed, coloured pages) PaddleOCR is the better reader and is kept.
 */
export const SAME_READING = 0.95;

/** Dice coefficient of the two readings' character bigrams, whitespace removed: 1 for the same letters. */
export function textAgreement(
  first: ReadonlyArray<{ text: string }>,
  second: ReadonlyArray<{ text: string }>,
): number {
  const bigrams = (lines: ReadonlyArray<{ text: string }>) => {
    const letters = Array.from(
      lines
        .map((line) => line.text)
        .join('')
        .replace(/\s+/g, ''),
    );
    const counts = new Map<string, number>();
    for (let index = 1; index < letters.length; index += 1) {
      const pair = letters[index - 1] + letters[index];
      counts.set(pair, (counts.get(pair) ?? 0) + 1);
    }
    return { counts, total: Math.max(0, letters.length - 1) };
  };
  const a = bigrams(first);
  const b = bigrams(second);
  if (a.total + b.total === 0) return 1;
  let shared = 0;
  for (const [pair, count] of a.counts) shared += Math.min(count, b.counts.get(pair) ?? 0);
  return (2 * shared) / (a.total + b.total);
}

/**
 * Lines of text, or undefined when the engine ran out of its side-job budget. Read once per request: the tagging
 * engine (brand and size text), the compliance checks (text over the background) and moderation (contact details)
 * ask for the words of the same image, and OCR is the slowest thing on the CPU tier. PaddleOCR reads them when it is
 * there: tesseract's sparse mode read junk on half of the photos without text.
 */
export function sideOcrLines(image: ImageContext, deps: OcrDependencies): Promise<CpuOcrLine[] | undefined> {
  return image.derive('side-ocr-lines', (bytes) =>
    cpuOcr(bytes, deps, SIDE_OCR_BUDGET_MS, 'scene', true).then(
      ({ lines }) => lines,
      (error: unknown) => {
        if (error instanceof ArgusError && error.code === 'INFERENCE_TIMEOUT') return undefined;
        throw error;
      },
    ),
  );
}
