import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { context, trace } from '@opentelemetry/api';
import {
  ArgusError,
  JOB_IMAGE_BUCKET,
  TASK_REPLY_SCHEMAS,
  TASK_SUBJECTS,
  taskRequestSchema,
  type Escalation,
  type TaskReply,
  type TaskRequest,
} from '@argus/contracts';
import type { WorkerConfig } from '@argus/config';
import { asArgusError, ImageContext, ImageLoadError, RoutingError, type TierRouter } from '@argus/inference';
import { ImageStore, type MessageHeaders } from '@argus/messaging';
import { ArgusMetrics, extractTraceContext, inSpan, NOT_APPLICABLE, SpanKind } from '@argus/telemetry';
import type { ReplyCacheWriter } from './reply-cache';
import type { TaskRuntime } from './task-definition';
import { REPLY_CACHE, TASK_ROUTER, TASK_RUNTIME, WORKER_CONFIG } from './worker.tokens';

/** Used when a caller sends no budget header; generous because large models can take minutes. */
const DEFAULT_BUDGET_MS = 120_000;
/** Reply this much before the caller's deadline so the answer still has time to cross NATS. */
const REPLY_MARGIN_MS = 250;

export type ImageStoreReader = Pick<ImageStore, 'get'>;
export type Router = Pick<TierRouter, 'route'>;

/**
 * The worker's use case: fetch the image by reference, let the router pick the tier (cascade, cache, resilience),
 * reply with the result and how it was reached. Every failure becomes a coded error reply; nothing escapes.
 */
@Injectable()
export class TaskPipeline {
  private readonly logger = new Logger(TaskPipeline.name);

  constructor(
    @Inject(WORKER_CONFIG) private readonly config: WorkerConfig,
    @Inject(ImageStore) private readonly images: ImageStoreReader,
    @Inject(TASK_ROUTER) private readonly router: Router,
    @Inject(ArgusMetrics) private readonly metrics: ArgusMetrics,
    @Inject(TASK_RUNTIME) private readonly task: TaskRuntime,
    @Optional() @Inject(REPLY_CACHE) private readonly replies?: Pick<ReplyCacheWriter, 'remember'> | null,
  ) {}

  async handle(
    payload: unknown,
    headers: MessageHeaders | undefined,
    budgetMs: number | undefined,
    /** The wait for an Ollama tier's shared slot; the sync path's short default unless a job item allows more. */
    slotWaitMs: number = this.config.slots.waitMs,
  ): Promise<TaskReply> {
    const { task, service } = this.config;
    const started = performance.now();
    const budget = Math.max(1, (budgetMs ?? DEFAULT_BUDGET_MS) - REPLY_MARGIN_MS);
    const deadlineAt = Date.now() + budget;
    const signal = AbortSignal.timeout(budget);
    const labels = { tier: NOT_APPLICABLE, model: NOT_APPLICABLE, outcome: 'ok' };
    /** A cache-only probe that missed is not an image processed: no latency sample, no log line. */
    let probeMissed = false;
    this.metrics.inflight.inc({ service, tier: 'all' });
    const parent = extractTraceContext(headers);
    try {
      return await inSpan(
        `${TASK_SUBJECTS[task]} process`,
        {
          kind: SpanKind.CONSUMER,
          parent,
          attributes: {
            'messaging.system': 'nats',
            'messaging.destination.name': TASK_SUBJECTS[task],
            'argus.task': task,
          },
        },
        async () => {
          const { reply, request, degraded } = await this.analyze(
            payload,
            signal,
            deadlineAt,
            started,
            slotWaitMs,
          );
          Object.assign(labels, { tier: reply.tier, model: reply.model });
          const parsed = TASK_REPLY_SCHEMAS[task].parse(reply);
          if (parsed.status === 'ok') this.task.observe?.(parsed);
          void this.replies?.remember(request, parsed, degraded);
          return parsed;
        },
      );
    } catch (error) {
      const argusError = asArgusError(error);
      labels.outcome = argusError.code.toLowerCase();
      probeMissed = isCacheOnly(payload) && argusError.code === 'NOT_FOUND';
      if (argusError.code === 'INTERNAL') this.logger.error(`${task} failed: ${errorText(error)}`);
      const route = error instanceof RoutingError ? error.lastRoute : undefined;
      const escalations: Escalation[] = error instanceof RoutingError ? error.escalations : [];
      if (route) Object.assign(labels, { tier: route.tier, model: route.engine.model });
      return {
        status: 'error',
        engine: route?.engine.kind ?? 'none',
        tier: route?.tier ?? 'none',
        model: route?.engine.model ?? 'none',
        durationMs: elapsedMs(started),
        escalations,
        error: argusError.toTaskError(),
      };
    } finally {
      this.metrics.inflight.dec({ service, tier: 'all' });
      // Under the caller's trace, so the sample's exemplar and the log line link to it.
      if (!probeMissed)
        context.with(parent, () => {
          const seconds = (performance.now() - started) / 1000;
          this.metrics.imageDuration.observe({ service, task, ...labels }, seconds);
          this.logger.log({ task, ...labels, durationMs: Math.round(seconds * 1000) }, 'image processed');
        });
    }
  }

