import { z } from 'zod';
import { moderationHitSchema } from './moderation.schema';
import { MODERATION_DECISIONS } from './task-results.schema';
import { TASKS } from './tasks';

/** KV bucket of the human review queue, one key per review (`<jobId>.<itemId>`). Watch it to feed other tools. */
export const REVIEW_BUCKET = 'argus-reviews';
export const MAX_REVIEW_PAGE_SIZE = 500;

/** Why an item is in the queue: the policy said `review`, or it was sampled to audit the model (ARGUS_REVIEW_AUDIT_RATE). */
export const REVIEW_REASONS = ['policy', 'audit'] as const;
export const REVIEW_STATUSES = ['pending', 'resolved'] as const;
/** A person's decision is final, so it is allow or block; `review` is not an answer. */
export const HUMAN_DECISIONS = ['allow', 'block'] as const;
export type HumanDecision = (typeof HUMAN_DECISIONS)[number];

export function reviewId(jobId: string, itemId: string): string {
  return `${jobId}.${itemId}`;
}

export const reviewResolutionSchema = z.object({
  decision: z.enum(HUMAN_DECISIONS),
  reviewer: z.string(),
  note: z.string().optional(),
  resolvedAt: z.string(),
});
export type ReviewResolution = z.infer<typeof reviewResolutionSchema>;

/** One entry of the review queue, as stored and as GET /v1/reviews answers it. */
export const reviewSchema = z.object({
  id: z.string(),
  jobId: z.string(),
  itemId: z.string(),
  /** The job's tenant; only its keys see the review. */
  tenant: z.string().optional(),
  reason: z.enum(REVIEW_REASONS),
  status: z.enum(REVIEW_STATUSES),
  policy: z.string(),
  modelDecision: z.enum(MODERATION_DECISIONS),
  /** The categories behind the model's decision (its `triggeredBy`); empty when nothing triggered. */
  categories: z.array(z.string()),
  modelReason: z.string(),
  confidence: z.number(),
  tier: z.string(),
  model: z.string(),
  createdAt: z.string(),
  /** Where a reviewer sees the image (served while the job's images are kept). */
  imageUrl: z.string(),
  resolution: reviewResolutionSchema.optional(),
});
export type Review = z.infer<typeof reviewSchema>;

const thresholdLevelsSchema = z.object({
  block: z
    .number()
    .optional()
    .describe('at or above this confidence the category blocks; absent: it never blocks'),
  review: z.number().optional().describe('at or above this confidence the category goes to review'),
});

/**
 * What a reviewer needs to judge an item, read from the item's stored results when GET /v1/reviews/{id} answers:
 * the model's findings with their evidence (boxes and quoted text, in pixels of the stored image that
 * /v1/reviews/{id}/image serves), the policy's thresholds for each category found, and the OCR lines when the job
 * also read the text (so a quote can be shown where it was read).
 */
export const reviewEvidenceSchema = z.object({
  categories: z.array(moderationHitSchema).describe('the categories the model found, with their evidence'),
  signals: z.array(moderationHitSchema).describe("weak readings under the policy's review threshold"),
  reason: z.string(),
  policyDescription: z.string().optional(),
  thresholds: z
    .record(z.string(), thresholdLevelsSchema)
    .describe("the policy's thresholds for each category found (the id's own, its family's, or `*`)"),
  allowedByPolicy: z.array(z.string()).describe('categories or families the policy never counts'),
  ocrLines: z
    .array(
      z.object({
        text: z.string(),
        confidence: z.number().optional(),
        box: z.object({ x: z.number(), y: z.number(), width: z.number(), height: z.number() }).optional(),
      }),
    )
    .optional()
    .describe("the item's OCR lines, when the job ran OCR"),
});
export type ReviewEvidence = z.infer<typeof reviewEvidenceSchema>;

/** GET /v1/reviews/{id}: the entry plus its evidence; `evidence` is null once the item's results have expired. */
export const reviewDetailSchema = reviewSchema.extend({ evidence: reviewEvidenceSchema.nullable() });
export type ReviewDetail = z.infer<typeof reviewDetailSchema>;

