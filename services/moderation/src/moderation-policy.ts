import { createHash } from 'node:crypto';
import {
  MODERATION_CATEGORIES,
  MODERATION_CATEGORY_IDS,
  type ModerationHit,
  type ModerationResult,
} from '@argus/contracts';
import { categoryFamily, thresholdsFor, type ModerationPolicy } from '@argus/config';

export interface PolicyContext {
  name: string;
  policy: ModerationPolicy;
}

/** What the CPU tier can see: nsfwjs for sexual content, OCR for contact details in the image's text. */
export const CPU_JUDGED_CATEGORIES = ['sexual.explicit', 'sexual.suggestive', 'text.contact_info'];

export function isAllowed(policy: ModerationPolicy, id: string): boolean {
  return policy.allowed.includes(id) || policy.allowed.includes(categoryFamily(id));
}

/**
 * The policy's decision: block if any category that is not allowed reaches its block threshold, else review if any
 * reaches its review threshold, else allow. `triggeredBy` names the categories behind the decision.
 */
export function applyPolicy(
  policy: ModerationPolicy,
  hits: ModerationHit[],
): Pick<ModerationResult, 'decision' | 'triggeredBy'> {
  const counted = hits.filter((hit) => !isAllowed(policy, hit.id));
  const blocking = counted.filter((hit) => {
    const { block } = thresholdsFor(policy, hit.id);
    return block !== undefined && hit.confidence >= block;
  });
  if (blocking.length > 0) return { decision: 'block', triggeredBy: unique(blocking) };
  const reviewing = counted.filter((hit) => {
    const { review } = thresholdsFor(policy, hit.id);
    return review !== undefined && hit.confidence >= review;
  });
  if (reviewing.length > 0) return { decision: 'review', triggeredBy: unique(reviewing) };
  return { decision: 'allow', triggeredBy: [] };
}

/**
 * The confidence from which a category counts under the policy: its review threshold, else its block threshold.
 * Undefined when the policy sets neither (the category can never change the decision).
 */
export function countingThreshold(policy: ModerationPolicy, id: string): number | undefined {
  const { block, review } = thresholdsFor(policy, id);
  return review ?? block;
}

/**
 * Splits what an engine saw into the categories found, at or above the policy's counting threshold, and weak
 * signals below it. Only found categories are reported as such, decide, and feed the decision counter; signals are
 * kept so that a reader can see what the engine saw and why it did not count.
 */
export function splitFound(
  policy: ModerationPolicy,
  hits: ModerationHit[],
): { found: ModerationHit[]; signals: ModerationHit[] } {
  const found: ModerationHit[] = [];
  const signals: ModerationHit[] = [];
  for (const hit of hits) {
    const threshold = countingThreshold(policy, hit.id);
    (threshold !== undefined && hit.confidence >= threshold ? found : signals).push(hit);
  }
  return { found, signals };
}

function unique(hits: ModerationHit[]): string[] {
  return [...new Set(hits.map((hit) => hit.id))];
}

/** Categories (and custom rules) the policy enforces that an engine judging only `judged` cannot see. */
export function unjudgedCategories(policy: ModerationPolicy, judged: readonly string[]): string[] {
  const enforced = MODERATION_CATEGORY_IDS.filter((id) => !isAllowed(policy, id) && !judged.includes(id));
  return [...enforced, ...policy.rules.map((_rule, index) => `custom.${index + 1}`)];
}

/** Cache variant: the same image under another policy (or an edited one) is another answer. */
export function policyFingerprint(context: PolicyContext): string {
  return `${context.name}-${createHash('sha256').update(JSON.stringify(context.policy)).digest('hex').slice(0, 12)}`;
}

/** The moderation prompt: the taxonomy, and the policy's house rules as numbered custom categories. */
export function moderationPrompt(base: string, policy: ModerationPolicy): string {
  const taxonomy = Object.entries(MODERATION_CATEGORIES)
    .map(([id, description]) => `- ${id}: ${description}`)
    .join('\n');
  const rules =
    policy.rules.length === 0
      ? ''
      : `\nAlso check these house rules; report a violation of rule n as category custom.n:\n${policy.rules
          .map((rule, index) => `${index + 1}. ${rule}`)
          .join('\n')}`;
  return `${base}\nCategories:\n${taxonomy}${rules}`;
}
