/**
 * The describe prompt. Its version travels in every answer's cache key and in traces, so a change here is visible and
 * never mixes answers of two prompts: bump it with any change to the text or to the output schema.
 */
export const DESCRIBE_PROMPT = {
  version: 'describe-v1',
  system:
    'You describe images for an online shop: captions, alt text for screen readers, and answers to questions. You ' +
    'say only what is visible. You never guess brands, names, places or text you cannot read. Answer only with ' +
    'JSON that matches the given schema.',
  user:
    'caption is one sentence saying what the image shows. altText describes the image for someone who cannot see ' +
    'it, in at most 125 characters, without starting with "image of", "picture of" or "photo of". tags are up to ' +
    '12 short lowercase keywords for what is visible.',
};

/** The instruction added for a question: visual question answering from the image alone, "unknown" allowed. */
export function questionInstruction(question: string): string {
  return (
    `Also answer this question about the image: ${JSON.stringify(question)}. answer uses only what is visible in ` +
    'the image; when the image does not show it, answer exactly "unknown" with answerConfidence 0. ' +
    'answerConfidence is how sure you are, 0 to 1.'
  );
}

/** The language instruction: the text fields in the requested language (a BCP 47 tag). */
export function languageInstruction(language: string): string {
  return language.toLowerCase() === 'en' || language.toLowerCase().startsWith('en-')
    ? ''
    : `Write caption, altText, tags and answer in the language with BCP 47 tag ${language}.`;
}
