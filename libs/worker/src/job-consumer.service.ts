import { Inject, Injectable, Logger, type BeforeApplicationShutdown } from '@nestjs/common';
import {
  jobMessageSchema,
  jobUnitKey,
  type JobMessage,
  type JobUnitResult,
  type TaskError,
  type TaskReply,
} from '@argus/contracts';
import type { WorkerConfig } from '@argus/config';
import { JobQueue, JobStore, type JobDelivery, type JobPuller } from '@argus/messaging';
import { ArgusMetrics } from '@argus/telemetry';
import { decideJobOutcome } from './job-retry';
import { TaskPipeline } from './task-pipeline.service';
import { WorkerInference } from './worker-inference';
import { WORKER_CONFIG } from './worker.tokens';

export type JobQueuePort = Pick<
  JobQueue,
  'ensure' | 'pull' | 'deadLetter' | 'consumerStats' | 'deadLetterCount'
>;
export type JobStorePort = Pick<JobStore, 'check' | 'getJob' | 'hasResult' | 'createResult'>;

/** How long a job seen running is taken as running: a cancel reaches this worker at most this late. */
const ACTIVE_CACHE_MS = 1_000;
const ACTIVE_CACHE_SIZE = 10_000;

/**
 * The worker's async path: pulls its task's job messages with bounded in-flight work and answers each one through
 * the same TaskPipeline as the sync path, so a job item's reply is exactly what /v1/analyze would have answered.
 * Results are written once (KV create); redeliveries of an answered unit are acked without work.
 */
@Injectable()
export class JobConsumer implements BeforeApplicationShutdown {
  private readonly logger = new Logger(JobConsumer.name);
  private puller?: JobPuller;
  private metricsTimer?: NodeJS.Timeout;
  /** Cancellation is final, so a job seen cancelled never needs another read. */
  private readonly cancelled = new Set<string>();
  /** Jobs seen not cancelled, until when: one metadata read per job and second instead of one per item. */
  private readonly activeUntil = new Map<string, number>();

  constructor(
    @Inject(WORKER_CONFIG) private readonly config: WorkerConfig,
    @Inject(JobQueue) private readonly queue: JobQueuePort,
    @Inject(JobStore) private readonly store: JobStorePort,
    @Inject(TaskPipeline) private readonly pipeline: Pick<TaskPipeline, 'handle'>,
    @Inject(ArgusMetrics) private readonly metrics: ArgusMetrics,
    @Inject(WorkerInference) private readonly inference: Pick<WorkerInference, 'catalog'>,
  ) {}

  /** Items in this worker at once: ARGUS_JOB_CONCURRENCY, or the sum of the task's tier concurrencies. */
  get maxInFlight(): number {
    if (this.config.jobs.concurrency > 0) return this.config.jobs.concurrency;
    const sum = this.inference.catalog
      .forTask(this.config.task)
      .reduce((total, { spec }) => total + spec.concurrency, 0);
    return Math.max(1, sum);
  }

  async start(): Promise<void> {
    await this.queue.ensure();
    await this.store.check();
    const { task } = this.config;
    this.puller = this.queue.pull(task, {
      maxInFlight: this.maxInFlight,
      handle: (delivery) => this.handle(delivery),
      onError: (error) => {
        this.logger.warn(`${task} job pull: ${errorText(error)}`);
      },
    });
    await this.publishMetrics();
    this.metricsTimer = setInterval(() => {
      void this.publishMetrics();
    }, this.config.jobs.metricsIntervalMs);
    this.metricsTimer.unref();
    this.logger.log(`pulling ${task} job items, ${this.maxInFlight} at a time`);
  }

