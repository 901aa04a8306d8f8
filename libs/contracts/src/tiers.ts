import { z } from 'zod';

/** VRAM tiers, cheapest first. `cpu` is the embedded engines; the others are Ollama deployments. */
export const TIERS = ['cpu', 'small', 'medium', 'large'] as const;
export const tierSchema = z.enum(TIERS);
export type TierName = z.infer<typeof tierSchema>;

/**
 * JetStream KV bucket of the Ollama tiers' slots (admission control): one key per slot, `<tier>.<n>`, shared by every
 * worker process and pod that calls the tier.
 */
export const TIER_SLOT_BUCKET = 'argus-tier-slots';

export const TIER_CHOICES = ['auto', ...TIERS] as const;
export const tierChoiceSchema = z.enum(TIER_CHOICES);
export type TierChoice = z.infer<typeof tierChoiceSchema>;

/** Why `auto` moved a request from one tier to the next. */
export const ESCALATION_REASONS = [
  'low_confidence',
  'review',
  'cannot_judge',
  'unavailable',
  'breaker_open',
  'failed',
] as const;
export const escalationSchema = z.object({
  from: tierSchema,
  to: tierSchema,
  reason: z.enum(ESCALATION_REASONS),
  detail: z.string().optional(),
});
export type Escalation = z.infer<typeof escalationSchema>;

/** Routing options a caller may set per request. */
export const routingOptionsSchema = z.object({
  tier: tierChoiceSchema.default('auto'),
  /** With a pinned tier that is unavailable, try the others instead of failing. Never implied. */
  fallback: z.boolean().default(false),
});
export type RoutingOptions = z.infer<typeof routingOptionsSchema>;

export const TIER_STATUSES = ['ready', 'missing', 'no-vision', 'unreachable', 'warming', 'disabled'] as const;
export const tierStatusSchema = z.enum(TIER_STATUSES);
export type TierStatus = z.infer<typeof tierStatusSchema>;
