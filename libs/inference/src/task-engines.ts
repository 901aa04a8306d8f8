import {
  ArgusError,
  type ModerationHit,
  modelOutputJsonSchema,
  MODEL_OUTPUT_SCHEMAS,
  type ModerationResult,
  type OcrResult,
  type TaggingResult,
  type Task,
  type TierName,
} from '@argus/contracts';
import type { ImageMeasurements, ImageProcessor, ModelInputTarget } from '@argus/imaging';
import type { NsfwClassifier, NsfwScores, TesseractOcr } from './cpu';
import { OllamaTaskEngine } from './ollama-task-engine';
import type { OllamaEngine } from './ollama-engine';
import {
  applyPolicy,
  CPU_JUDGED_CATEGORIES,
  moderationPrompt,
  unjudgedCategories,
  type PolicyContext,
} from './moderation-policy';
import { PROMPTS } from './prompts';
import { findContactInfo } from './text-signals';
import type { EngineAnswer, EngineRequest, TaskEngine } from './task-engine';

/** What a vision model adds to product tagging that measurements cannot. */
export const CPU_UNJUDGED_TAGGING = [
  'category',
  'condition',
  'defects',
  'attributes.material',
  'attributes.pattern',
];

/**
 * Tesseract reads texture and gradients as strings of junk letters at low confidence; words under this are dropped
 * from the CPU tier's answer (real print scores 0.8–0.97 here).
 */
export const MIN_OCR_WORD_CONFIDENCE = 0.6;

/** nsfwjs probabilities under this are noise and are not reported as categories. */
export const NSFW_REPORT_THRESHOLD = 0.05;

/**
 * nsfwjs classes onto the taxonomy: Porn and Hentai are explicit sexual content (drawn or not), Sexy is suggestive;
 * Neutral and Drawing are nothing to report. docs/moderation.md documents the mapping.
 */
export function nsfwHits(scores: NsfwScores): ModerationHit[] {
  const explicit = Math.max(scores.porn, scores.hentai);
  const hits: ModerationHit[] = [];
  if (explicit >= NSFW_REPORT_THRESHOLD) {
    hits.push({
      id: 'sexual.explicit',
      confidence: round(explicit),
      evidence: { rationale: `nsfwjs: Porn ${pct(scores.porn)}, Hentai ${pct(scores.hentai)}` },
    });
  }
  if (scores.sexy >= NSFW_REPORT_THRESHOLD) {
    hits.push({
      id: 'sexual.suggestive',
      confidence: round(scores.sexy),
      evidence: { rationale: `nsfwjs: Sexy ${pct(scores.sexy)}` },
    });
  }
  return hits;
}

/** How sure nsfwjs is of its own reading: the largest of the safe, explicit and suggestive masses. */
export function nsfwConfidence(scores: NsfwScores): number {
  return round(Math.max(scores.neutral + scores.drawing, Math.max(scores.porn, scores.hentai), scores.sexy));
}

export interface OcrLineLike {
  text: string;
  confidence: number;
  box: { x: number; y: number; width: number; height: number };
}

/** Contact details in the image's text, quoted, with the line's box; confidence is the line's OCR confidence. */
export function contactHits(lines: OcrLineLike[]): ModerationHit[] {
  return findContactInfo(lines).map((hit) => {
    const line = lines.find((candidate) => candidate.text.includes(hit.quote));
    return {
      id: 'text.contact_info',
      confidence: round(Math.min(0.99, line?.confidence ?? 0.9)),
      evidence: {
        rationale: `the image's text contains ${hit.kind === 'url' ? 'a URL' : hit.kind === 'email' ? 'an e-mail address' : 'a phone number'}`,
        quote: hit.quote,
        ...(hit.box ? { box: hit.box } : {}),
      },
    };
  });
}

/** Applies the request's policy to the hits an engine found. */
export function moderationAnswer(
  context: PolicyContext | undefined,
  hits: ModerationHit[],
  reason: string,
  confidence: number,
  judged: readonly string[] | 'all',
): EngineAnswer<ModerationResult> {
  if (!context) throw new ArgusError('INTERNAL', 'moderation needs a policy');
  const { decision, triggeredBy } = applyPolicy(context.policy, hits);
  return {
    result: { decision, policy: context.name, triggeredBy, categories: hits, reason, confidence },
    confidence,
    wantsReview: decision === 'review',
    needsGpuTier: judged === 'all' ? [] : unjudgedCategories(context.policy, judged),
  };
}

