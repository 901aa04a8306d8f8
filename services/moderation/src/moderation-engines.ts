import type { z } from 'zod';
import {
  ArgusError,
  type ModerationHit,
  modelOutputJsonSchema,
  MODEL_OUTPUT_SCHEMAS,
  type ModerationResult,
} from '@argus/contracts';
import {
  CpuEngine,
  findContactInfo,
  inputSide,
  ollamaOutputOptions,
  OllamaTaskEngine,
  pct,
  round,
  sideOcrLines,
  type EngineAnswer,
  type EngineDependencies,
  type EngineSpec,
  type NsfwScores,
  type OcrLineLike,
  type TaskEngine,
  type TaskResult,
} from '@argus/inference';
import {
  applyPolicy,
  CPU_JUDGED_CATEGORIES,
  moderationPrompt,
  splitFound,
  unjudgedCategories,
  type PolicyContext,
} from './moderation-policy';
import { MODERATION_PROMPT } from './prompt';

/** nsfwjs probabilities under this are noise and are not reported, not even as weak signals. */
export const NSFW_REPORT_THRESHOLD = 0.05;

/**
 * How much nsfwjs must say before its reading is evidence of a category. Measured on 1,207 safe images from Debian
 * packages (photographed people dancing, jumping and sitting, sports grounds, a beach, streets, fruit, animals,
 * tools, landscapes, wallpapers, drawings, screenshots): Porn + Hentai reached 0.79 (a yellow flower close-up),
 * Hentai alone 0.64 (a drawn forest), Sexy 0.70 (a woman dancing in jeans and a top); issue 13 saw Sexy 0.82 for a
 * footballer in full kit. nsfwjs reads skin tones, warm textures and close-ups as Porn and people in motion as Sexy,
 * so weaker readings are kept as signals and never found. The price is recall: explicit content that nsfwjs scores
 * under 0.9 is not found on the CPU tier, and nsfwjs publishes only a top-1 accuracy (~90% for this model), not a
 * score distribution, so how much that misses is unknown (docs/moderation.md, "Calibration").
 */
export const NSFW_EVIDENCE = { explicit: 0.9, suggestive: 0.9 } as const;

/** nsfwjs classes read as taxonomy categories: `found` is evidence, `weak` is what did not reach {@link NSFW_EVIDENCE}. */
export interface NsfwReading {
  found: ModerationHit[];
  weak: ModerationHit[];
}

/**
 * nsfwjs classes onto the taxonomy: Porn and Hentai together are explicit sexual content (drawn or not), Sexy is
 * suggestive; Neutral and Drawing are nothing to report. A class counts only from its evidence level, where it
 * also outweighs every other class. docs/moderation.md documents the mapping and its calibration.
 */
export function nsfwHits(scores: NsfwScores): NsfwReading {
  const reading: NsfwReading = { found: [], weak: [] };
  const read = (
    id: 'sexual.explicit' | 'sexual.suggestive',
    mass: number,
    evidence: number,
    what: string,
  ) => {
    // Rounded first, so that the reported confidence and the comparison agree (0.6 + 0.3 is 0.8999… in floats).
    const confidence = round(mass);
    if (confidence < NSFW_REPORT_THRESHOLD) return;
    if (confidence >= evidence) {
      reading.found.push({ id, confidence, evidence: { rationale: `nsfwjs: ${what}` } });
      return;
    }
    reading.weak.push({
      id,
      confidence,
      evidence: {
        rationale: `nsfwjs: ${what}, under the ${pct(evidence)} the CPU tier needs to report ${id}`,
      },
    });
  };
  read(
    'sexual.explicit',
    scores.porn + scores.hentai,
    NSFW_EVIDENCE.explicit,
    `Porn ${pct(scores.porn)}, Hentai ${pct(scores.hentai)}`,
  );
  read('sexual.suggestive', scores.sexy, NSFW_EVIDENCE.suggestive, `Sexy ${pct(scores.sexy)}`);
  return reading;
}

/** How sure nsfwjs is of its own reading: the largest of the safe, explicit and suggestive masses. */
export function nsfwConfidence(scores: NsfwScores): number {
  return round(Math.max(scores.neutral + scores.drawing, Math.max(scores.porn, scores.hentai), scores.sexy));
}

