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
    version: 'moderation-v1',
    system:
      'You are a content moderation system for an online marketplace. You judge whether an image is safe to publish. ' +
      'Answer only with JSON that matches the given schema.',
    user:
      'Classify this image. List every category you detect with a confidence from 0 to 1, using ids such as ' +
      'sexual.explicit, sexual.suggestive, violence.graphic, weapons, drugs, alcohol, tobacco, gambling, hate.symbols, ' +
      'self_harm, gestures.rude. decision is "block" for content that must not be published, "review" when a person ' +
      'should look, otherwise "allow". reason is one short sentence.',
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
