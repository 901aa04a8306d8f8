import { JSONCodec, type KV, type NatsConnection } from 'nats';
import { z } from 'zod';
import {
  JOB_BUCKET,
  JOB_RESULT_BUCKET,
  jobMetaSchema,
  jobUnitResultSchema,
  webhookDeliverySchema,
  type JobMeta,
  type JobUnitResult,
  type ReviewResolution,
  type WebhookDelivery,
} from '@argus/contracts';

const codec = JSONCodec();
/** Result reads in flight at once when a status request reads a whole job. */
const LIST_BATCH = 200;
/** The job's webhook log keeps this many deliveries, the newest. */
export const MAX_WEBHOOK_LOG = 100;
const webhookLogSchema = z.array(webhookDeliverySchema);
/** Compare-and-set retries before an update gives up (each retry re-reads). */
const CAS_ATTEMPTS = 10;

/**
 * Job state in JetStream KV: metadata in `argus-jobs` (one key per job) and one result per item × task in
 * `argus-job-results`. Results are written with `create`, which the server refuses when the key exists, so however
 * often a message is redelivered, the first answer stays the only answer.
 */
export class JobStore {
  private metaKv?: Promise<KV>;
  private resultKv?: Promise<KV>;

  constructor(
    private readonly connection: NatsConnection,
    private readonly ttlSeconds: number,
  ) {}

  private open(bucket: string, description: string): Promise<KV> {
    return this.connection.jetstream().views.kv(bucket, {
      ttl: this.ttlSeconds * 1000,
      history: 1,
      description,
    });
  }

  private meta(): Promise<KV> {
    this.metaKv ??= this.open(JOB_BUCKET, 'Argus job metadata').catch((error: unknown) => {
      this.metaKv = undefined;
      throw error;
    });
    return this.metaKv;
  }

  private results(): Promise<KV> {
    this.resultKv ??= this.open(JOB_RESULT_BUCKET, 'Argus job results, one per item and task').catch(
      (error: unknown) => {
        this.resultKv = undefined;
        throw error;
      },
    );
    return this.resultKv;
  }

  /** Creates both buckets if needed. */
  async check(): Promise<void> {
    await Promise.all([this.meta(), this.results()]);
  }

  async putJob(meta: JobMeta): Promise<void> {
    await (await this.meta()).put(meta.jobId, codec.encode(meta));
  }

  async getJob(jobId: string): Promise<JobMeta | undefined> {
    if (!isKeyToken(jobId)) return undefined;
    const entry = await (await this.meta()).get(jobId);
    if (!entry || entry.operation !== 'PUT' || entry.value.length === 0) return undefined;
    return jobMetaSchema.parse(codec.decode(entry.value));
  }

  /**
   * What a job listing needs of every job (id, creation time, tenant), for the `maxKeys` most recently written jobs
   * of all tenants; `truncated` when the bucket held more. The key `*` is one token, so only job metas match, not
   * `<jobId>.webhooks` or `<jobId>.completed`. Keys come headers only in the order of their last write (so the kept
   * ones are the newest); values are read LIST_BATCH at a time, and only the heads are kept, never the item ids.
   */
  async listJobHeads(maxKeys: number): Promise<{ heads: JobHead[]; truncated: boolean }> {
    const kv = await this.meta();
    const { kept: keys, total } = await keepLast(await kv.keys('*'), maxKeys);
    const heads: JobHead[] = [];
    for (let start = 0; start < keys.length; start += LIST_BATCH) {
      const batch = keys.slice(start, start + LIST_BATCH);
      const entries = await Promise.all(batch.map((key) => kv.get(key)));
      for (const entry of entries) {
        if (!entry || entry.operation !== 'PUT' || entry.value.length === 0) continue;
        const meta = jobMetaSchema.safeParse(codec.decode(entry.value));
        // Expired or deleted meanwhile, or not a job: a listing skips it rather than failing for every job.
        if (!meta.success) continue;
        const { jobId, createdAt, tenant } = meta.data;
        heads.push({ jobId, createdAt, ...(tenant !== undefined ? { tenant } : {}) });
      }
    }
    return { heads, truncated: total > keys.length };
  }

  /** Marks the job cancelled (once; later calls keep the first time). Returns the updated meta, or undefined. */
  async cancelJob(jobId: string, now = new Date()): Promise<JobMeta | undefined> {
    const kv = await this.meta();
    for (let attempt = 0; attempt < 5; attempt++) {
      if (!isKeyToken(jobId)) return undefined;
      const entry = await kv.get(jobId);
      if (!entry || entry.operation !== 'PUT' || entry.value.length === 0) return undefined;
      const meta = jobMetaSchema.parse(codec.decode(entry.value));
      if (meta.cancelledAt) return meta;
      const cancelled = { ...meta, cancelledAt: now.toISOString() };
      try {
        await kv.update(jobId, codec.encode(cancelled), entry.revision);
        return cancelled;
      } catch {
        // Someone else changed it meanwhile; read again.
      }
    }
    throw new Error(`could not cancel job ${jobId}: it kept changing`);
  }

