import type { TaskPrompt } from '@argus/inference';

/**
 * OCR's prompt. Its version travels in every Ollama answer's cache key and in traces, and each Ollama tier's catalog
 * entry for ocr must name it (the worker checks at boot). The user prompt is this text plus the reading mode's
 * instructions (OCR_MODE_INSTRUCTIONS in ocr-engines.ts, which are part of this version): bump it when either changes.
 */
export const OCR_PROMPT: TaskPrompt = {
  version: 'ocr-v2',
  system:
    'You are an OCR engine. You transcribe text exactly as written, without translating or correcting it. ' +
    'Answer only with JSON that matches the given schema.',
  user:
    'Transcribe all text in this image in reading order. text holds every line joined with newlines; lines holds ' +
    'each line separately. language is the ISO 639-1 code of the main language of the text, or "und" when there ' +
    'is no text. Return empty text and no lines when there is no text.',
};