  /** Before the NATS connection drains: stop pulling and finish (ack or nak) every item in flight. */
  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.metricsTimer);
    await this.puller?.stop();
    this.puller = undefined;
  }

  async handle(delivery: JobDelivery): Promise<void> {
    const parsed = jobMessageSchema.safeParse(delivery.data);
    if (!parsed.success || parsed.data.task !== this.config.task) {
      this.logger.error(`dropping a message that is not a ${this.config.task} job item`);
      delivery.term('not a job message for this task');
      return;
    }
    const message = parsed.data;
    const key = jobUnitKey(message.jobId, message.itemId, message.task);
    // Also on a first delivery: a unit republished after the duplicate window must not cost a second model call.
    if (await this.store.hasResult(key)) {
      await delivery.ack();
      return;
    }
    if (await this.isCancelled(message.jobId)) {
      await this.record(key, { state: 'cancelled', deliveries: delivery.deliveryCount });
      await delivery.ack();
      return;
    }
    // A job item waits for a tier slot as long as its budget allows: it is queued work, not a caller on a socket.
    const { budgetMs } = this.config.jobs;
    const reply = await this.pipeline.handle(message.request, delivery.headers, budgetMs, budgetMs);
    const policy = { baseMs: this.config.jobs.retryBaseMs, maxMs: this.config.jobs.retryMaxMs };
    const outcome = decideJobOutcome(reply, delivery.deliveryCount, delivery.maxDeliver, policy);
    switch (outcome.kind) {
      case 'store':
        await this.record(key, stored(reply, delivery.deliveryCount));
        await delivery.ack();
        return;
      case 'retry':
        delivery.nak(outcome.delayMs);
        return;
      case 'dead':
        await this.deadLetter(key, message, outcome.error, delivery);
        return;
    }
  }

  /** DLQ first (deduped by the unit key), then the result, then term: a crash in between only repeats deduped steps. */
  private async deadLetter(
    key: string,
    message: JobMessage,
    error: TaskError,
    delivery: JobDelivery,
  ): Promise<void> {
    const now = new Date().toISOString();
    await this.queue.deadLetter(
      {
        jobId: message.jobId,
        itemId: message.itemId,
        task: message.task,
        reason: error,
        deliveries: delivery.deliveryCount,
        deadAt: now,
        original: message,
      },
      key,
      delivery.headers,
    );
    await this.record(key, { state: 'dead', error, deliveries: delivery.deliveryCount });
    delivery.term(`${error.code}: ${error.message}`);
    this.logger.warn(`${key} dead-lettered: ${error.code} ${error.message}`);
  }

  private async record(key: string, result: Omit<JobUnitResult, 'finishedAt'>): Promise<void> {
    const written = await this.store.createResult(key, { ...result, finishedAt: new Date().toISOString() });
    if (!written) this.logger.debug(`${key} already had a result; kept the first`);
  }

  private async isCancelled(jobId: string): Promise<boolean> {
    if (this.cancelled.has(jobId)) return true;
    const now = Date.now();
    if ((this.activeUntil.get(jobId) ?? 0) > now) return false;
    const job = await this.store.getJob(jobId);
    // A job whose metadata expired has nobody left to read its results.
    if (!job || job.cancelledAt) {
      this.cancelled.add(jobId);
      this.activeUntil.delete(jobId);
      return true;
    }
    if (this.activeUntil.size >= ACTIVE_CACHE_SIZE) this.activeUntil.clear();
    this.activeUntil.set(jobId, now + ACTIVE_CACHE_MS);
    return false;
  }

  private async publishMetrics(): Promise<void> {
    const { task } = this.config;
    try {
      const stats = await this.queue.consumerStats(task);
      const labels = { stream: stats.stream, consumer: stats.consumer };
      this.metrics.jetstreamConsumerPending.set(labels, stats.pending);
      this.metrics.jetstreamConsumerAckPending.set(labels, stats.ackPending);
      this.metrics.jetstreamConsumerRedelivered.set(labels, stats.redelivered);
      this.metrics.deadLetters.set({ task }, await this.queue.deadLetterCount(task));
    } catch (error) {
      this.logger.debug(`job metrics: ${errorText(error)}`);
    }
  }
}

function stored(reply: TaskReply, deliveries: number): Omit<JobUnitResult, 'finishedAt'> {
  return reply.status === 'ok'
    ? { state: 'done', reply, deliveries }
    : { state: 'failed', reply, error: reply.error, deliveries };
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
