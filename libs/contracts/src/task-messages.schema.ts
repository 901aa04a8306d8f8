import { z } from 'zod';
import { taskErrorSchema } from './error-codes';
import { imageRefSchema } from './image.schema';
import {
  moderationModelOutputSchema,
  moderationResultSchema,
  listingComplianceSchema,
  ocrModelOutputSchema,
  ocrResultSchema,
  piiFindingSchema,
  taggingModelOutputSchema,
  taggingResultSchema,
  describeModelOutputSchema,
  describeResultSchema,
} from './task-results.schema';
import { TASKS, type Task } from './tasks';
import { taskOptionsSchema } from './task-options.schema';
import { escalationSchema, routingOptionsSchema, tierSchema, tierStatusSchema } from './tiers';

const taskRequestShape = z.object({
  requestId: z.string().min(1),
  image: imageRefSchema,
  routing: routingOptionsSchema.default({ tier: 'auto', fallback: false }),
  /** Each task's options, keyed by task; passed to the task untouched. */
  options: taskOptionsSchema.default({}),
  /**
   * Answer from the result cache or not at all: a miss is a NOT_FOUND error reply, and the image is never read (it
   * may not be stored). The gateway's fast path for an upload it has seen before; it falls back to the full path.
   */
  cacheOnly: z.boolean().optional(),
});

/**
 * A 0.1 gateway sent each task's options as top-level fields (`policy`, `profile`, `pii`, `tagging`, `ocr`). They are
 * read into `options` until 0.3, so a rolling upgrade loses no option.
 */
function fromLegacyFields(payload: unknown): unknown {
  if (typeof payload !== 'object' || payload === null || 'options' in payload) return payload;
  const { policy, profile, pii, tagging, ocr, ...rest } = payload as Record<string, unknown>;
  if ([policy, profile, pii, tagging, ocr].every((value) => value === undefined)) return payload;
  const object = (value: unknown) => (typeof value === 'object' && value !== null ? value : {});
  const options: Record<string, unknown> = {};
  if (policy !== undefined) options.moderation = { policy };
  if (profile !== undefined || tagging !== undefined) {
    options.tagging = { ...object(tagging), ...(profile !== undefined ? { profile } : {}) };
  }
  if (pii !== undefined || ocr !== undefined) {
    options.ocr = { ...object(ocr), ...(pii !== undefined ? { pii } : {}) };
  }
  return { ...rest, options };
}

/** Sent by the gateway on a task subject; the image travels by reference, never inline. */
export const taskRequestSchema = z.preprocess(fromLegacyFields, taskRequestShape);
export type TaskRequest = z.infer<typeof taskRequestSchema>;

const replyMetaSchema = z.object({
  engine: z.enum(['ollama', 'cpu', 'none']),
  tier: z.union([tierSchema, z.literal('none')]),
  model: z.string(),
  durationMs: z.number().nonnegative(),
  escalations: z.array(escalationSchema).describe('the hops `auto` took, cheapest first'),
});

const okMetaSchema = replyMetaSchema.extend({
  status: z.literal('ok'),
  cached: z.boolean(),
  needsGpuTier: z
    .array(z.string())
    .describe('fields or categories this tier could not judge; a GPU tier can'),
});

/** The worker's reply: either the task's own fields or a coded error, always with engine, tier, model and time. */
function taskReplySchema<Shape extends z.ZodRawShape>(result: z.ZodObject<Shape>) {
  return z.discriminatedUnion('status', [
    okMetaSchema.extend(result.shape),
    replyMetaSchema.extend({ status: z.literal('error'), error: taskErrorSchema }),
  ]);
}

export const moderationReplySchema = taskReplySchema(moderationResultSchema);
export const taggingReplySchema = taskReplySchema(
  taggingResultSchema.extend({ compliance: listingComplianceSchema }),
);
export const ocrReplySchema = taskReplySchema(
  ocrResultSchema.extend({ pii: z.array(piiFindingSchema).optional() }),
);

export const describeReplySchema = taskReplySchema(describeResultSchema);

export type ModerationReply = z.infer<typeof moderationReplySchema>;
export type TaggingReply = z.infer<typeof taggingReplySchema>;
export type OcrReply = z.infer<typeof ocrReplySchema>;
export type DescribeReply = z.infer<typeof describeReplySchema>;
export type TaskReply = ModerationReply | TaggingReply | OcrReply | DescribeReply;
export type TaskErrorReply = Extract<TaskReply, { status: 'error' }>;