export const reviewQuerySchema = z.object({
  status: z.enum([...REVIEW_STATUSES, 'all']).default('pending'),
  policy: z.string().max(128).optional(),
  /** A category id, or a family prefix such as `violence` (matches `violence.*`). */
  category: z.string().max(128).optional(),
  reason: z.enum(REVIEW_REASONS).optional(),
  jobId: z.string().max(128).optional(),
  /** Only entries at least this old, in seconds (the backlog that waits too long). */
  minAgeSeconds: z.coerce.number().int().min(0).optional(),
  /** Only entries at most this old, in seconds. */
  maxAgeSeconds: z.coerce.number().int().min(0).optional(),
  page: z.coerce.number().int().min(1).default(1),
  pageSize: z.coerce.number().int().min(1).max(MAX_REVIEW_PAGE_SIZE).default(50),
});
export type ReviewQuery = z.infer<typeof reviewQuerySchema>;

export const reviewListSchema = z.object({
  reviews: z.array(reviewSchema),
  page: z.object({ number: z.number().int(), size: z.number().int(), total: z.number().int() }),
});
export type ReviewList = z.infer<typeof reviewListSchema>;

/** Body of POST /v1/reviews/:id. */
export const resolveReviewBodySchema = z.strictObject({
  decision: z.enum(HUMAN_DECISIONS),
  reviewer: z.string().trim().min(1, 'reviewer is required').max(200),
  note: z.string().max(2000).optional(),
});
export type ResolveReviewBody = z.infer<typeof resolveReviewBodySchema>;

/** Webhooks wait in a JetStream work queue, so a gateway restart does not lose one. */
export const WEBHOOK_STREAM = 'ARGUS_WEBHOOKS';
export const WEBHOOK_SUBJECT = 'argus.v1.webhooks';
export const WEBHOOK_CONSUMER = 'argus-webhooks';
/** The gateways' durable consumer on the job results bucket: every written result is an event. */
export const RESULT_EVENTS_CONSUMER = 'argus-job-events';

export const WEBHOOK_EVENT_TYPES = ['job.completed', 'item.decided'] as const;

/** What Argus POSTs to a job's callbackUrl. `id` is unique per event, so a receiver can drop a repeat delivery. */
export const webhookEventSchema = z.discriminatedUnion('type', [
  z.object({
    id: z.string(),
    type: z.literal('job.completed'),
    jobId: z.string(),
    status: z.enum(['completed', 'cancelled']),
    counts: z.object({
      total: z.number().int(),
      done: z.number().int(),
      failed: z.number().int(),
      dead: z.number().int(),
      cancelled: z.number().int(),
    }),
    /** GET this for the results. */
    resultsUrl: z.string(),
    at: z.string(),
  }),
  z.object({
    id: z.string(),
    type: z.literal('item.decided'),
    jobId: z.string(),
    itemId: z.string(),
    task: z.enum(TASKS),
    decision: z.enum(MODERATION_DECISIONS),
    policy: z.string(),
    categories: z.array(z.string()),
    reason: z.string(),
    at: z.string(),
  }),
]);
export type WebhookEvent = z.infer<typeof webhookEventSchema>;

/** A queued webhook: the event and where it goes. */
export const webhookMessageSchema = z.object({ url: z.string(), event: webhookEventSchema });
export type WebhookMessage = z.infer<typeof webhookMessageSchema>;

export const webhookAttemptSchema = z.object({
  attempt: z.number().int(),
  at: z.string(),
  status: z.number().int().optional(),
  error: z.string().optional(),
  durationMs: z.number(),
});

/** One delivery in the job's log (GET /v1/jobs/:id `webhooks`). */
export const webhookDeliverySchema = z.object({
  eventId: z.string(),
  type: z.enum(WEBHOOK_EVENT_TYPES),
  itemId: z.string().optional(),
  delivered: z.boolean(),
  attempts: z.array(webhookAttemptSchema),
});
export type WebhookDelivery = z.infer<typeof webhookDeliverySchema>;
