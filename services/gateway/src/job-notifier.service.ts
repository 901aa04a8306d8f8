import { createHash } from 'node:crypto';
import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import {
  TASK_REPLY_SCHEMAS,
  jobImageKey,
  jobUnitKey,
  reviewId,
  type JobMeta,
  type Review,
  type WebhookEvent,
} from '@argus/contracts';
import type { GatewayConfig } from '@argus/config';
import { JobEvents, JobStore, ReviewStore, type EventDelivery, type ResultEvent } from '@argus/messaging';
import type { DurablePuller } from '@argus/messaging';
import { summariseJob } from './job-status';
import { GATEWAY_CONFIG, JOB_IMAGE_STORE } from './gateway.tokens';

/** Job metadata changes only when a job is cancelled, so a short-lived copy saves a KV read per result. */
const META_CACHE_MS = 5_000;
const META_CACHE_SIZE = 1_000;

export type NotifierJobStore = Pick<
  JobStore,
  | 'check'
  | 'getJob'
  | 'hasResult'
  | 'countResults'
  | 'listResults'
  | 'completionAnnounced'
  | 'markCompletionAnnounced'
>;
export type JobImageDeleter = { delete(key: string): Promise<void> };

/**
 * What follows a job result, run by every gateway on one shared durable consumer of the results bucket, so each
 * write is handled once even with many gateways, and again only if a gateway died before acking it:
 * - a moderation `review` (or an audit sample) goes to the review queue;
 * - a decision named in the job's `notify` queues an `item.decided` webhook;
 * - when the job's last unit ends, `job.completed` is queued.
 * Every step is idempotent (KV create, Nats-Msg-Id), so a redelivered event repeats nothing.
 */
