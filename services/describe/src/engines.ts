import {
  ALT_TEXT_MAX_LENGTH,
  DESCRIBE_MAX_TAGS,
  describeAnswerModelOutputSchema,
  describeModelOutputSchema,
  toModelFormat,
  type DescribeModelOutput,
  type DescribeOptions,
  type DescribeResult,
} from '@argus/contracts';
import type { ImageMeasurements } from '@argus/imaging';
import {
  CpuEngine,
  measurements,
  OllamaTaskEngine,
  ollamaOutputOptions,
  peopleIn,
  sideOcrLines,
  type CpuOcrLine,
  type EngineAnswer,
  type EngineDependencies,
  type EngineSpec,
  type TaskEngine,
  type TaskResult,
} from '@argus/inference';
import type { People } from '@argus/contracts';
import { DESCRIBE_PROMPT, languageInstruction, questionInstruction } from './prompt';

/** What a CPU caption cannot say, whatever it measured: what the image shows. Under `auto` a vision model says it. */
export const CPU_UNJUDGED_DESCRIBE = ['caption.subject'] as const;

const LEADING_FILLER = /^\s*(an?\s+)?(image|picture|photo(graph)?)\s+(of|showing)\s+/i;

/**
 * Alt text as screen-reader guidance asks for it: no "image of" (the reader says it already), a capital first letter,
 * at most {@link ALT_TEXT_MAX_LENGTH} characters, cut at a word with an ellipsis when longer.
 */
export function cleanAltText(text: string): { text: string; changed: boolean } {
  let cleaned = text.replace(/\s+/g, ' ').trim().replace(LEADING_FILLER, '');
  cleaned = capitalise(cleaned);
  if (cleaned.length > ALT_TEXT_MAX_LENGTH) {
    const cut = cleaned.slice(0, ALT_TEXT_MAX_LENGTH - 1);
    const atWord = cut.lastIndexOf(' ');
    cleaned = `${(atWord > ALT_TEXT_MAX_LENGTH / 2 ? cut.slice(0, atWord) : cut).replace(/[\s,;:.]+$/, '')}…`;
  }
  return { text: cleaned, changed: cleaned !== text };
}

/** Keywords lowercased, trimmed, without repeats, at most {@link DESCRIBE_MAX_TAGS}. */
export function cleanTags(tags: readonly string[]): string[] {
  const seen = new Set<string>();
  for (const tag of tags) {
    const clean = tag.trim().toLowerCase();
    if (clean) seen.add(clean);
  }
  return [...seen].slice(0, DESCRIBE_MAX_TAGS);
}

const PLAIN_OUTPUT = { schema: describeModelOutputSchema, format: toModelFormat(describeModelOutputSchema) };
const ANSWER_OUTPUT = {
  schema: describeAnswerModelOutputSchema,
  format: toModelFormat(describeAnswerModelOutputSchema),
};

/** A model's answer to the question; "unknown" (however cased) is the honest "the image does not show it". */
function modelAnswer(question: string, output: Partial<DescribeModelOutput>): DescribeResult['answer'] {
  const text = (output.answer ?? '').trim();
  const unknown = text === '' || text.toLowerCase().replace(/[.!]$/, '') === 'unknown';
  return {
    question,
    text: unknown ? 'unknown' : text,
    confidence: unknown ? 0 : (output.answerConfidence ?? null),
  };
}

/** Captions, alt text, tags and answers from a vision model, in the request's language. */
export function ollamaDescribeEngine(
  spec: EngineSpec,
  deps: EngineDependencies,
): TaskEngine<TaskResult, DescribeOptions> {
  return new OllamaTaskEngine<
    Partial<DescribeModelOutput> & { caption: string; altText: string; tags: string[] },
    DescribeOptions
  >(deps.ollama(spec.tier), deps.processor, {
    task: 'describe',
    tier: spec.tier,
    model: spec.model,
    input: spec.input,
    prompt: DESCRIBE_PROMPT,
    // The richest format stands for the engine in its fingerprint; the cache key adds the options.
    format: ANSWER_OUTPUT.format,
    outputSchema: ANSWER_OUTPUT.schema,
    outputFor: ({ options }) => (options.question ? ANSWER_OUTPUT : PLAIN_OUTPUT),
    userPrompt: ({ options }) =>
      [
        DESCRIBE_PROMPT.user,
        options.question ? questionInstruction(options.question) : '',
        languageInstruction(options.language),
      ]
        .filter(Boolean)
        .join(' '),
    ...ollamaOutputOptions(spec),
    interpret: (output, { options }) => {
      const alt = cleanAltText(output.altText);
      const answer = options.question ? modelAnswer(options.question, output) : null;
      const result: DescribeResult = {
        caption: output.caption.trim(),
        altText: alt.text,
        tags: cleanTags(output.tags),
        language: options.language,
        answer,
        confidence: answer?.confidence ?? null,
        ...(alt.changed
          ? { warnings: ["altText: the model's alt text was trimmed to the alt-text rules"] }
          : {}),
      };
      return Promise.resolve({
        result,
        confidence: result.confidence,
        wantsReview: false,
        needsGpuTier: [],
      });
    },
  });
}

