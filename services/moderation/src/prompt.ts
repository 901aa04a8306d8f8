import type { TaskPrompt } from '@argus/inference';

/**
 * Moderation's prompt. Its version travels in every Ollama answer's cache key and in traces, and each Ollama tier's
 * catalog entry for moderation must name it (the worker checks at boot): bump it whenever the text changes.
 */
export const MODERATION_PROMPT: TaskPrompt = {
  version: 'moderation-v2',
  system:
    'You are a content moderation system for an online marketplace. You report what in an image could break ' +
    'publishing rules, with evidence. Answer only with JSON that matches the given schema.',
  user:
    'List every category below that you find in this image, each with a confidence from 0 to 1 and evidence: a ' +
    'short rationale, the exact text when the evidence is text in the image, and a box in pixels when you can ' +
    'tell where it is. List nothing that is not there. reason is one sentence about what the image shows.',
};