@Injectable()
export class JobNotifier implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(JobNotifier.name);
  private puller?: DurablePuller;
  private readonly metaCache = new Map<string, { meta: JobMeta | undefined; until: number }>();
  /** Completion counts that have not started yet, per job; events that arrive meanwhile join them. */
  private readonly pendingChecks = new Map<string, Promise<void>>();

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    @Inject(JobEvents) private readonly events: Pick<JobEvents, 'pullResults' | 'queueWebhook'>,
    @Inject(JobStore) private readonly store: NotifierJobStore,
    @Inject(ReviewStore) private readonly reviews: Pick<ReviewStore, 'check' | 'create'>,
    @Inject(JOB_IMAGE_STORE) private readonly images: JobImageDeleter,
  ) {}

  /** Does not wait for JetStream: the pull sets up buckets and consumer itself, and retries until it can. */
  onApplicationBootstrap(): void {
    this.puller = this.events.pullResults({
      maxInFlight: this.config.jobs.eventsConcurrency,
      prepare: async () => {
        await this.store.check();
        await this.reviews.check();
      },
      handle: (delivery) => this.handle(delivery),
      onError: (error) => {
        this.logger.warn(`job result events: ${error instanceof Error ? error.message : String(error)}`);
      },
    });
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.puller?.stop();
    this.puller = undefined;
  }

  async handle(delivery: EventDelivery<ResultEvent | undefined>): Promise<void> {
    const event = delivery.value;
    // A review added to a result is a write too; it needs nothing more.
    if (event && !event.result.review) {
      const meta = await this.job(event.jobId);
      if (meta) {
        await this.queueReview(event, meta);
        await this.notifyItem(event, meta);
        await this.forgetImageIfDone(event, meta);
        await this.completionCheck(event.jobId);
      }
    }
    await delivery.ack();
  }

  private async queueReview(event: ResultEvent, meta: JobMeta): Promise<void> {
    const parsed = moderationOf(event);
    if (!parsed) return;
    const reason =
      parsed.decision === 'review'
        ? 'policy'
        : sampled(event.key, this.config.reviews.auditRate)
          ? 'audit'
          : undefined;
    if (!reason) return;
    const id = reviewId(event.jobId, event.itemId);
    const review: Review = {
      id,
      jobId: event.jobId,
      itemId: event.itemId,
      ...(meta.tenant ? { tenant: meta.tenant } : {}),
      reason,
      status: 'pending',
      policy: parsed.policy,
      modelDecision: parsed.decision,
      categories: parsed.triggeredBy,
      modelReason: parsed.reason,
      confidence: parsed.confidence,
      tier: parsed.tier,
      model: parsed.model,
      createdAt: event.result.finishedAt,
      imageUrl: `${this.config.publicUrl}/v1/reviews/${id}/image`,
    };
    if (await this.reviews.create(review)) {
      this.logger.log(`review ${id} queued (${reason}, ${parsed.policy}, ${meta.tasks.join(',')})`);
    }
  }

  private async notifyItem(event: ResultEvent, meta: JobMeta): Promise<void> {
    if (!meta.callbackUrl || !meta.notify?.length) return;
    const parsed = moderationOf(event);
    if (!parsed || !meta.notify.some((decision) => decision === parsed.decision)) return;
    const id = `${event.key}.decided`;
    const webhook: WebhookEvent = {
      id,
      type: 'item.decided',
      jobId: event.jobId,
      itemId: event.itemId,
      task: event.task,
      decision: parsed.decision,
      policy: parsed.policy,
      categories: parsed.triggeredBy,
      reason: parsed.reason,
      at: new Date().toISOString(),
    };
    await this.events.queueWebhook({ url: meta.callbackUrl, event: webhook }, id);
  }

  /** ARGUS_RETENTION=0: the item's image goes once every task of the item has its result (reviews then show none). */
  private async forgetImageIfDone(event: ResultEvent, meta: JobMeta): Promise<void> {
    if (this.config.retentionSeconds !== 0) return;
    const others = meta.tasks.filter((task) => task !== event.task);
    const ended = await Promise.all(
      others.map((task) => this.store.hasResult(jobUnitKey(event.jobId, event.itemId, task))),
    );
    if (!ended.every(Boolean)) return;
    try {
      await this.images.delete(jobImageKey(event.jobId, event.itemId));
    } catch (error) {
      // Never stored (the item failed at intake) or already deleted by a repeated event.
      this.logger.debug(`job image ${event.jobId}.${event.itemId}: ${String(error)}`);
    }
  }

  /** Waits for a count that starts after this event arrived; counts that have not started yet are shared. */
  private completionCheck(jobId: string): Promise<void> {
    const pending = this.pendingChecks.get(jobId);
    if (pending) return pending;
    const check = delay(this.config.jobs.completionCheckMs)
      .then(() => {
        this.pendingChecks.delete(jobId);
        return this.announceIfComplete(jobId);
      })
      .finally(() => {
        if (this.pendingChecks.get(jobId) === check) this.pendingChecks.delete(jobId);
      });
    this.pendingChecks.set(jobId, check);
    return check;
  }

  private async announceIfComplete(jobId: string): Promise<void> {
    const meta = await this.job(jobId, true);
    if (!meta) return;
    const units = meta.itemIds.length * meta.tasks.length;
    if ((await this.store.countResults(jobId)) < units) return;
    if (await this.store.completionAnnounced(jobId)) return;
    const status = summariseJob(meta, await this.store.listResults(jobId), { page: 1, pageSize: 1 });
    this.logger.log(
      `job ${jobId} ${status.status}: ${status.counts.done} done, ${status.counts.failed} failed, ${status.counts.dead} dead`,
    );
    if (meta.callbackUrl) {
      const id = `${jobId}.completed`;
      const { total, done, failed, dead, cancelled } = status.counts;
      await this.events.queueWebhook(
        {
          url: meta.callbackUrl,
          event: {
            id,
            type: 'job.completed',
            jobId,
            status: meta.cancelledAt ? 'cancelled' : 'completed',
            counts: { total, done, failed, dead, cancelled },
            resultsUrl: `${this.config.publicUrl}/v1/jobs/${jobId}`,
            at: new Date().toISOString(),
          },
        },
        id,
      );
    }
    // After the queueing: a crash in between repeats a publish the duplicate window drops.
    await this.store.markCompletionAnnounced(jobId);
  }

  private async job(jobId: string, fresh = false): Promise<JobMeta | undefined> {
    const now = Date.now();
    const cached = this.metaCache.get(jobId);
    if (!fresh && cached && cached.until > now) return cached.meta;
    const meta = await this.store.getJob(jobId);
    if (this.metaCache.size >= META_CACHE_SIZE) this.metaCache.clear();
    this.metaCache.set(jobId, { meta, until: now + META_CACHE_MS });
    return meta;
  }
}

/** The moderation reply of a finished moderation unit, with its tier and model. */
function moderationOf(event: ResultEvent) {
  if (event.task !== 'moderation' || event.result.state !== 'done') return undefined;
  const parsed = TASK_REPLY_SCHEMAS.moderation.safeParse(event.result.reply);
  return parsed.success && parsed.data.status === 'ok' ? parsed.data : undefined;
}

/** Deterministic per unit, so a redelivered event samples the same way. */
export function sampled(key: string, rate: number): boolean {
  if (rate <= 0) return false;
  if (rate >= 1) return true;
  const draw = createHash('sha256').update(key).digest().readUInt32BE(0) / 2 ** 32;
  return draw < rate;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
