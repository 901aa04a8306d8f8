import { z } from 'zod';
import { MODERATION_CATEGORY_IDS, MODERATION_FAMILIES } from '@argus/contracts';
import { loadNamedEntries, type NamedEntries } from './yaml-config';

const KNOWN_KEYS = new Set<string>([...MODERATION_CATEGORY_IDS, ...MODERATION_FAMILIES]);
const categoryKey = z.string().refine((key) => KNOWN_KEYS.has(key), {
  message: 'not a category id or family of the taxonomy (see docs/moderation.md)',
});
const level = z.number().min(0).max(1);

export const moderationPolicySchema = z.strictObject({
  description: z.string(),
  thresholds: z.record(
    z.union([z.literal('*'), categoryKey]),
    z.strictObject({ block: level.optional(), review: level.optional() }),
  ),
  allowed: z.array(categoryKey).default([]),
  rules: z.array(z.string().min(3)).default([]),
});
export type ModerationPolicy = z.infer<typeof moderationPolicySchema>;

export type ModerationPolicies = NamedEntries<ModerationPolicy>;

/** A category's family: `sexual` for `sexual.explicit`. */
export const categoryFamily = (id: string): string => id.split('.')[0] ?? id;

/**
 * The most specific thresholds of a policy for a category: the category id, then its family, then `*`. Custom rules
 * use `*`. The moderation worker decides with them; the gateway shows them beside a review.
 */
export function thresholdsFor(policy: ModerationPolicy, id: string): { block?: number; review?: number } {
  const thresholds: Partial<Record<string, { block?: number; review?: number }>> = policy.thresholds;
  return thresholds[id] ?? thresholds[categoryFamily(id)] ?? thresholds['*'] ?? {};
}

/** Moderation policies, from ARGUS_MODERATION_POLICIES or the shipped file; validated once at boot. */
export function loadModerationPolicies(env: NodeJS.ProcessEnv = process.env): ModerationPolicies {
  return loadNamedEntries({
    entry: moderationPolicySchema,
    collection: 'policies',
    envVariable: 'ARGUS_MODERATION_POLICIES',
    shipped: 'config/moderation-policies.yaml',
    what: 'moderation policies',
    env,
  });
}
