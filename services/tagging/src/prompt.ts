import type { TaskPrompt } from '@argus/inference';

/**
 * Tagging's prompt. Its version travels in every Ollama answer's cache key and in traces, and each Ollama tier's
 * catalog entry for tagging must name it (the worker checks at boot): bump it whenever the text changes.
 */
export const TAGGING_PROMPT: TaskPrompt = {
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
};
