import { ocrOptionsSchema, type OcrOptions } from '@argus/contracts';
import { optionsDigest } from '@argus/inference';
import type { TaskDefinition, TaskPostprocessor } from '@argus/worker';
import { cpuOcrEngine, ollamaOcrEngine } from './ocr-engines';
import { applyPiiMode } from './pii';
import { OCR_PROMPT } from './prompt';

/** Personal data in the text, flagged or redacted as the request asks; never cached, as the mode is per request. */
export const piiPostprocessor: TaskPostprocessor<OcrOptions> = {
  readsImage: false,
  run(_image, options, result) {
    const mode = options.pii ?? 'off';
    if (mode === 'off' || !('lines' in result)) return Promise.resolve({});
    return Promise.resolve({ ...applyPiiMode(result, mode) });
  },
};

/** OCR: text with boxes, key-values and tables, in the request's reading mode. */
export const ocrTask: TaskDefinition<OcrOptions> = {
  id: 'ocr',
  promptVersion: OCR_PROMPT.version,
  // PaddleOCR reads; tesseract reads upright pages a second time where it keeps word spacing better.
  cpuRuntimes: ['paddle', 'tesseract'],
  cpuEngineDescription: 'PaddleOCR PP-OCRv4 (onnxruntime) and tesseract eng LSTM',
  boot({ runtimes }) {
    return {
      engine: (spec) =>
        spec.kind === 'cpu' ? cpuOcrEngine(spec, runtimes) : ollamaOcrEngine(spec, runtimes),
      resolve: (options) => ocrOptionsSchema.parse(options.ocr ?? {}),
      // The mode changes what is read; `pii` only changes what the postprocessor does with it.
      fingerprint: ({ mode }) => optionsDigest({ mode }),
      warmUpOptions: () => ({ mode: 'document' }),
      postprocess: piiPostprocessor,
    };
  },
};
