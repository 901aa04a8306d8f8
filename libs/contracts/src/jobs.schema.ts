import { z } from 'zod';
import { analysisOptionFields, exactlyOneImageSource, imageSourceFields } from './analyze.schema';
import { taskErrorSchema } from './error-codes';
import { reviewResolutionSchema, webhookDeliverySchema } from './reviews.schema';
import { taskRequestSchema } from './task-messages.schema';
import { perTask, TASKS, type Task } from './tasks';

/** Most items one job may carry; bigger catalogs are split into several jobs. */
export const MAX_JOB_ITEMS = 1000;
export const MAX_JOB_PAGE_SIZE = 1000;
export const DEFAULT_JOB_PAGE_SIZE = 100;

/** JetStream layout of async jobs, derived from each task's id; libs/messaging creates it idempotently at startup. */
export const JOB_STREAMS = perTask((task) => `ARGUS_${task.toUpperCase()}`);
export const JOB_SUBJECTS = perTask((task) => `argus.v1.jobs.${task}`);
/** Durable pull consumer per task stream; every replica of a worker pulls from the same one. */
export const JOB_CONSUMERS = perTask((task) => `argus-${task}`);
export const DLQ_STREAM = 'ARGUS_DLQ';
export const DLQ_SUBJECTS = perTask((task) => `argus.v1.dlq.${task}`);
/** KV bucket of job metadata, one key per job id. */
export const JOB_BUCKET = 'argus-jobs';
/** KV bucket of per-unit results, key `<jobId>.<itemId>.<task>`; written with create, so at most once. */
export const JOB_RESULT_BUCKET = 'argus-job-results';
/** Object store of job images: a separate bucket because jobs outlive the sync claim check's TTL. */
export const JOB_IMAGE_BUCKET = 'argus-job-images';

/** Item ids become one token of a NATS subject and KV key, so dots may not lead, trail or repeat. */
const ITEM_ID = /^(?!\.)(?!.*\.\.)(?!.*\.$)[A-Za-z0-9._-]{1,128}$/;
export const itemIdSchema = z
  .string()
  .regex(
    ITEM_ID,
    'item ids are 1 to 128 characters of A-Z, a-z, 0-9, ".", "_" and "-", with no leading, trailing or double dot',
  );

/** One unit of work: an item of a job for one task. Also its Nats-Msg-Id and its result key. */
export function jobUnitKey(jobId: string, itemId: string, task: Task): string {
  return `${jobId}.${itemId}.${task}`;
}

/** The object name of an item's normalised image in the job image bucket. */
export function jobImageKey(jobId: string, itemId: string): string {
  return `${jobId}.${itemId}`;
}

/** Ids for items that came without one: `item-N` (1-based position), skipping ids the caller already used. */
export function assignItemIds(ids: ReadonlyArray<string | undefined>): string[] {
  const taken = new Set(ids.filter((id): id is string => id !== undefined));
  return ids.map((id, index) => {
    if (id !== undefined) return id;
    let candidate = `item-${index + 1}`;
    for (let suffix = 2; taken.has(candidate); suffix++) candidate = `item-${index + 1}-${suffix}`;
    taken.add(candidate);
    return candidate;
  });
}

const jobItemInputSchema = z
  .strictObject({ id: itemIdSchema.optional(), ...imageSourceFields })
  .superRefine(exactlyOneImageSource('imageUrl', 'imageBase64'));

/** http(s) only; the address checks happen when something is delivered to it (webhooks). */
export const callbackUrlSchema = z
  .string()
  .trim()
  .max(4096, 'callbackUrl is longer than 4096')
  .refine((value) => {
    if (!URL.canParse(value)) return false;
    const protocol = new URL(value).protocol;
    return protocol === 'http:' || protocol === 'https:';
  }, 'callbackUrl must be an http(s) URL');

export const NOTIFY_DECISIONS = ['block', 'review'] as const;
export type NotifyDecision = (typeof NOTIFY_DECISIONS)[number];
/** `notify` arrives as a JSON array or, in forms, as a comma list. */
const notifySchema = z.preprocess(
  (value) =>
    typeof value === 'string'
      ? value
          .split(',')
          .map((part) => part.trim())
          .filter(Boolean)
      : value,
  z.array(z.enum(NOTIFY_DECISIONS)),
);

