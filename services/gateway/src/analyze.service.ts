import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import {
  IMAGE_BUCKET,
  TASKS,
  moderationDecisionSamples,
  mostActionableCode,
  type AnalyzeResponse,
  type AnalyzeResults,
  type Task,
  type TaskReply,
  namedOptionsOf,
  type NamedOptionFile,
  type TaskOptions,
  type TaskRequest,
} from '@argus/contracts';
import type { GatewayConfig, ListingProfiles, ModerationPolicies } from '@argus/config';
import { ImageProcessor } from '@argus/imaging';
import { ImageStore } from '@argus/messaging';
import { SafeFetcher } from '@argus/url-intake';
import { activeTraceId, ArgusMetrics, inSpan, NOT_APPLICABLE } from '@argus/telemetry';
import type { AnalyzeInput } from './analyze-input';
import { AnalyzeFailedError, InvalidRequestError } from './problem';
import {
  downloadImage,
  normaliseImage,
  taskRequestFor,
  type ImageDownloader,
  type ImageNormaliser,
} from './image-preparation';
import { TaskDispatcher } from './task-dispatcher.service';
import { GATEWAY_CONFIG, LISTING_PROFILES, MODERATION_POLICIES } from './gateway.tokens';
import { ReplyCache } from './reply-cache';
import { UploadMemo, type UploadDescription } from './upload-memo';

export type ImageWriter = Pick<ImageStore, 'put' | 'delete'>;

/**
 * How long a cache-only request may take. It is a KV lookup in the worker, so anything slower means a worker too
 * busy to matter: the full path is taken instead.
 */
const CACHE_PROBE_TIMEOUT_MS = 1_000;

type TaskReplies = Array<readonly [Task, TaskReply]>;

/**
 * The gateway's use case: normalise once, store once, fan the tasks out in parallel under one deadline, merge.
 * One task failing never hides the others; only when all fail is the whole request an error. An upload seen before
 * first asks the workers for cached answers, and only the tasks without one take the full path.
 */