  /** The stored image, read when a tier or the postprocessor first needs it; never for a cache-only request. */
  private async loadImage(request: TaskRequest): Promise<Uint8Array> {
    if (request.cacheOnly) throw new ImageLoadError('NOT_FOUND', 'cache-only request: no cached answer');
    const stored = await this.metrics
      .timeStage('fetch', () =>
        inSpan('fetch image', {}, () => this.images.get(request.image.key, request.image.bucket)),
      )
      .catch((error: unknown) => {
        // A store that fails now fails for every tier: stop routing with the store's own code.
        throw error instanceof ArgusError ? new ImageLoadError(error.code, error.message) : error;
      });
    if (stored) return stored;
    // A job's image is stored before its items are queued and kept as long as the job, so a miss is the store
    // still recovering (e.g. after a NATS restart): retryable, and dead-lettered with this reason if it persists.
    if (request.image.bucket === JOB_IMAGE_BUCKET) {
      throw new ImageLoadError(
        'SERVICE_UNAVAILABLE',
        `job image ${request.image.key} was not found in the store; it may be recovering`,
      );
    }
    throw new ImageLoadError(
      'INVALID_REQUEST',
      `image ${request.image.key} is not in the store (expired or never stored)`,
    );
  }

  private async analyze(
    payload: unknown,
    signal: AbortSignal,
    deadlineAt: number,
    started: number,
    slotWaitMs: number,
  ): Promise<{ reply: TaskReply; request: TaskRequest; degraded: boolean }> {
    const request = parseRequest(payload);
    const postprocess = this.task.postprocess;
    if (request.cacheOnly && postprocess?.readsImage) {
      // Checked before the cache, so that a probe which could never be answered does not count as a hit.
      throw new ImageLoadError('NOT_FOUND', 'cache-only request: this task measures the image itself');
    }
    const options = this.task.resolve(request.options);
    const image = new ImageContext(request.image, () => this.loadImage(request));
    const routed = await this.metrics.timeStage('inference', () =>
      this.router.route({
        image,
        routing: request.routing,
        signal,
        deadlineAt,
        slotWaitMs,
        options,
        optionsFingerprint: this.task.fingerprint(options),
      }),
    );
    const { answer, route } = routed;
    const extra = postprocess
      ? await this.metrics.timeStage('postprocess', () =>
          inSpan('postprocess', {}, () =>
            postprocess.run(image, options, answer.result, answer.needsGpuTier),
          ),
        )
      : {};
    trace.getActiveSpan()?.setAttributes({
      'argus.tier': route.tier,
      'argus.prompt_version': route.engine.promptVersion,
      'argus.cached': routed.cached,
      'argus.escalations': routed.escalations.length,
    });
    const reply = {
      status: 'ok',
      engine: route.engine.kind,
      tier: route.tier,
      model: route.engine.model,
      durationMs: elapsedMs(started),
      cached: routed.cached,
      escalations: routed.escalations,
      needsGpuTier: answer.needsGpuTier,
      ...answer.result,
      ...extra,
    } as TaskReply;
    return { reply, request, degraded: routed.degraded };
  }
}

function isCacheOnly(payload: unknown): boolean {
  return (
    typeof payload === 'object' && payload !== null && 'cacheOnly' in payload && payload.cacheOnly === true
  );
}

function parseRequest(payload: unknown): TaskRequest {
  const parsed = taskRequestSchema.safeParse(payload);
  if (!parsed.success) {
    throw new ArgusError(
      'INVALID_REQUEST',
      `task request breaks the contract: ${parsed.error.issues.at(0)?.message ?? 'invalid'}`,
    );
  }
  return parsed.data;
}

function elapsedMs(started: number): number {
  return Math.round((performance.now() - started) * 10) / 10;
}

function errorText(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}