const jobOptionFields = {
  ...analysisOptionFields,
  /** Where the job's webhooks go: `job.completed`, and `item.decided` for the decisions in `notify`. */
  callbackUrl: callbackUrlSchema.optional(),
  /** Decisions that also notify per item, besides the completion notice. */
  notify: notifySchema.optional(),
};

/** JSON body of POST /v1/jobs; items without an id get `item-N`. */
export const createJobBodySchema = z
  .strictObject({
    items: z
      .array(jobItemInputSchema)
      .min(1, 'a job needs at least one item')
      .max(MAX_JOB_ITEMS, `a job holds at most ${MAX_JOB_ITEMS} items`),
    ...jobOptionFields,
  })
  .superRefine((body, ctx) => {
    const seen = new Set<string>();
    body.items.forEach((item, index) => {
      if (item.id === undefined) return;
      if (seen.has(item.id)) {
        ctx.addIssue({
          code: 'custom',
          path: ['items', index, 'id'],
          message: `duplicate item id ${item.id}`,
        });
      }
      seen.add(item.id);
    });
  })
  .transform((body) => {
    const ids = assignItemIds(body.items.map((item) => item.id));
    return { ...body, items: body.items.map((item, index) => ({ ...item, id: ids[index] })) };
  });
export type CreateJobBody = z.input<typeof createJobBodySchema>;
export type CreateJobInput = z.output<typeof createJobBodySchema>;

/** Text fields of the multipart form of POST /v1/jobs (files travel in field `images`). */
export const jobFormFieldsSchema = z.strictObject(jobOptionFields);

/** What the gateway publishes on `argus.v1.jobs.<task>`, one message per item × task. */
export const jobMessageSchema = z.object({
  jobId: z.string().min(1),
  itemId: itemIdSchema,
  task: z.enum(TASKS),
  request: taskRequestSchema,
});
export type JobMessage = z.infer<typeof jobMessageSchema>;

/** Job metadata in KV `argus-jobs`. */
export const jobMetaSchema = z.object({
  jobId: z.string(),
  /** The submitting API key's tenant; only that tenant's keys see the job. Unset while keys are off. */
  tenant: z.string().optional(),
  createdAt: z.string(),
  tasks: z.array(z.enum(TASKS)),
  itemIds: z.array(z.string()),
  callbackUrl: z.string().optional(),
  notify: z.array(z.enum(NOTIFY_DECISIONS)).optional(),
  cancelledAt: z.string().optional(),
});
export type JobMeta = z.infer<typeof jobMetaSchema>;

export const JOB_UNIT_STATES = ['done', 'failed', 'dead', 'cancelled'] as const;
export type JobUnitState = (typeof JOB_UNIT_STATES)[number];

/**
 * The final word on one item × task in KV `argus-job-results`. `reply` is the worker's TaskReply, the same the
 * sync path answers; intake failures, dead letters and cancellations carry only `error` (or nothing).
 */
export const jobUnitResultSchema = z.object({
  state: z.enum(JOB_UNIT_STATES),
  reply: z.unknown().optional(),
  error: taskErrorSchema.optional(),
  deliveries: z.number().int().nonnegative().optional(),
  finishedAt: z.string(),
  /** A person's decision on a moderation unit the review queue held; the model's reply stays as it was. */
  review: reviewResolutionSchema.optional(),
});
export type JobUnitResult = z.infer<typeof jobUnitResultSchema>;

/** The dead-letter record on `argus.v1.dlq.<task>`. */
export const deadLetterSchema = z.object({
  jobId: z.string(),
  itemId: z.string(),
  task: z.enum(TASKS),
  reason: taskErrorSchema,
  deliveries: z.number().int(),
  deadAt: z.string(),
  original: jobMessageSchema,
});
export type DeadLetter = z.infer<typeof deadLetterSchema>;

export const JOB_STATES = ['queued', 'running', 'completed', 'cancelled'] as const;
export const JOB_ITEM_STATES = ['pending', ...JOB_UNIT_STATES] as const;

export const jobStatusQuerySchema = z.object({
  page: z.coerce.number().int().min(1).default(1),
  pageSize: z.coerce.number().int().min(1).max(MAX_JOB_PAGE_SIZE).default(DEFAULT_JOB_PAGE_SIZE),
});
export type JobStatusQuery = z.infer<typeof jobStatusQuerySchema>;

