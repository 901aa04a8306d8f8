import type { Task } from '@argus/contracts';

/**
 * Versioned prompts. The version travels with every result's cache key (later) and in traces, so a prompt change
 * is visible and never silently mixes answers from two prompts.
 */
export interface TaskPrompt {
  version: string;
  system: string;
  user: string;
}

export const PROMPTS: Readonly<Record<Task, TaskPrompt>> = {
  moderation: {
    version: 'moderation-v2',
    system:
      'You are a content moderation system for an online marketplace. You report what in an image could break ' +
      'publishing rules, with evidence. Answer only with JSON that matches the given schema.',
    user:
      'List every category below that you find in this image, each with a confidence from 0 to 1 and evidence: a ' +
      'short rationale, the exact text when the evidence is text in the image, and a box in pixels when you can ' +
      'tell where it is. List nothing that is not there. reason is one sentence about what the image shows.',
  },
  tagging: {
    version: 'tagging-v1',
    system:
      'You are a product catalog assistant. You describe product photos for e-commerce listings. ' +
      'Answer only with JSON that matches the given schema.',
    user:
      'Identify the product. category is a path such as apparel/shoes/sneakers. attributes maps attribute names ' +
      '(colour, material, pattern, brand, size) to values seen in the image. condition is new, like_new, used, damaged ' +
      'or unknown. defects lists visible damage such as scratch, stain, tear or dent, with severity and confidence.',
  },
  ocr: {
    version: 'ocr-v1',
    system:
      'You are an OCR engine. You transcribe text exactly as written, without translating or correcting it. ' +
      'Answer only with JSON that matches the given schema.',
    user:
      'Transcribe all text in this image in reading order. text holds every line joined with newlines; lines holds ' +
      'each line separately. Return empty text and no lines when there is no text.',
  },
};