/** The base model-output schema of each task; tagging and OCR refine it per request (categories, schemas, mode). */
export const MODEL_OUTPUT_SCHEMAS = {
  moderation: moderationModelOutputSchema,
  tagging: taggingModelOutputSchema,
  ocr: ocrModelOutputSchema,
  describe: describeModelOutputSchema,
} as const satisfies Record<Task, z.ZodObject>;

export const TASK_RESULT_SCHEMAS = {
  moderation: moderationResultSchema,
  tagging: taggingResultSchema,
  ocr: ocrResultSchema,
  describe: describeResultSchema,
} as const satisfies Record<Task, z.ZodObject>;

export const TASK_REPLY_SCHEMAS = {
  moderation: moderationReplySchema,
  tagging: taggingReplySchema,
  ocr: ocrReplySchema,
  describe: describeReplySchema,
} as const satisfies Record<Task, z.ZodType>;

export const pingReplySchema = z.object({
  service: z.string(),
  ready: z.boolean(),
  checks: z.record(z.string(), z.object({ ok: z.boolean(), detail: z.string() })),
});
export type PingReply = z.infer<typeof pingReplySchema>;

/** One task's view of one tier, reported by the worker that owns the task. */
export const tierModelReportSchema = z.object({
  tier: tierSchema,
  engine: z.enum(['ollama', 'cpu']),
  url: z.string().nullable(),
  model: z.string(),
  status: tierStatusSchema,
  detail: z.string(),
  loaded: z.boolean(),
  sizeVram: z.number().nullable().describe('bytes of VRAM the loaded model uses, from /api/ps'),
  vramEstimateGiB: z.number().nullable(),
  vramBudgetGiB: z.number().nullable(),
  concurrency: z.number().int(),
  promptVersion: z.string(),
  breaker: z.enum(['closed', 'open', 'half-open']),
});
export type TierModelReport = z.infer<typeof tierModelReportSchema>;

export const modelsReplySchema = z.object({ task: z.string(), tiers: z.array(tierModelReportSchema) });
export type ModelsReply = z.infer<typeof modelsReplySchema>;

/** Fields of a tier report that describe the tier itself; GET /v1/models lists them once per tier. */
const TIER_FIELDS = { tier: true, engine: true, url: true, vramBudgetGiB: true, concurrency: true } as const;

/** One tier in GET /v1/models: the tier, and each task's model on it. */
export const tierViewSchema = tierModelReportSchema.pick(TIER_FIELDS).extend({
  models: z.array(tierModelReportSchema.omit(TIER_FIELDS).extend({ task: z.enum(TASKS) })),
});
export type TierView = z.infer<typeof tierViewSchema>;

/** Body of GET /v1/models: every worker's report regrouped by tier, and the tasks whose worker did not answer. */
export const modelsViewSchema = z.object({
  tiers: z.array(tierViewSchema),
  /** Tasks whose worker did not answer, with why. */
  unreachable: z.array(z.object({ task: z.enum(TASKS), detail: z.string() })),
});
export type ModelsView = z.infer<typeof modelsViewSchema>;

/**
 * Liveness of a task request on the sync path. The gateway names a heartbeat subject in a header; the worker that took
 * the request publishes a heartbeat there at once and then every `intervalMs` until it replies. The gateway fails the
 * request as soon as `TASK_HEARTBEAT.missedBeats` intervals pass without one, so a request on a worker that died
 * ends in seconds (503, retryable) instead of at the deadline.
 */
export const TASK_HEARTBEAT = {
  /** Header on the task request: the subject to publish heartbeats to. Absent: the caller does not watch. */
  subjectHeader: 'Argus-Heartbeat-Subject',
  /** Heartbeats the gateway may miss before it gives the worker up. */
  missedBeats: 3,
  /** Default interval (ARGUS_HEARTBEAT_INTERVAL_MS). */
  defaultIntervalMs: 1_000,
} as const;

/** Published by a worker on the heartbeat subject; it says how often to expect the next one. */
export const taskHeartbeatSchema = z.object({
  intervalMs: z.number().int().positive(),
});
export type TaskHeartbeat = z.infer<typeof taskHeartbeatSchema>;
