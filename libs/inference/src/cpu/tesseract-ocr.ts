import path from 'node:path';
import { createWorker, OEM, PSM, type Bbox, type Page, type Worker } from 'tesseract.js';
import { ArgusError } from '@argus/contracts';

/** Pixels of the image given to recognize(). */
export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface OcrWord {
  text: string;
  /** 0–1. */
  confidence: number;
  box: Box;
}

export interface OcrLine {
  text: string;
  /** 0–1. */
  confidence: number;
  box: Box;
  words: OcrWord[];
}

export interface OcrPage {
  /** Tesseract's text with blank lines between paragraphs, trimmed. */
  text: string;
  /** Mean word confidence, 0–1. */
  confidence: number;
  /** Non-empty lines in reading order. */
  lines: OcrLine[];
  /** Every word of `lines`, in the same order. */
  words: OcrWord[];
}

/**
 * The English LSTM model that ships in @tesseract.js-data/eng. Without an explicit langPath tesseract.js downloads
 * it from a CDN, which an offline cluster cannot do and a moderation service should not do. Resolved when a worker
 * starts, so a missing data package fails the OCR engine's warm-up rather than every import of this library.
 */
export function tesseractLangPath(): string {
  return path.join(path.dirname(require.resolve('@tesseract.js-data/eng/package.json')), '4.0.0_best_int');
}

/**
 * How tesseract finds the text on the image before reading it (its page segmentation mode, PSM):
 * - `single_block` (PSM 6): one uniform block of text, read line by line across the whole width; tesseract.js's
 *   default, and what every call used before modes existed;
 * - `auto` (PSM 3): blocks, columns and paragraphs found first, each read in turn;
 * - `single_column` (PSM 4): one column of lines of varying size;
 * - `sparse` (PSM 11): as much text as it can find, in no particular order; for words scattered over a photo.
 */
export const PAGE_SEGMENTATIONS = ['single_block', 'auto', 'single_column', 'sparse'] as const;
export type PageSegmentation = (typeof PAGE_SEGMENTATIONS)[number];

const PAGE_SEGMENTATION_MODES: Readonly<Record<PageSegmentation, PSM>> = {
  single_block: PSM.SINGLE_BLOCK,
  auto: PSM.AUTO,
  single_column: PSM.SINGLE_COLUMN,
  sparse: PSM.SPARSE_TEXT,
};

/**
 * Our input comes from ImageProcessor.prepareForOcr, whose PNGs carry no resolution; without one tesseract guesses
 * from the text size and warns on stderr for every image. 300 dpi is the scan resolution its models are tuned to.
 */
const ASSUMED_DPI = '300';

function toBox({ x0, y0, x1, y1 }: Bbox): Box {
  return { x: x0, y: y0, width: Math.max(0, x1 - x0), height: Math.max(0, y1 - y0) };
}

function toConfidence(percent: number): number {
  return Math.min(1, Math.max(0, percent / 100));
}

export function toOcrPage(page: Page): OcrPage {
  const lines: OcrLine[] = [];
  for (const block of page.blocks ?? []) {
    for (const paragraph of block.paragraphs) {
      for (const line of paragraph.lines) {
        const text = line.text.trim();
        if (text === '') continue;
        const words = line.words
          .map((word) => ({
            text: word.text.trim(),
            confidence: toConfidence(word.confidence),
            box: toBox(word.bbox),
          }))
          .filter((word) => word.text !== '');
        lines.push({ text, confidence: toConfidence(line.confidence), box: toBox(line.bbox), words });
      }
    }
  }
  return {
    text: page.text.trim(),
    confidence: toConfidence(page.confidence),
    lines,
    words: lines.flatMap((line) => line.words),
  };
}

/**
 * The embedded OCR engine: one tesseract.js worker (a worker thread running tesseract's wasm build) with the
 * bundled English LSTM model. A worker recognises one image at a time, so calls are queued here, where the order
 * is visible, rather than inside tesseract.js; run several instances for parallelism.
 */
export class TesseractOcr {
  private starting?: Promise<Worker>;
  private worker?: Worker;
  private queue: Promise<unknown> = Promise.resolve();

  get ready(): boolean {
    return this.worker !== undefined;
  }

  /** Starts the worker and loads the model once; concurrent and repeated calls share the same start. */
  async warm(): Promise<void> {
    await this.start();
  }

  /**
   * @param budgetMs Tesseract's time grows with texture (seconds on a busy photo) and cannot be interrupted, so past
   *   the budget the worker thread is terminated (a later call starts a new one) and the call fails with
   *   INFERENCE_TIMEOUT.
   * @param segmentation How to find the text on the image; set on the worker per call, so a call never inherits the
   *   previous call's mode.
   */
  async recognize(
    png: Buffer,
    budgetMs?: number,
    segmentation: PageSegmentation = 'single_block',
  ): Promise<OcrPage> {
    return this.exclusive(async () => {
      const worker = await this.start();
      const work = worker
        .setParameters({ tessedit_pageseg_mode: PAGE_SEGMENTATION_MODES[segmentation] })
        .then(() => worker.recognize(png, {}, { text: true, blocks: true }))
        .then(({ data }) => toOcrPage(data));
      if (budgetMs === undefined) return work;
      let timer: NodeJS.Timeout | undefined;
      const overrun = new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => {
          reject(new ArgusError('INFERENCE_TIMEOUT', `tesseract did not finish within ${budgetMs} ms`));
        }, budgetMs);
      });
      try {
        return await Promise.race([work, overrun]);
      } catch (error) {
        if (error instanceof ArgusError && error.code === 'INFERENCE_TIMEOUT') {
          work.catch(() => undefined);
          await this.discard(worker);
        }
        throw error;
      } finally {
        clearTimeout(timer);
      }
    });
  }

  private async discard(worker: Worker): Promise<void> {
    if (this.worker === worker) {
      this.worker = undefined;
      this.starting = undefined;
    }
    await worker.terminate().catch(() => undefined);
  }

  /** Lets queued recognitions finish, then ends the worker thread; a later call starts a new one. */
  async close(): Promise<void> {
    await this.exclusive(async () => {
      const starting = this.starting;
      this.starting = undefined;
      this.worker = undefined;
      const worker = await starting?.catch(() => undefined);
      await worker?.terminate();
    });
  }

  private exclusive<T>(job: () => Promise<T>): Promise<T> {
    const run = this.queue.then(job, job);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private start(): Promise<Worker> {
    if (this.starting) return this.starting;
    const starting: Promise<Worker> = startWorker().then(
      (worker) => {
        if (this.starting === starting) this.worker = worker;
        return worker;
      },
      (error: unknown) => {
        if (this.starting === starting) this.starting = undefined;
        const reason = error instanceof Error ? error.message : String(error);
        throw new ArgusError('MODEL_UNAVAILABLE', `tesseract could not start: ${reason}`);
      },
    );
    this.starting = starting;
    return starting;
  }
}

async function startWorker(): Promise<Worker> {
  const worker = await createWorker('eng', OEM.LSTM_ONLY, {
    langPath: tesseractLangPath(),
    // 'none' neither reads nor writes a copy of the model in the working directory.
    cacheMethod: 'none',
    gzip: true,
    logger: () => undefined,
  });
  try {
    await worker.setParameters({ user_defined_dpi: ASSUMED_DPI });
  } catch (error) {
    await worker.terminate();
    throw error;
  }
  return worker;
}
