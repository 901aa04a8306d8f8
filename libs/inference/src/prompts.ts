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
    version: 'tagging-v2',
    system:
      'You are a product catalog assistant. You describe product photos for e-commerce listings. ' +
      'Answer only with JSON that matches the given schema.',
    user:
      'Identify the product. category is the most specific path from the allowed categories that fits it. ' +
      'attributes maps attribute names to values seen in the image: material and pattern when you can tell, brand ' +
      'and size only as printed on the product; leave out what you cannot see. condition is new, like_new, used, ' +
      'damaged or unknown. defects lists visible damage such as scratch, stain, tear or dent, with severity, ' +
      'confidence and, when you can tell where it is, a box in pixels of this image. photo.productCount is how many ' +
      'separate products for sale the photo shows; photo.props is true when it shows props or accessories that are ' +
      'not part of the product; photo.placeholder is true when the image is a placeholder, a drawing or stock ' +
      'artwork instead of a photo of the item. confidence is how sure you are of the category, 0 to 1.',
  },
  // The user prompt is this text plus the reading mode's instructions (OCR_MODE_INSTRUCTIONS in
  // engines/ocr-engines.ts, which are part of this version: bump it when either changes).
  ocr: {
    version: 'ocr-v2',
    system:
      'You are an OCR engine. You transcribe text exactly as written, without translating or correcting it. ' +
      'Answer only with JSON that matches the given schema.',
    user:
      'Transcribe all text in this image in reading order. text holds every line joined with newlines; lines holds ' +
      'each line separately. language is the ISO 639-1 code of the main language of the text, or "und" when there ' +
      'is no text. Return empty text and no lines when there is no text.',
  },
};