@Injectable()
export class AnalyzeService {
  private readonly logger = new Logger(AnalyzeService.name);
  private readonly uploads: UploadMemo;

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    @Inject(ImageProcessor) private readonly processor: ImageNormaliser,
    @Inject(ImageStore) private readonly store: ImageWriter,
    @Inject(TaskDispatcher) private readonly dispatcher: Pick<TaskDispatcher, 'dispatch'>,
    @Inject(ArgusMetrics) private readonly metrics: ArgusMetrics,
    @Inject(LISTING_PROFILES) private readonly profiles: Pick<ListingProfiles, 'names'>,
    @Inject(MODERATION_POLICIES) private readonly policies: Pick<ModerationPolicies, 'names'>,
    @Inject(SafeFetcher) private readonly downloader: ImageDownloader | null = null,
    @Optional() @Inject(ReplyCache) private readonly replyCache: Pick<ReplyCache, 'lookup'> | null = null,
  ) {
    this.uploads = new UploadMemo(config.cacheTtlSeconds);
  }

  /** The uploaded bytes, or the image fetched from `imageUrl` within what is left of the request's deadline. */
  private async imageBytes(input: AnalyzeInput, deadline: number): Promise<Buffer> {
    if (input.bytes) return input.bytes;
    const signal = AbortSignal.timeout(Math.max(1, deadline - Date.now()));
    return downloadImage(this.downloader, this.metrics, input.imageUrl ?? '', signal);
  }

  async analyze(input: AnalyzeInput): Promise<AnalyzeResponse> {
    assertKnownNames(input.options, this.profiles, this.policies);
    const started = performance.now();
    const deadline = Date.now() + this.config.requestTimeoutMs;
    const id = randomUUID();
    let outcome = 'ok';
    let stored = false;
    try {
      const bytes = await this.imageBytes(input, deadline);
      const sha256 = this.uploads.hash(bytes);
      const seen = this.uploads.recall(sha256);
      const kept = seen ? await this.keptReplies(input, seen) : [];
      const unanswered = input.tasks.filter((task) => !kept.some(([answered]) => answered === task));
      const cached =
        seen && unanswered.length > 0
          ? [...kept, ...(await this.cachedReplies(id, input, unanswered, seen, deadline))]
          : kept;
      const pending = input.tasks.filter((task) => !cached.some(([answered]) => answered === task));
      let image: UploadDescription;
      let replies: TaskReplies;
      if (seen && pending.length === 0) {
        image = seen;
        replies = cached;
      } else {
        const normalised = await normaliseImage(
          this.processor,
          this.metrics,
          bytes,
          this.config.limits,
          sha256,
        );
        image = normalised;
        await this.metrics.timeStage('store', () =>
          inSpan('store image', {}, () => this.store.put(id, normalised.data, normalised.mime)),
        );
        stored = true;
        const request = taskRequestFor(id, input, { bucket: IMAGE_BUCKET, key: id }, normalised);
        replies = [...cached, ...(await this.dispatchAll(pending, request, () => deadline - Date.now()))];
        if (replies.some(([, reply]) => reply.status === 'ok')) this.uploads.remember(normalised);
      }
      this.metrics.imageInputBytes.observe(image.sourceBytes);
      this.metrics.imageInputPixels.observe(image.sourcePixels);
      replies.sort(([a], [b]) => input.tasks.indexOf(a) - input.tasks.indexOf(b));
      const results: AnalyzeResults = Object.fromEntries(replies);
      const failed = replies.map(([, reply]) => reply).filter((reply) => reply.status === 'error');
      if (failed.length === replies.length) {
        const code = mostActionableCode(failed.map((reply) => reply.error.code));
        // The tasks that failed with that code say when to come back (a full tier: 1 s); the latest of them wins.
        const retryAfters = failed
          .filter((reply) => reply.error.code === code)
          .map((reply) => reply.error.retryAfterSeconds);
        const retryAfterSeconds = retryAfters.every((seconds) => seconds !== undefined)
          ? Math.max(...retryAfters)
          : undefined;
        throw new AnalyzeFailedError(code, summarise(replies), results, { retryAfterSeconds });
      }
      return {
        id,
        traceId: activeTraceId(),
        image: {
          sha256: image.sha256,
          width: image.width,
          height: image.height,
          format: image.sourceFormat,
          bytes: image.sourceBytes,
        },
        results,
      };
    } catch (error) {
      outcome = (error as { code?: string }).code?.toLowerCase() ?? 'internal';
      throw error;
    } finally {
      // ARGUS_RETENTION=0: every task has answered (or the deadline passed), so nothing reads the image again.
      if (stored && this.config.retentionSeconds === 0) {
        this.store.delete(id).catch((error: unknown) => {
          this.logger.warn(
            `could not delete image ${id}: ${error instanceof Error ? error.message : String(error)}`,
          );
        });
      }
      this.metrics.imageDuration.observe(
        {
          service: 'gateway',
          // Canonical order, so the label has at most 2^tasks − 1 (15) values whatever order callers list tasks in.
          task: TASKS.filter((task) => input.tasks.includes(task)).join('+'),
          tier: NOT_APPLICABLE,
          model: NOT_APPLICABLE,
          outcome,
        },
        (performance.now() - started) / 1000,
      );
    }
  }

  /** Sends every task at once; `budgetMs` is read as each dispatch starts. */
  private dispatchAll(tasks: Task[], request: TaskRequest, budgetMs: () => number): Promise<TaskReplies> {
    return Promise.all(
      tasks.map(async (task) => [task, await this.dispatcher.dispatch(task, request, budgetMs())] as const),
    );
  }

  /**
   * The replies workers kept for this very request (same upload, routing and options, same worker fingerprint),
   * read from the reply cache with no worker involved. Counted here as the worker would have counted them.
   */
  private async keptReplies(input: AnalyzeInput, seen: UploadDescription): Promise<TaskReplies> {
    const cache = this.replyCache;
    if (!cache) return [];
    const started = performance.now();
    const found = await inSpan('reply cache', {}, () =>
      Promise.all(input.tasks.map(async (task) => [task, await cache.lookup(task, seen, input)] as const)),
    );
    const durationMs = Math.round((performance.now() - started) * 10) / 10;
    const replies: TaskReplies = [];
    for (const [task, reply] of found) {
      if (!reply) continue;
      this.metrics.cacheLookups.inc({ task, result: 'hit' });
      if ('decision' in reply) {
        for (const sample of moderationDecisionSamples(reply)) this.metrics.moderationDecisions.inc(sample);
      }
      replies.push([task, { ...reply, cached: true, durationMs }]);
    }
    return replies;
  }

  /**
   * The tasks a worker could answer from its cache, for an upload this gateway has normalised before. Any other
   * reply (a miss, a busy or absent worker, a slow one) leaves the task to the full path, so nothing is lost.
   */
  private async cachedReplies(
    id: string,
    input: AnalyzeInput,
    tasks: Task[],
    seen: UploadDescription,
    deadline: number,
  ): Promise<TaskReplies> {
    const probe: TaskRequest = {
      ...taskRequestFor(id, input, { bucket: IMAGE_BUCKET, key: id }, seen),
      cacheOnly: true,
    };
    const replies = await inSpan('cached answers', {}, () =>
      this.dispatchAll(tasks, probe, () => Math.min(CACHE_PROBE_TIMEOUT_MS, deadline - Date.now())),
    );
    return replies.filter(([, reply]) => reply.status === 'ok');
  }
}

/** Profile and policy names must be ones the gateway loaded; a typo is a 400, not a silent default. */
export function assertKnownNames(
  options: TaskOptions,
  profiles: Pick<ListingProfiles, 'names'>,
  policies: Pick<ModerationPolicies, 'names'>,
): void {
  const known: Record<NamedOptionFile, readonly string[]> = {
    'moderation-policies': policies.names,
    'listing-profiles': profiles.names,
  };
  for (const { field, names, value } of namedOptionsOf(options)) {
    if (!known[names].includes(value)) {
      throw new InvalidRequestError([
        { field, message: `unknown ${field}; use one of ${known[names].join(', ')}` },
      ]);
    }
  }
}

function summarise(replies: ReadonlyArray<readonly [string, TaskReply]>): string {
  return replies
    .map(([task, reply]) =>
      reply.status === 'error' ? `${task}: ${reply.error.code} (${reply.error.message})` : `${task}: ok`,
    )
    .join('; ');
}
