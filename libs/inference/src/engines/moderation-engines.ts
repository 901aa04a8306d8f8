import {
  ArgusError,
  type ModerationHit,
  modelOutputJsonSchema,
  MODEL_OUTPUT_SCHEMAS,
  type ModerationResult,
} from '@argus/contracts';
import type { NsfwScores } from '../cpu';
import { OllamaTaskEngine } from '../ollama-task-engine';
import {
  applyPolicy,
  CPU_JUDGED_CATEGORIES,
  moderationPrompt,
  unjudgedCategories,
  type PolicyContext,
} from '../moderation-policy';
import { PROMPTS } from '../prompts';
import { findContactInfo } from '../text-signals';
import type { EngineAnswer, TaskEngine } from '../task-engine';
import { CpuEngine, inputSide, pct, round, type EngineDependencies, type EngineSpec } from './engine-kit';
import { sideOcrLines, type OcrLineLike } from './cpu-ocr';

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

export function ollamaModerationEngine(spec: EngineSpec, deps: EngineDependencies): TaskEngine {
  return new OllamaTaskEngine(deps.ollama(spec.tier), deps.processor, {
    task: 'moderation',
    tier: spec.tier,
    model: spec.model,
    input: spec.input,
    format: modelOutputJsonSchema('moderation'),
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
}

export function cpuModerationEngine(spec: EngineSpec, deps: EngineDependencies): TaskEngine {
  const side = inputSide(spec);
  return new CpuEngine(spec, async ({ image, policy }) => {
    const scores = await deps.nsfw().classify(await deps.processor.toRawRgb(image, side));
    const lines = await sideOcrLines(image, deps);
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
}