  /** Stores the unit's result unless one exists. True when this call wrote it. */
  async createResult(key: string, result: JobUnitResult): Promise<boolean> {
    const kv = await this.results();
    try {
      await kv.create(key, codec.encode(result));
      return true;
    } catch (error) {
      if (await this.hasResult(key)) return false;
      throw error;
    }
  }

  async hasResult(key: string): Promise<boolean> {
    const entry = await (await this.results()).get(key);
    return entry !== null && entry.operation === 'PUT';
  }

  async getResult(key: string): Promise<JobUnitResult | undefined> {
    const entry = await (await this.results()).get(key);
    if (!entry || entry.operation !== 'PUT' || entry.value.length === 0) return undefined;
    return jobUnitResultSchema.parse(codec.decode(entry.value));
  }

  /** How many of the job's units have a result: keys only, no values. */
  async countResults(jobId: string): Promise<number> {
    if (!isKeyToken(jobId)) return 0;
    let count = 0;
    for await (const key of await (await this.results()).keys(`${jobId}.>`)) {
      if (key) count += 1;
    }
    return count;
  }

  /** Records a person's decision on a unit's result, keeping the model's reply. False when there is no result. */
  async addReview(key: string, review: ReviewResolution): Promise<boolean> {
    const kv = await this.results();
    for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
      const entry = await kv.get(key);
      if (!entry || entry.operation !== 'PUT' || entry.value.length === 0) return false;
      const result = jobUnitResultSchema.parse(codec.decode(entry.value));
      try {
        await kv.update(key, codec.encode({ ...result, review }), entry.revision);
        return true;
      } catch {
        // Changed meanwhile; read again.
      }
    }
    throw new Error(`could not record the review of ${key}: it kept changing`);
  }

  /** Appends to the job's webhook log (compare-and-set, so gateways delivering at once lose no entry). */
  async appendWebhookDelivery(jobId: string, delivery: WebhookDelivery): Promise<void> {
    const kv = await this.meta();
    const key = `${jobId}.webhooks`;
    for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
      const entry = await kv.get(key);
      const exists = entry !== null && entry.operation === 'PUT' && entry.value.length > 0;
      const log = exists ? webhookLogSchema.parse(codec.decode(entry.value)) : [];
      const next = codec.encode([...log, delivery].slice(-MAX_WEBHOOK_LOG));
      try {
        if (exists) await kv.update(key, next, entry.revision);
        else await kv.create(key, next);
        return;
      } catch {
        // Another delivery was logged meanwhile; read again.
      }
    }
    throw new Error(`could not log a webhook delivery of job ${jobId}: the log kept changing`);
  }

  async webhookDeliveries(jobId: string): Promise<WebhookDelivery[]> {
    if (!isKeyToken(jobId)) return [];
    const entry = await (await this.meta()).get(`${jobId}.webhooks`);
    if (!entry || entry.operation !== 'PUT' || entry.value.length === 0) return [];
    return webhookLogSchema.parse(codec.decode(entry.value));
  }

  /** Whether the job's completion was announced (its webhook queued); announced once, for good. */
  async completionAnnounced(jobId: string): Promise<boolean> {
    const entry = await (await this.meta()).get(`${jobId}.completed`);
    return entry !== null && entry.operation === 'PUT';
  }

  async markCompletionAnnounced(jobId: string, now = new Date()): Promise<void> {
    await (await this.meta()).put(`${jobId}.completed`, codec.encode({ at: now.toISOString() }));
  }

  /** Every result of a job, keyed `<itemId>.<task>`: the keys first, then the values in bounded batches. */
  async listResults(jobId: string): Promise<Map<string, JobUnitResult>> {
    const found = new Map<string, JobUnitResult>();
    if (!isKeyToken(jobId)) return found;
    const kv = await this.results();
    const prefix = `${jobId}.`;
    const keys: string[] = [];
    for await (const key of await kv.keys(`${prefix}>`)) keys.push(key);
    for (let start = 0; start < keys.length; start += LIST_BATCH) {
      const batch = keys.slice(start, start + LIST_BATCH);
      const values = await Promise.all(batch.map((key) => this.getResult(key)));
      batch.forEach((key, index) => {
        const value = values[index];
        if (value) found.set(key.slice(prefix.length), value);
      });
    }
    return found;
  }
}

/** What a listing reads of each job's metadata. */
export type JobHead = Pick<JobMeta, 'jobId' | 'createdAt' | 'tenant'>;

/** The last `max` values of an iteration (a ring, so memory stays bounded) and how many there were in all. */
export async function keepLast<T>(
  source: AsyncIterable<T> | Iterable<T>,
  max: number,
): Promise<{ kept: T[]; total: number }> {
  const ring: T[] = [];
  let total = 0;
  for await (const value of source) {
    if (max > 0) ring[total % max] = value;
    total += 1;
  }
  if (total <= max) return { kept: ring, total };
  if (max <= 0) return { kept: [], total };
  const start = total % max;
  return { kept: [...ring.slice(start), ...ring.slice(0, start)], total };
}

/** A job id the KV can hold as one key token (job ids are UUIDs; anything else cannot exist). */
function isKeyToken(value: string): boolean {
  return /^[A-Za-z0-9_-]{1,128}$/.test(value);
}
