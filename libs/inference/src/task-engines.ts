import {
  ArgusError,
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
import { PROMPTS } from './prompts';
import type { EngineAnswer, EngineRequest, TaskEngine } from './task-engine';

/** Categories the CPU tier's nsfwjs cannot see; a policy that needs them needs a GPU tier. */
export const CPU_UNJUDGED_MODERATION = [
  'violence',
  'weapons',
  'drugs',
  'alcohol',
  'tobacco',
  'gambling',
  'hate_symbols',
  'self_harm',
  'rude_gestures',
  'minors',
] as const;

/** What a vision model adds to product tagging that measurements cannot. */
export const CPU_UNJUDGED_TAGGING = [
  'category',
  'condition',
  'defects',
  'attributes.material',
  'attributes.pattern',
];

/**
 * nsfwjs classes onto the moderation taxonomy: Porn and Hentai are explicit sexual content (drawn or not), Sexy is
 * suggestive; Neutral and Drawing are nothing to report. The decision thresholds are documented in
 * docs/inference.md.
 */
/**
 * Tesseract reads texture and gradients as strings of junk letters at low confidence; words under this are dropped
 * from the CPU tier's answer (real print scores 0.8–0.97 here).
 */
export const MIN_OCR_WORD_CONFIDENCE = 0.6;

export const NSFW_THRESHOLDS = {
  blockExplicit: 0.8,
  reviewExplicit: 0.5,
  reviewSuggestive: 0.7,
  report: 0.05,
};

export function moderationFromNsfw(scores: NsfwScores): EngineAnswer<ModerationResult> {
  const explicit = Math.max(scores.porn, scores.hentai);
  const suggestive = scores.sexy;
  const categories = [
    { id: 'sexual.explicit', confidence: round(explicit) },
    { id: 'sexual.suggestive', confidence: round(suggestive) },
  ].filter((category) => category.confidence >= NSFW_THRESHOLDS.report);
  let decision: ModerationResult['decision'] = 'allow';
  let confidence = scores.neutral + scores.drawing;
  let reason = 'No sexual content detected (nsfwjs); other categories were not judged on the CPU tier.';
  if (explicit >= NSFW_THRESHOLDS.blockExplicit) {
    decision = 'block';
    confidence = explicit;
    reason = `Explicit sexual content (nsfwjs ${pct(explicit)}).`;
  } else if (explicit >= NSFW_THRESHOLDS.reviewExplicit || suggestive >= NSFW_THRESHOLDS.reviewSuggestive) {
    decision = 'review';
    confidence = Math.max(explicit, suggestive);
    reason = `Possibly sexual content (nsfwjs explicit ${pct(explicit)}, suggestive ${pct(suggestive)}).`;
  }
  const result = { decision, categories, reason, confidence: round(confidence) };
  return {
    result,
    confidence: result.confidence,
    wantsReview: decision === 'review',
    needsGpuTier: [...CPU_UNJUDGED_MODERATION],
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
        outputSchema: MODEL_OUTPUT_SCHEMAS.moderation,
        interpret: (output) =>
          Promise.resolve({
            result: output,
            confidence: output.confidence,
            wantsReview: output.decision === 'review',
            needsGpuTier: [],
          }),
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
      return new CpuEngine(spec, async ({ image }) => {
        const rgb = await deps.processor.toRawRgb(image, side);
        return moderationFromNsfw(await deps.nsfw().classify(rgb));
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
        const prepared = await deps.processor.prepareForOcr(image);
        const page = await deps.tesseract().recognize(prepared.data);
        const unscale = (box: { x: number; y: number; width: number; height: number }) => ({
          x: Math.round(box.x / prepared.scale),
          y: Math.round(box.y / prepared.scale),
          width: Math.round(box.width / prepared.scale),
          height: Math.round(box.height / prepared.scale),
        });
        const lines = page.lines.flatMap((line) => {
          const words = line.words.filter((word) => word.confidence >= MIN_OCR_WORD_CONFIDENCE);
          if (words.length === 0) return [];
          const text =
            words.length === line.words.length ? line.text : words.map((word) => word.text).join(' ');
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

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}

function pct(value: number): string {
  return `${Math.round(value * 100)}%`;
}