export const jobItemErrorSchema = taskErrorSchema.extend({
  task: z.enum(TASKS),
  state: z.enum(['failed', 'dead']),
});
export type JobItemError = z.infer<typeof jobItemErrorSchema>;

export const jobItemStatusSchema = z.object({
  id: z.string(),
  status: z.enum(JOB_ITEM_STATES),
  results: z.partialRecord(z.enum(TASKS), z.unknown()),
  errors: z.array(jobItemErrorSchema),
  /** Set once a reviewer resolved the item's moderation review; it overrides the model's decision. */
  review: reviewResolutionSchema.optional(),
});
export type JobItemStatus = z.infer<typeof jobItemStatusSchema>;

/** Counts are by item; an item's status is its worst task (dead > failed > cancelled > done), pending until all end. */
export const jobCountsSchema = z.object({
  total: z.number().int(),
  done: z.number().int(),
  failed: z.number().int(),
  dead: z.number().int(),
  cancelled: z.number().int(),
  pending: z.number().int(),
});
export type JobCounts = z.infer<typeof jobCountsSchema>;

/** Body of GET /v1/jobs/:id (and of DELETE). `percent` is over item × task units, so it moves smoothly. */
export const jobStatusSchema = z.object({
  jobId: z.string(),
  status: z.enum(JOB_STATES),
  createdAt: z.string(),
  tasks: z.array(z.enum(TASKS)),
  counts: jobCountsSchema,
  percent: z.number().min(0).max(100),
  items: z.array(jobItemStatusSchema),
  page: z.object({ number: z.number().int(), size: z.number().int(), totalItems: z.number().int() }),
  callbackUrl: z.string().optional(),
  cancelledAt: z.string().optional(),
  /** The webhook delivery log, newest last (at most the last 100 deliveries). */
  webhooks: z.array(webhookDeliverySchema).optional(),
});
export type JobStatus = z.infer<typeof jobStatusSchema>;

/** Jobs one GET /v1/jobs page holds at most, and by default. Each listed job reads its results to count progress. */
export const MAX_JOB_LIST_LIMIT = 50;
export const DEFAULT_JOB_LIST_LIMIT = 20;
/** Job metadata keys one GET /v1/jobs reads at most (the most recently written); beyond it the list is truncated. */
export const MAX_JOB_LIST_SCAN = 5000;

/**
 * Query of GET /v1/jobs. `cursor` is the opaque `nextCursor` of the previous page: a keyset position (createdAt, job
 * id), so jobs created meanwhile never shift a page, and jobs with the same createdAt are neither skipped nor repeated.
 */
export const jobListQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(MAX_JOB_LIST_LIMIT).default(DEFAULT_JOB_LIST_LIMIT),
  cursor: z.string().min(1).max(512).optional(),
});
export type JobListQuery = z.infer<typeof jobListQuerySchema>;

/** One job of GET /v1/jobs: what GET /v1/jobs/:id summarises, without the items. */
export const jobSummarySchema = jobStatusSchema
  .pick({
    jobId: true,
    status: true,
    createdAt: true,
    tasks: true,
    counts: true,
    percent: true,
    callbackUrl: true,
    cancelledAt: true,
  })
  .extend({ itemCount: z.number().int().nonnegative().describe('how many items the job holds') });
export type JobSummary = z.infer<typeof jobSummarySchema>;

/** Body of GET /v1/jobs: the caller's tenant's jobs, newest first. */
export const jobListSchema = z.object({
  jobs: z.array(jobSummarySchema),
  nextCursor: z
    .string()
    .optional()
    .describe('pass as `cursor` to get the next page; absent on the last page'),
  truncated: z
    .boolean()
    .describe(
      `true when the job bucket held more than ${MAX_JOB_LIST_SCAN} jobs (all tenants together): only the most ` +
        'recently written were read, so older jobs may be missing here (each stays reachable by its id)',
    ),
});
export type JobList = z.infer<typeof jobListSchema>;

/** Body of the 202 to POST /v1/jobs. */
export const jobCreatedSchema = z.object({
  jobId: z.string(),
  status: z.enum(JOB_STATES),
  items: z.array(
    z.object({ id: z.string(), status: z.enum(['queued', 'failed']), error: taskErrorSchema.optional() }),
  ),
});
export type JobCreated = z.infer<typeof jobCreatedSchema>;
