import { ArgusError, type OcrMode } from '@argus/contracts';
import type { PageSegmentation } from '../cpu/tesseract-ocr';
import type { EngineDependencies } from './engine-kit';
import { round } from './engine-kit';

/**
 * Tesseract reads texture and gradients as strings of junk letters at low confidence; words under this are dropped
 * from the CPU tier's answer (real print scores 0.8–0.97 here).
 */
export const MIN_OCR_WORD_CONFIDENCE = 0.6;

/**
 * Reading text is a side job for moderation (contact details) and tagging (text over the background, brand and
 * size text), so it gets a budget: a busy photo makes tesseract take seconds, and a photo with that much texture
 * rarely carries a phone number a person could read anyway.
 */
export const SIDE_OCR_BUDGET_MS = 3_000;

export interface OcrLineLike {
  text: string;
  confidence: number;
  box: { x: number; y: number; width: number; height: number };
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

/**
 * Tesseract on the preprocessed image: confident words only, boxes in pixels of the stored image. The side jobs
 * (contact details, text overlay, brand text) read photos, so they use `scene` mode: single-block reading missed
 * promotional words set apart on a white background (the eval's text_overlay recall went from 5/6 to 6/6).
 */
export async function cpuOcr(
  image: Uint8Array,
  deps: Pick<EngineDependencies, 'processor' | 'tesseract'>,
  budgetMs?: number,
  mode: OcrMode = 'document',
) {
  const prepared = await deps.processor.prepareForOcr(image);
  const page = await deps.tesseract().recognize(prepared.data, budgetMs, OCR_PAGE_SEGMENTATION[mode]);
  const unscale = (box: { x: number; y: number; width: number; height: number }) => ({
    x: Math.round(box.x / prepared.scale),
    y: Math.round(box.y / prepared.scale),
    width: Math.round(box.width / prepared.scale),
    height: Math.round(box.height / prepared.scale),
  });
  const keep = (word: { text: string; confidence: number }) =>
    word.confidence >= MIN_OCR_WORD_CONFIDENCE && (mode !== 'scene' || MEANINGFUL_WORD.test(word.text));
  const lines = page.lines.flatMap((line) => {
    const words = line.words.filter(keep);
    if (words.length === 0) return [];
    const text = words.length === line.words.length ? line.text : words.map((word) => word.text).join(' ');
    return [
      {
        text,
        confidence: round(line.confidence),
        box: unscale(line.box),
        words: words.map((word) => ({
          text: word.text,
          confidence: round(word.confidence),
          box: unscale(word.box),
        })),
      },
    ];
  });
  return { page, lines };
}
export type CpuOcrLine = Awaited<ReturnType<typeof cpuOcr>>['lines'][number];

/**
 * One read per stored image: the tagging engine (brand and size text) and the compliance checks (text over the
 * background) both need the words of the same buffer, and tesseract is the slowest thing on the CPU tier.
 */
const sideReads = new WeakMap<Uint8Array, Promise<CpuOcrLine[] | undefined>>();

/** Lines of text, or undefined when tesseract ran out of its side-job budget. Memoised per image buffer. */
export function sideOcrLines(
  image: Uint8Array,
  deps: Pick<EngineDependencies, 'processor' | 'tesseract'>,
): Promise<CpuOcrLine[] | undefined> {
  const known = sideReads.get(image);
  if (known) return known;
  const read = cpuOcr(image, deps, SIDE_OCR_BUDGET_MS, 'scene').then(
    ({ lines }) => lines,
    (error: unknown) => {
      if (error instanceof ArgusError && error.code === 'INFERENCE_TIMEOUT') return undefined;
      sideReads.delete(image);
      throw error;
    },
  );
  sideReads.set(image, read);
  return read;
}
