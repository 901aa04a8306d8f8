import { createHash } from 'node:crypto';
import type { z } from 'zod';
import { ArgusError, type Task, type TierName } from '@argus/contracts';
import type { ImageProcessor, ModelInputTarget } from '@argus/imaging';
import { inSpan } from '@argus/telemetry';
import { modelInput } from './image-context';
import { readModelOutput, type ModelOutput, type Normalisation } from './model-output';
import type { OllamaClient, VisionChatRequest, VisionChatResult } from './ollama-client';
import { numPredictFor } from './output-budget';
import {
  addUsage,
  type EngineAnswer,
  type EngineRequest,
  type EngineUsage,
  type TaskEngine,
  type TaskResult,
  withSpentUsage,
} from './task-engine';

/**
 * A task's versioned prompt, kept in the task's own folder (services/<task>/src/prompt.ts). The version is part of
 * every answer's cache key and of traces, so a prompt change is visible and never silently mixes answers of two
 * prompts; the task's definition names it, and its worker checks the catalog's entries against it at boot.
 */
export interface TaskPrompt {
  version: string;
  system: string;
  user: string;
}

export interface OllamaTaskSpec<Output, Options = unknown> {
  task: Task;
  tier: TierName;
  model: string;
  input: ModelInputTarget;
  prompt: TaskPrompt;
  /** A prompt that depends on the request (moderation adds the policy's house rules); the static one otherwise. */
  userPrompt?: (request: EngineRequest<Options>) => string;
  outputSchema: z.ZodType<Output>;
  format: Record<string, unknown>;
  /** An output schema built per request (caller categories and attribute schemas, the OCR mode); the static one otherwise. */
  outputFor?: (request: EngineRequest<Options>) => {
    schema: z.ZodType<Output>;
    format: Record<string, unknown>;
  };
  /** Turns the model's validated output into the task result, with the hints the router needs. */
  interpret: (output: Output, request: EngineRequest<Options>) => Promise<Omit<EngineAnswer, 'usage'>>;
  /** The catalog's `numPredict`; absent, it is derived from the request's output schema (output-budget.ts). */
  numPredict?: number;
  /** The tier's num_ctx, which caps a derived numPredict. */
  contextLength?: number;
  /** The catalog's `think` for the model; false when absent. */
  think?: boolean;
}

/** The failure of the last call, with every call's usage so the tokens spent are still counted. */
function invalidOutput(message: string, usage: EngineUsage): ArgusError {
  return new ArgusError('INVALID_MODEL_OUTPUT', message, { usage });
}

function usageOfCall(call: VisionChatResult): EngineUsage {
  return {
    inputTokens: call.usage.inputTokens,
    outputTokens: call.usage.outputTokens,
    seconds: { load: call.seconds.load, prompt: call.seconds.prompt, eval: call.seconds.eval },
  };
}

/** What a caller reads in `warnings` about a value normalised before validation. */
export function normalisationWarning(entry: Normalisation): string {
  return `${entry.path}: the model answered ${entry.from} for a 0-1 confidence; read as a percent, ${entry.to}`;
}

/**
 * One task on one Ollama tier: resize to the model's input, ask with the versioned prompt and the task schema as
 * `format` and a bounded `num_predict`, validate. An answer that breaks the schema gets exactly one repair attempt
 * (the schema restated, at temperature 0); an answer cut off at num_predict (done_reason `length`) is never parsed
 * and gets one repair asking for a shorter answer. After that the error is INVALID_MODEL_OUTPUT. Percent confidences
 * are read as 0-1 first (model-output.ts). Usage is every call's, summed.
 */
export class OllamaTaskEngine<Output, Options = unknown> implements TaskEngine<TaskResult, Options> {
  readonly kind = 'ollama' as const;
  readonly fingerprint: string;

  constructor(
    private readonly ollama: Pick<OllamaClient, 'chat'>,
    private readonly processor: Pick<ImageProcessor, 'resizeForModel'>,
    private readonly spec: OllamaTaskSpec<Output, Options>,
  ) {
    this.fingerprint = createHash('sha256')
      .update(
        // Thinking changes the answer; numPredict does not (a cut-off answer is never kept). Keys without
        // thinking stay as they were.
        JSON.stringify([
          spec.model,
          spec.prompt.version,
          spec.input,
          spec.format,
          ...(spec.think ? ['think'] : []),
        ]),
      )
      .digest('hex');
  }

  get task(): Task {
    return this.spec.task;
  }
  get tier(): TierName {
    return this.spec.tier;
  }
  get model(): string {
    return this.spec.model;
  }
  get promptVersion(): string {
    return this.spec.prompt.version;
  }

  async run(request: EngineRequest<Options>): Promise<EngineAnswer> {
    const resized = await inSpan(
      'resize for model',
      { attributes: { 'argus.model_input': JSON.stringify(this.spec.input) } },
      () => modelInput(request.context, this.processor, this.spec.input),
    );
    const expected = this.spec.outputFor?.(request) ?? {
      schema: this.spec.outputSchema,
      format: this.spec.format,
    };
    const chat: VisionChatRequest = {
      model: this.spec.model,
      system: this.spec.prompt.system,
      prompt: this.spec.userPrompt ? this.spec.userPrompt(request) : this.spec.prompt.user,
      image: resized.data,
      format: expected.format,
      signal: request.signal,
      numPredict: numPredictFor(expected.format, this.spec),
      think: this.spec.think ?? false,
    };
    const first = await this.ollama.chat(chat);
    let usage = usageOfCall(first);
    let read = this.read(expected, first, chat.numPredict);
    if (read instanceof ArgusError) {
      const truncated = first.doneReason === 'length';
      const spent = usage;
      const second = await this.ollama
        .chat({ ...chat, repair: { previousAnswer: first.content, problem: read.message, truncated } })
        .catch((error: unknown) => {
          throw withSpentUsage(error, spent);
        });
      usage = addUsage(usage, usageOfCall(second)) ?? usage;
      read = this.read(expected, second, chat.numPredict);
      if (read instanceof ArgusError) {
        const tries = truncated && second.doneReason === 'length' ? 'twice' : 'after one repair';
        throw invalidOutput(
          second.doneReason === 'length'
            ? `${read.message} ${tries}; raise numPredict for ${this.spec.task} on the ${this.spec.tier} tier in ` +
                'the model catalog if answers this long are expected'
            : read.message,
          usage,
        );
      }
    }
    const interpreted = await this.spec.interpret(read.output, request);
    const normalised = read.normalised;
    if (normalised.length === 0) return { ...interpreted, usage };
    const result = interpreted.result;
    return {
      ...interpreted,
      result: { ...result, warnings: [...(result.warnings ?? []), ...normalised.map(normalisationWarning)] },
      usage,
      normalised: [...(interpreted.normalised ?? []), ...normalised.map((entry) => entry.field)],
    };
  }

  /** One call's answer checked: a cut-off answer is an error even when what arrived happens to parse. */
  private read(
    expected: { schema: z.ZodType<Output>; format: Record<string, unknown> },
    call: VisionChatResult,
    numPredict: number,
  ): ModelOutput<Output> | ArgusError {
    if (call.doneReason === 'length') {
      return new ArgusError(
        'INVALID_MODEL_OUTPUT',
        `${this.spec.model} was cut off at the ${numPredict}-token output limit (done_reason "length")`,
      );
    }
    try {
      return readModelOutput(expected.schema, expected.format, call.content, this.spec.model);
    } catch (error) {
      if (error instanceof ArgusError && error.code === 'INVALID_MODEL_OUTPUT') return error;
      throw error;
    }
  }
}