export function taggingFromMeasurements(measured: ImageMeasurements): TaggingResult {
  const top = measured.dominantColours.at(0);
  return {
    category: null,
    attributes: top ? { colour: top.name } : {},
    colours: measured.dominantColours,
    quality: {
      width: measured.width,
      height: measured.height,
      exposure: measured.exposure,
      sharpness: measured.sharpness,
    },
    condition: null,
    defects: [],
    confidence: null,
  };
}

export interface EngineDependencies {
  processor: Pick<ImageProcessor, 'resizeForModel' | 'toRawRgb' | 'prepareForOcr' | 'measure'>;
  nsfw: () => Pick<NsfwClassifier, 'classify'>;
  tesseract: () => Pick<TesseractOcr, 'recognize'>;
  ollama: (tier: TierName) => Pick<OllamaEngine, 'chat'>;
}

export interface EngineSpec {
  task: Task;
  tier: TierName;
  kind: 'cpu' | 'ollama';
  model: string;
  input: ModelInputTarget;
}

export function createTaskEngine(spec: EngineSpec, deps: EngineDependencies): TaskEngine {
  return spec.kind === 'cpu' ? createCpuEngine(spec, deps) : createOllamaEngine(spec, deps);
}

function createOllamaEngine(spec: EngineSpec, deps: EngineDependencies): TaskEngine {
  const common = {
    tier: spec.tier,
    model: spec.model,
    input: spec.input,
    format: modelOutputJsonSchema(spec.task),
  };
  const ollama = deps.ollama(spec.tier);
  switch (spec.task) {
    case 'moderation':
      return new OllamaTaskEngine(ollama, deps.processor, {
        ...common,
        task: 'moderation',
        prompt: PROMPTS.moderation,
        userPrompt: (request) =>
          request.policy
            ? moderationPrompt(PROMPTS.moderation.user, request.policy.policy)
            : PROMPTS.moderation.user,
        outputSchema: MODEL_OUTPUT_SCHEMAS.moderation,
        interpret: (output, request) =>
          Promise.resolve(
            moderationAnswer(request.policy, output.categories, output.reason, output.confidence, 'all'),
          ),
      });
    case 'tagging':
      return new OllamaTaskEngine(ollama, deps.processor, {
        ...common,
        task: 'tagging',
        prompt: PROMPTS.tagging,
        outputSchema: MODEL_OUTPUT_SCHEMAS.tagging,
        interpret: async (output, request) => {
          const measured = taggingFromMeasurements(await deps.processor.measure(request.image));
          // Measured colours are exact; the model's words for material, brand and the like are not measurable.
          const result: TaggingResult = {
            ...measured,
            category: output.category,
            attributes: { ...measured.attributes, ...output.attributes },
            condition: output.condition,
            defects: output.defects,
            confidence: output.confidence,
          };
          return { result, confidence: output.confidence, wantsReview: false, needsGpuTier: [] };
        },
      });
    case 'ocr':
      return new OllamaTaskEngine(ollama, deps.processor, {
        ...common,
        task: 'ocr',
        prompt: PROMPTS.ocr,
        outputSchema: MODEL_OUTPUT_SCHEMAS.ocr,
        interpret: (output) => {
          const result: OcrResult = { text: output.text, lines: output.lines, confidence: null };
          return Promise.resolve({ result, confidence: null, wantsReview: false, needsGpuTier: [] });
        },
      });
  }
}

class CpuEngine implements TaskEngine {
  readonly kind = 'cpu' as const;
  readonly promptVersion = 'cpu-v1';
  readonly fingerprint: string;

  constructor(
    private readonly spec: EngineSpec,
    private readonly runner: (request: EngineRequest) => Promise<EngineAnswer>,
  ) {
    this.fingerprint = JSON.stringify([spec.model, this.promptVersion, spec.input]);
  }

  get task(): Task {
    return this.spec.task;
  }
  get tier(): TierName {
    return this.spec.tier;
  }
  get model(): string {
    return this.spec.model;
  }