/**
 * Contact details in the image's text, quoted, boxed by the words that spell them (the line's box when the OCR gave
 * no words); confidence is the line's OCR confidence.
 */
export function contactHits(lines: OcrLineLike[]): ModerationHit[] {
  return findContactInfo(lines).map((hit) => {
    const line = lines.at(hit.line);
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

/**
 * Applies the request's policy to what an engine saw. Only hits at or above the policy's review threshold are found
 * categories (they decide, and the decision counter counts them); weaker ones, and the engine's own `weak` readings,
 * go to `signals`, which never count. `reason` may be written from the categories found.
 */
export function moderationAnswer(
  context: PolicyContext | undefined,
  hits: ModerationHit[],
  reason: string | ((found: ModerationHit[], signals: ModerationHit[]) => string),
  confidence: number,
  judged: readonly string[] | 'all',
  weak: ModerationHit[] = [],
): EngineAnswer<ModerationResult> {
  if (!context) throw new ArgusError('INTERNAL', 'moderation needs a policy');
  const { found, signals: belowReview } = splitFound(context.policy, hits);
  const signals = [...weak, ...belowReview];
  const { decision, triggeredBy } = applyPolicy(context.policy, found);
  return {
    result: {
      decision,
      policy: context.name,
      triggeredBy,
      categories: found,
      ...(signals.length > 0 ? { signals } : {}),
      reason: typeof reason === 'string' ? reason : reason(found, signals),
      confidence,
    },
    confidence,
    wantsReview: decision === 'review',
    needsGpuTier: judged === 'all' ? [] : unjudgedCategories(context.policy, judged),
  };
}

/** The CPU tier's one-sentence summary: what was found, or that nothing was (and that weak signals did not count). */
export function cpuModerationReason(found: ModerationHit[], signals: ModerationHit[]): string {
  if (found.length > 0)
    return `Found ${[...new Set(found.map((hit) => hit.id))].join(', ')} on the CPU tier.`;
  const weak =
    signals.length > 0 ? " Weak signals under the policy's thresholds did not count (see signals)." : '';
  return `Nothing found by nsfwjs or in the text; other categories were not judged on the CPU tier.${weak}`;
}

/** Moderation's options as its engines take them: the request's policy, resolved from its name. */
export interface ModerationEngineOptions {
  policy: PolicyContext;
}

export function ollamaModerationEngine(
  spec: EngineSpec,
  deps: EngineDependencies,
): TaskEngine<TaskResult, ModerationEngineOptions> {
  return new OllamaTaskEngine<z.infer<typeof MODEL_OUTPUT_SCHEMAS.moderation>, ModerationEngineOptions>(
    deps.ollama(spec.tier),
    deps.processor,
    {
      task: 'moderation',
      tier: spec.tier,
      model: spec.model,
      input: spec.input,
      format: modelOutputJsonSchema('moderation'),
      prompt: MODERATION_PROMPT,
      userPrompt: (request) => moderationPrompt(MODERATION_PROMPT.user, request.options.policy.policy),
      outputSchema: MODEL_OUTPUT_SCHEMAS.moderation,
      ...ollamaOutputOptions(spec),
      interpret: (output, request) =>
        Promise.resolve(
          moderationAnswer(
            request.options.policy,
            output.categories,
            output.reason,
            output.confidence,
            'all',
          ),
        ),
    },
  );
}

export function cpuModerationEngine(
  spec: EngineSpec,
  deps: EngineDependencies,
): TaskEngine<TaskResult, ModerationEngineOptions> {
  const side = inputSide(spec);
  return new CpuEngine<ModerationEngineOptions>(spec, async ({ image, context, options: { policy } }) => {
    const scores = await deps.nsfw().classify(await deps.processor.toRawRgb(image, side));
    const lines = await sideOcrLines(context, deps);
    const nsfw = nsfwHits(scores);
    const hits = [...nsfw.found, ...contactHits(lines ?? [])];
    // Text that could not be read in time was not judged: a GPU tier should look at it.
    const judged = lines
      ? CPU_JUDGED_CATEGORIES
      : CPU_JUDGED_CATEGORIES.filter((id) => id !== 'text.contact_info');
    return moderationAnswer(policy, hits, cpuModerationReason, nsfwConfidence(scores), judged, nsfw.weak);
  });
}
