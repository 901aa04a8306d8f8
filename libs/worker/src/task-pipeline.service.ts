import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  ArgusError,
  modelOutputJsonSchema,
  TASK_REPLY_SCHEMAS,
  TASK_RESULT_SCHEMAS,
  TASK_SUBJECTS,
  taskRequestSchema,
  type ErrorCode,
  type TaskReply,
  type TaskRequest,
} from '@argus/contracts';
import type { WorkerConfig } from '@argus/config';
import { ImageProcessor } from '@argus/imaging';
import { OllamaEngine, parseModelOutput, PROMPTS } from '@argus/inference';
import { ImageStore, type MessageHeaders } from '@argus/messaging';
import { trace } from '@opentelemetry/api';
import { ArgusMetrics, extractTraceContext, inSpan, SpanKind } from '@argus/telemetry';
import { WORKER_CONFIG } from './worker.tokens';

/** Used when a caller sends no budget header; generous because large models can take minutes. */
const DEFAULT_BUDGET_MS = 120_000;
/** Reply this much before the caller's deadline so the answer still has time to cross NATS. */
const REPLY_MARGIN_MS = 250;
/** Tiers arrive with the model catalog; until then every call goes to the one configured Ollama. */
const TIER = 'default';

export type ImageStoreReader = Pick<ImageStore, 'get'>;
export type ImageResizer = Pick<ImageProcessor, 'resizeForModel'>;
export type VisionEngine = Pick<OllamaEngine, 'chat'>;

/**
 * The worker's use case: fetch the image by reference, resize it to what the model wants, ask the engine, hold the
 * answer to the contract. Every failure becomes a coded error reply; nothing escapes as an exception.
 */
@Injectable()
export class TaskPipeline {
  private readonly logger = new Logger(TaskPipeline.name);

  constructor(
    @Inject(WORKER_CONFIG) private readonly config: WorkerConfig,
    @Inject(ImageStore) private readonly images: ImageStoreReader,
    @Inject(ImageProcessor) private readonly processor: ImageResizer,
    @Inject(OllamaEngine) private readonly engine: VisionEngine,
    @Inject(ArgusMetrics) private readonly metrics: ArgusMetrics,
  ) {}

  async handle(
    payload: unknown,
    headers: MessageHeaders | undefined,
    budgetMs: number | undefined,
  ): Promise<TaskReply> {
    const { task, service, model } = this.config;
    const started = performance.now();
    const deadline = AbortSignal.timeout(Math.max(1, (budgetMs ?? DEFAULT_BUDGET_MS) - REPLY_MARGIN_MS));
    const inflight = { service, tier: TIER };
    this.metrics.inflight.inc(inflight);
    let outcome: 'ok' | Lowercase<ErrorCode> = 'ok';
    try {
      return await inSpan(
        `${TASK_SUBJECTS[task]} process`,
        {
          kind: SpanKind.CONSUMER,
          parent: extractTraceContext(headers),
          attributes: {
            'messaging.system': 'nats',
            'messaging.destination.name': TASK_SUBJECTS[task],
            'argus.task': task,
          },
        },
        async () => {
          const reply = await this.analyze(payload, deadline, started);
          return TASK_REPLY_SCHEMAS[task].parse(reply);
        },
      );
    } catch (error) {
      const argusError = toArgusError(error);
      outcome = argusError.code.toLowerCase() as Lowercase<ErrorCode>;
      if (argusError.code === 'INTERNAL') this.logger.error(`${task} failed: ${describe(error)}`);
      return {
        status: 'error',
        engine: 'ollama',
        model,
        durationMs: elapsedMs(started),
        error: argusError.toTaskError(),
      };
    } finally {
      this.metrics.inflight.dec(inflight);
      this.metrics.imageDuration.observe(
        { service, task, tier: TIER, model, outcome },
        (performance.now() - started) / 1000,
      );
    }
  }

  private async analyze(payload: unknown, deadline: AbortSignal, started: number): Promise<TaskReply> {
    const { task, model, inputLongSide } = this.config;
    const request = parseRequest(payload);
    const stored = await this.metrics.timeStage('fetch', () =>
      inSpan('fetch image', {}, () => this.images.get(request.image.key)),
    );
    if (!stored) {
      throw new ArgusError(
        'INVALID_REQUEST',
        `image ${request.image.key} is not in the store (expired or never stored)`,
      );
    }
    const resized = await this.metrics.timeStage('resize', () =>
      inSpan('resize', { attributes: { 'argus.input_long_side': inputLongSide } }, () =>
        this.processor.resizeForModel(stored, { longSide: inputLongSide }),
      ),
    );
    const prompt = PROMPTS[task];
    trace.getActiveSpan()?.setAttribute('argus.prompt_version', prompt.version);
    const inferenceStarted = performance.now();
    let inferenceOutcome = 'ok';
    const answer = await this.metrics
      .timeStage('inference', () =>
        this.engine.chat({
          model,
          system: prompt.system,
          prompt: prompt.user,
          imageBase64: resized.data.toString('base64'),
          format: modelOutputJsonSchema(task),
          signal: deadline,
        }),
      )
      .catch((error: unknown) => {
        inferenceOutcome = toArgusError(error).code.toLowerCase();
        throw error;
      })
      .finally(() => {
        this.metrics.inferenceDuration.observe(
          { engine: 'ollama', tier: TIER, model, outcome: inferenceOutcome },
          (performance.now() - inferenceStarted) / 1000,
        );
      });
    this.metrics.inferenceTokens.inc({ tier: TIER, model, kind: 'input' }, answer.usage.inputTokens);
    this.metrics.inferenceTokens.inc({ tier: TIER, model, kind: 'output' }, answer.usage.outputTokens);
    const result = await this.metrics.timeStage('validate', () =>
      Promise.resolve(parseModelOutput(TASK_RESULT_SCHEMAS[task], answer.content, model)),
    );
    return { status: 'ok', engine: 'ollama', model, durationMs: elapsedMs(started), ...result };
  }
}

function parseRequest(payload: unknown): TaskRequest {
  const parsed = taskRequestSchema.safeParse(payload);
  if (!parsed.success) {
    throw new ArgusError(
      'INVALID_REQUEST',
      `task request breaks the contract: ${parsed.error.issues[0]?.message ?? 'invalid'}`,
    );
  }
  return parsed.data;
}

function toArgusError(error: unknown): ArgusError {
  if (error instanceof ArgusError) return error;
  return new ArgusError('INTERNAL', 'the worker failed unexpectedly');
}

function elapsedMs(started: number): number {
  return Math.round((performance.now() - started) * 10) / 10;
}

function describe(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}