  async run(request: EngineRequest): Promise<EngineAnswer> {
    if (request.signal.aborted)
      throw new ArgusError('INFERENCE_TIMEOUT', 'the deadline passed before the CPU engine ran');
    return this.runner(request);
  }
}

function createCpuEngine(spec: EngineSpec, deps: EngineDependencies): TaskEngine {
  const side = 'square' in spec.input ? spec.input.square : spec.input.longSide;
  switch (spec.task) {
    case 'moderation':
      return new CpuEngine(spec, async ({ image, policy }) => {
        const scores = await deps.nsfw().classify(await deps.processor.toRawRgb(image, side));
        const lines = await cpuOcrLines(image, deps);
        const hits = [...nsfwHits(scores), ...contactHits(lines ?? [])];
        const reason =
          hits.length === 0
            ? 'Nothing found by nsfwjs or in the text; other categories were not judged on the CPU tier.'
            : `Found ${hits.map((hit) => hit.id).join(', ')} on the CPU tier.`;
        // Text that could not be read in time was not judged: a GPU tier should look at it.
        const judged = lines
          ? CPU_JUDGED_CATEGORIES
          : CPU_JUDGED_CATEGORIES.filter((id) => id !== 'text.contact_info');
        return moderationAnswer(policy, hits, reason, nsfwConfidence(scores), judged);
      });
    case 'tagging':
      return new CpuEngine(spec, async ({ image }) => ({
        result: taggingFromMeasurements(await deps.processor.measure(image)),
        confidence: null,
        wantsReview: false,
        needsGpuTier: [...CPU_UNJUDGED_TAGGING],
      }));
    case 'ocr':
      return new CpuEngine(spec, async ({ image }) => {
        const { page, lines } = await cpuOcr(image, deps);
        const result: OcrResult = {
          text: lines.map((line) => line.text).join('\n'),
          lines,
          // The page's own confidence, dropped words included, so a noisy page still reads as unsure and escalates.
          confidence: page.lines.length > 0 ? round(page.confidence) : 0,
        };
        return { result, confidence: result.confidence, wantsReview: false, needsGpuTier: [] };
      });
  }
}

/** Tesseract on the preprocessed image: confident words only, boxes in pixels of the stored image. */
export async function cpuOcr(
  image: Uint8Array,
  deps: Pick<EngineDependencies, 'processor' | 'tesseract'>,
  budgetMs?: number,
) {
  const prepared = await deps.processor.prepareForOcr(image);
  const page = await deps.tesseract().recognize(prepared.data, budgetMs);
  const unscale = (box: { x: number; y: number; width: number; height: number }) => ({
    x: Math.round(box.x / prepared.scale),
    y: Math.round(box.y / prepared.scale),
    width: Math.round(box.width / prepared.scale),
    height: Math.round(box.height / prepared.scale),
  });
  const lines = page.lines.flatMap((line) => {
    const words = line.words.filter((word) => word.confidence >= MIN_OCR_WORD_CONFIDENCE);
    if (words.length === 0) return [];
    const text = words.length === line.words.length ? line.text : words.map((word) => word.text).join(' ');
    return [
      {
        text,
        confidence: round(line.confidence),
        box: unscale(line.box),
        words: words.map((word) => ({
          text: word.text,
          confidence: round(word.confidence),
          box: unscale(word.box),
        })),
      },
    ];
  });
  return { page, lines };
}

/**
 * Reading text is a side job for moderation (contact details) and tagging (text over the background), so it gets a
 * budget: a busy photo makes tesseract take seconds, and a photo with that much texture rarely carries a phone
 * number a person could read anyway.
 */
export const SIDE_OCR_BUDGET_MS = 3_000;

/** Lines of text, or undefined when tesseract ran out of its budget. */
async function cpuOcrLines(image: Uint8Array, deps: EngineDependencies): Promise<OcrLineLike[] | undefined> {
  try {
    return (await cpuOcr(image, deps, SIDE_OCR_BUDGET_MS)).lines;
  } catch (error) {
    if (error instanceof ArgusError && error.code === 'INFERENCE_TIMEOUT') return undefined;
    throw error;
  }
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}

function pct(value: number): string {
  return `${Math.round(value * 100)}%`;
}