/** "navy", "navy and white", "navy, white and beige": the colours that cover a real share of the image. */
function colourPhrase(measured: ImageMeasurements): string | null {
  const names = [
    ...new Set(
      measured.dominantColours.filter((colour) => colour.share >= 0.15).map((colour) => colour.name),
    ),
  ].slice(0, 3);
  if (names.length === 0) return null;
  if (names.length === 1) return names[0];
  return `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
}

function peoplePhrase(people: People | null): string | null {
  if (!people || people.faces === 0) return null;
  return people.faces === 1 ? 'one person' : `${people.faces} people`;
}

/** The text read, quoted and cut to a phrase: only confident lines, in reading order. */
function textPhrase(lines: readonly CpuOcrLine[] | undefined): string | null {
  const text = (lines ?? [])
    .map((line) => line.text.trim())
    .filter(Boolean)
    .join(' ');
  if (!text) return null;
  return `the text “${text.length > 60 ? `${text.slice(0, 57).replace(/\s+\S*$/, '')}…` : text}”`;
}

function qualityNotes(measured: ImageMeasurements): string[] {
  const notes: string[] = [];
  if (measured.sharpness.verdict === 'blurry') notes.push('blurry');
  if (measured.exposure.verdict === 'under') notes.push('dark');
  if (measured.exposure.verdict === 'over') notes.push('overexposed');
  return notes;
}

/**
 * The CPU tier's description: only what its engines measure (the main colours, the text PaddleOCR reads, the faces
 * BlazeFace finds, sharpness and exposure), never what the image shows, which no CPU engine here can tell. The
 * caption says so plainly, `caption.subject` is in needsGpuTier, and a question is left to a vision model.
 */
export function describeFromMeasurements(
  measured: ImageMeasurements,
  lines: readonly CpuOcrLine[] | undefined,
  people: People | null,
  options: DescribeOptions,
): EngineAnswer {
  const colours = colourPhrase(measured);
  const parts = [peoplePhrase(people), textPhrase(lines)].filter((part): part is string => part !== null);
  const quality = qualityNotes(measured);
  const adjectives = [...quality, ...(colours ? [`mostly ${colours}`] : [])];
  const descriptor = `${quality.length > 0 ? `${quality.join(', ')} ` : ''}image`;
  const article = /^[aeiou]/i.test(descriptor) ? 'An' : 'A';
  const lead = `${article} ${descriptor}${colours ? `, mostly ${colours}` : ''}`;
  const caption =
    parts.length > 0
      ? `${lead}${colours ? ',' : ''} with ${parts.join(' and ')}.`
      : `${lead}; what it shows was not judged on the CPU tier.`;
  const altText = cleanAltText(
    parts.length > 0
      ? `${adjectives.length > 0 ? `${capitalise(adjectives.join(', '))} image` : 'Image'} with ${parts.join(' and ')}`
      : `${adjectives.length > 0 ? capitalise(adjectives.join(', ')) : 'An'} image`,
  ).text;
  const tags = cleanTags([
    ...(colours ? colours.split(/, | and /) : []),
    ...(people && people.faces > 0 ? [people.faces === 1 ? 'person' : 'people'] : []),
    ...(lines && lines.length > 0 ? ['text'] : []),
    ...quality,
  ]);
  const needsGpuTier: string[] = [...CPU_UNJUDGED_DESCRIBE];
  if (options.question) needsGpuTier.push('question');
  const english = /^en(-|$)/i.test(options.language);
  if (!english) needsGpuTier.push('language');
  const warnings = english
    ? []
    : [`language: the CPU tier writes English only; ${options.language} needs a vision model`];
  const result: DescribeResult = {
    caption,
    altText,
    tags,
    language: 'en',
    answer: null,
    confidence: null,
    ...(warnings.length > 0 ? { warnings } : {}),
  };
  return { result, confidence: null, wantsReview: false, needsGpuTier };
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

export function cpuDescribeEngine(
  spec: EngineSpec,
  deps: EngineDependencies,
): TaskEngine<TaskResult, DescribeOptions> {
  return new CpuEngine<DescribeOptions>(spec, async ({ context, options }) => {
    const [measured, lines, people] = await Promise.all([
      measurements(context, deps.processor),
      // A failed or slow side read leaves the text out rather than failing the description.
      sideOcrLines(context, deps).catch(() => undefined),
      peopleIn(context, deps),
    ]);
    return describeFromMeasurements(measured, lines, people, options);
  });
}
