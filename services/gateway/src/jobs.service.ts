import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import pLimit from 'p-limit';
import {
  ArgusError,
  JOB_IMAGE_BUCKET,
  jobImageKey,
  jobUnitKey,
  MAX_JOB_LIST_SCAN,
  type JobCreated,
  type JobList,
  type JobListQuery,
  type JobMeta,
  type JobStatus,
  type JobStatusQuery,
  type TaskError,
  withDefaultPolicy,
} from '@argus/contracts';
import type { GatewayConfig, ListingProfiles, ModerationPolicies } from '@argus/config';
import { ImageProcessor } from '@argus/imaging';
import { JobQueue, JobStore } from '@argus/messaging';
import { SafeFetcher } from '@argus/url-intake';
import { ArgusMetrics, injectTraceHeaders } from '@argus/telemetry';
import { assertKnownNames } from './analyze.service';
import {
  downloadImage,
  normaliseImage,
  taskRequestFor,
  type ImageDownloader,
  type ImageNormaliser,
} from './image-preparation';
import { decodeBase64 } from './analyze-input';
import type { Caller } from './access-control';
import type { JobInput, JobItemInput } from './job-intake';
import { pageJobs, visibleTo } from './job-list';
import { summariseJob, summariseJobListing } from './job-status';
import { InvalidRequestError } from './problem';
import { GATEWAY_CONFIG, JOB_IMAGE_STORE, LISTING_PROFILES, MODERATION_POLICIES } from './gateway.tokens';

/** Jobs of one GET /v1/jobs page whose results are read at once (each read is itself LIST_BATCH wide). */
const LIST_SUMMARY_CONCURRENCY = 4;

export type JobImageWriter = { put(key: string, bytes: Uint8Array, mime: string): Promise<void> };

/**
 * Async jobs: each item is fetched or decoded, normalised and stored once (a bounded number at a time), then one
 * message per item × task goes to the task's JetStream work queue with Nats-Msg-Id = `<jobId>.<itemId>.<task>`, so a
 * resubmission within the duplicate window is dropped by the server. A bad item fails alone: its units get a
 * `failed` result with the item's code and the job carries on.
 */
