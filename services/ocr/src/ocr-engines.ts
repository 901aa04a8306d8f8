import type { z } from 'zod';
import {
  ocrModelOutputSchema,
  ocrStructuredModelOutputSchema,
  toModelFormat,
  type OcrMode,
  type OcrOptions,
  type OcrResult,
} from '@argus/contracts';
import {
  CpuEngine,
  cpuOcr,
  ollamaOutputOptions,
  OllamaTaskEngine,
  type EngineDependencies,
  type EngineRequest,
  type EngineSpec,
  type TaskEngine,
  type TaskResult,
} from '@argus/inference';
import { detectLanguage, keyValuesFromLines } from './ocr-structure';
import { OCR_PROMPT } from './prompt';

/**
 * What each reading mode asks of a vision model, after OCR_PROMPT.user. Part of the OCR prompt: bump
 * OCR_PROMPT.version (prompt.ts) when you change one (a spec checks the text against the version).
 */
export const OCR_MODE_INSTRUCTIONS: Readonly<Record<OcrMode, string>> = {
  document:
    'The image is a document: a page, receipt, invoice or form. Read it in reading order, block by block; read ' +
    'each column top to bottom before the next column, and keep a printed line as one line. keyValues lists the ' +
    'labelled values (invoice or order number, date, subtotal, tax, total, and any "label: value" field) with the ' +
    'label and the value as printed. tables lists every table and itemised list with columns as rows of cells, ' +
    'header row first, one cell per column, including empty cells; none when there is no table.',
  label:
    'The image is a product label or packaging. Read every printed line, the small print included (ingredients, ' +
    'storage, producer, codes), top to bottom. keyValues lists the labelled values such as best-before or use-by ' +
    'date, lot or batch, net weight or volume and price, with the label and the value as printed. tables lists ' +
    'tables such as nutrition facts as rows of cells, header row first; none when there is no table.',
  scene:
    'The image is a photo. Transcribe any legible text anywhere in it: signs, screens, shop fronts, text printed ' +
    'on products or clothing. Give each separate piece of text its own line, top to bottom and left to right. ' +
    'Leave out text too small or blurred to read with confidence.',
};

/** Document and label modes ask for key-values and tables; scene mode only for the text. */
const STRUCTURED_MODES: ReadonlySet<OcrMode> = new Set<OcrMode>(['document', 'label']);

/** The model output of any mode: scene answers leave keyValues and tables out. */
type OcrModelAnswer = z.infer<typeof ocrModelOutputSchema> &
  Partial<Pick<z.infer<typeof ocrStructuredModelOutputSchema>, 'keyValues' | 'tables'>>;

const PLAIN_OUTPUT = {
  schema: ocrModelOutputSchema as z.ZodType<OcrModelAnswer>,
  format: toModelFormat(ocrModelOutputSchema),
};
const STRUCTURED_OUTPUT = {
  schema: ocrStructuredModelOutputSchema as z.ZodType<OcrModelAnswer>,
  format: toModelFormat(ocrStructuredModelOutputSchema),
};

const modeOf = (request: Pick<EngineRequest<OcrOptions>, 'options'>): OcrMode => request.options.mode;

/** The user prompt for a request: the shared transcription prompt and the mode's instructions. */
export function ocrUserPrompt(mode: OcrMode): string {
  return `${OCR_PROMPT.user} ${OCR_MODE_INSTRUCTIONS[mode]}`;
}

/** A model's language answer as an ISO 639-1 code: "EN", "en-US" → "en"; anything that is not a code → "und". */
export function normaliseLanguageCode(answer: string, text: string): string {
  const code = answer.trim().toLowerCase();
  if (text.trim() === '') return 'und';
  const match = /^([a-z]{2,3})(?:[-_][a-z0-9]+)*$/.exec(code);
  return match ? match[1] : 'und';
}

export function ollamaOcrEngine(
  spec: EngineSpec,
  deps: EngineDependencies,
): TaskEngine<TaskResult, OcrOptions> {
  return new OllamaTaskEngine<OcrModelAnswer, OcrOptions>(deps.ollama(spec.tier), deps.processor, {
    task: 'ocr',
    tier: spec.tier,
    model: spec.model,
    input: spec.input,
    // The richest format stands for the engine in its fingerprint; the cache key adds the mode.
    format: STRUCTURED_OUTPUT.format,
    prompt: OCR_PROMPT,
    outputSchema: STRUCTURED_OUTPUT.schema,
    outputFor: (request) => (STRUCTURED_MODES.has(modeOf(request)) ? STRUCTURED_OUTPUT : PLAIN_OUTPUT),
    userPrompt: (request) => ocrUserPrompt(modeOf(request)),
    ...ollamaOutputOptions(spec),
    interpret: (output, request) => {
      const result: OcrResult = {
        text: output.text,
        lines: output.lines,
        confidence: null,
        mode: modeOf(request),
        language: { code: normaliseLanguageCode(output.language, output.text), confidence: null },
        keyValues: (output.keyValues ?? []).map(({ key, value }) => ({
          key,
          value,
          source: 'model' as const,
        })),
        tables: output.tables ?? [],
      };
      return Promise.resolve({ result, confidence: null, wantsReview: false, needsGpuTier: [] });
    },
  });
}

/**
 * PaddleOCR (and tesseract where it reads better, cpu-ocr.ts in @argus/inference), key-values parsed from the read lines (not in scene
 * mode, which has no structure), the language of the text and how the page was turned. Tables need a vision model:
 * in document mode the answer says so, and `auto` goes on to a GPU tier when one is up.
 */
export function cpuOcrEngine(spec: EngineSpec, deps: EngineDependencies): TaskEngine<TaskResult, OcrOptions> {
  return new CpuEngine<OcrOptions>(spec, async (request) => {
    const mode = modeOf(request);
    const read = await cpuOcr(request.image, deps, undefined, mode);
    const texts = read.lines.map((line) => line.text);
    const text = texts.join('\n');
    const result: OcrResult = {
      text,
      lines: read.lines,
      confidence: read.confidence,
      mode,
      language: await detectLanguage(text),
      keyValues: mode === 'scene' ? [] : keyValuesFromLines(texts),
      tables: [],
      ...(read.orientation ? { orientation: read.orientation } : {}),
    };
    return {
      result,
      confidence: result.confidence,
      wantsReview: false,
      needsGpuTier: mode === 'document' ? ['tables'] : [],
    };
  });
}