@Injectable()
export class JobsService {
  private readonly logger = new Logger(JobsService.name);

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    @Inject(ImageProcessor) private readonly processor: ImageNormaliser,
    @Inject(JOB_IMAGE_STORE) private readonly images: JobImageWriter,
    @Inject(JobQueue) private readonly queue: Pick<JobQueue, 'publish'>,
    @Inject(JobStore)
    private readonly store: Pick<
      JobStore,
      | 'putJob'
      | 'getJob'
      | 'listJobHeads'
      | 'cancelJob'
      | 'createResult'
      | 'listResults'
      | 'webhookDeliveries'
    >,
    @Inject(ArgusMetrics) private readonly metrics: ArgusMetrics,
    @Inject(LISTING_PROFILES) private readonly profiles: Pick<ListingProfiles, 'names'>,
    @Inject(MODERATION_POLICIES) private readonly policies: Pick<ModerationPolicies, 'names'>,
    @Inject(SafeFetcher) private readonly downloader: ImageDownloader | null = null,
  ) {}

  async create(input: JobInput, caller?: Caller): Promise<JobCreated> {
    // A key's default policy applies when the request names none.
    input.options.options = withDefaultPolicy(input.options.options, caller?.policy);
    assertKnownNames(input.options.options, this.profiles, this.policies);
    if (input.callbackUrl && !this.config.webhooks.secret) {
      throw new InvalidRequestError([
        {
          field: 'callbackUrl',
          message:
            'webhooks are signed, and this gateway has no ARGUS_WEBHOOK_SECRET; ask the operator to set it',
        },
      ]);
    }
    if (input.notify?.length && !input.callbackUrl) {
      throw new InvalidRequestError([{ field: 'notify', message: 'notify needs a callbackUrl' }]);
    }
    const jobId = randomUUID();
    const meta: JobMeta = {
      jobId,
      createdAt: new Date().toISOString(),
      ...(caller ? { tenant: caller.tenant } : {}),
      tasks: input.options.tasks,
      itemIds: input.items.map((item) => item.id),
      ...(input.callbackUrl ? { callbackUrl: input.callbackUrl } : {}),
      ...(input.notify ? { notify: input.notify } : {}),
    };
    // Metadata first: a worker that gets an item must find its job.
    await this.store.putJob(meta);
    const limit = pLimit(this.config.jobs.intakeConcurrency);
    const items = await Promise.all(input.items.map((item) => limit(() => this.intake(jobId, item, input))));
    const failed = items.filter((item) => item.status === 'failed').length;
    this.logger.log(
      `job ${jobId}: ${items.length} items, ${failed} failed at intake, tasks ${meta.tasks.join(',')}`,
    );
    return { jobId, status: 'queued', items };
  }

  private async intake(
    jobId: string,
    item: JobItemInput,
    input: JobInput,
  ): Promise<JobCreated['items'][number]> {
    try {
      const bytes = await this.itemBytes(item);
      const image = await normaliseImage(this.processor, this.metrics, bytes, this.config.limits);
      const key = jobImageKey(jobId, item.id);
      await this.metrics.timeStage('store', () => this.images.put(key, image.data, image.mime));
      const { options } = input;
      const request = taskRequestFor(
        `${jobId}.${item.id}`,
        options,
        { bucket: JOB_IMAGE_BUCKET, key },
        image,
      );
      for (const task of options.tasks) {
        await this.queue.publish(
          { jobId, itemId: item.id, task, request },
          jobUnitKey(jobId, item.id, task),
          (carrier) => {
            injectTraceHeaders(carrier);
          },
        );
      }
      return { id: item.id, status: 'queued' };
    } catch (error) {
      const taskError = toTaskError(error);
      if (taskError.code === 'INTERNAL') this.logger.error(`job ${jobId} item ${item.id}: ${String(error)}`);
      const finishedAt = new Date().toISOString();
      await Promise.all(
        input.options.tasks.map((task) =>
          this.store.createResult(jobUnitKey(jobId, item.id, task), {
            state: 'failed',
            error: taskError,
            finishedAt,
          }),
        ),
      );
      return { id: item.id, status: 'failed', error: taskError };
    }
  }

  private async itemBytes(item: JobItemInput): Promise<Buffer> {
    const { source } = item;
    switch (source.kind) {
      case 'bytes':
        return source.bytes;
      case 'base64':
        return decodeBase64(source.data);
      case 'url':
        return downloadImage(
          this.downloader,
          this.metrics,
          source.url,
          AbortSignal.timeout(this.config.requestTimeoutMs),
        );
    }
  }

  async status(jobId: string, query: JobStatusQuery, caller?: Caller): Promise<JobStatus> {
    const meta = await this.store.getJob(jobId);
    if (!meta || !visibleTo(meta.tenant, caller)) throw notFound(jobId);
    return this.withWebhooks(meta, summariseJob(meta, await this.store.listResults(jobId), query));
  }

  /**
   * The caller's jobs, newest first, one page. Cost: the metas of at most MAX_JOB_LIST_SCAN jobs (all tenants: the key
   * holds no tenant) read LIST_BATCH at a time, then the results of the page's jobs only (at most `limit`, a few at
   * a time), to count their progress the way GET /v1/jobs/:id does.
   */
  async list(query: JobListQuery, caller?: Caller): Promise<JobList> {
    const { heads, truncated } = await this.store.listJobHeads(MAX_JOB_LIST_SCAN);
    const { page, nextCursor } = pageJobs(heads, caller, query);
    const limit = pLimit(LIST_SUMMARY_CONCURRENCY);
    const summaries = await Promise.all(
      page.map((head) =>
        limit(async () => {
          const meta = await this.store.getJob(head.jobId);
          // Expired since the scan: left out, the cursor still moves past it.
          if (!meta || !visibleTo(meta.tenant, caller)) return undefined;
          return summariseJobListing(meta, await this.store.listResults(meta.jobId));
        }),
      ),
    );
    return {
      jobs: summaries.filter((summary) => summary !== undefined),
      ...(nextCursor ? { nextCursor } : {}),
      truncated,
    };
  }

  private async withWebhooks(meta: JobMeta, status: JobStatus): Promise<JobStatus> {
    if (!meta.callbackUrl) return status;
    return { ...status, webhooks: await this.store.webhookDeliveries(meta.jobId) };
  }

  /** Marks the job cancelled; workers then skip its remaining items and record them `cancelled`. */
  async cancel(jobId: string, caller?: Caller): Promise<JobStatus> {
    const existing = await this.store.getJob(jobId);
    if (!existing || !visibleTo(existing.tenant, caller)) throw notFound(jobId);
    const meta = await this.store.cancelJob(jobId);
    if (!meta) throw notFound(jobId);
    return summariseJob(meta, await this.store.listResults(jobId), { page: 1, pageSize: 100 });
  }
}

export { visibleTo };

function notFound(jobId: string): ArgusError {
  return new ArgusError('NOT_FOUND', `no job ${jobId.slice(0, 128)} (unknown, or expired)`);
}

function toTaskError(error: unknown): TaskError {
  if (error instanceof ArgusError) return error.toTaskError();
  return { code: 'INTERNAL', message: 'the item could not be queued; the gateway log has the cause' };
}
