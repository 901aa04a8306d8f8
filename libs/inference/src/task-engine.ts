import {
  ArgusError,
  type DescribeResult,
  type ModerationResult,
  type OcrResult,
  type TaggingResult,
  type Task,
  type TierName,
} from '@argus/contracts';
import type { ImageContext } from './image-context';

export interface TaskResults {
  moderation: ModerationResult;
  tagging: TaggingResult;
  ocr: OcrResult;
  describe: DescribeResult;
}
export type TaskResult = TaskResults[Task];

export interface EngineRequest<Options = unknown> {
  /** The normalised image as stored by the gateway (an upright JPEG or PNG). */
  image: Uint8Array;
  /** The same image with what other stages of this request derive from it (measurements, OCR words). */
  context: ImageContext;
  signal: AbortSignal;
  /** The task's own options, resolved by its definition (moderation: the policy itself); opaque to the router. */
  options: Options;
}

export interface EngineUsage {
  inputTokens: number;
  outputTokens: number;
  /** Ollama's own timings in seconds (load, prompt evaluation, generation). */
  seconds: { load: number; prompt: number; eval: number };
}

/** One tier's answer for one task, plus what the router needs to decide whether to escalate. */
export interface EngineAnswer<Result = TaskResult> {
  result: Result;
  /** Null when the engine has no calibrated notion of confidence (vision-model OCR, for one). */
  confidence: number | null;
  /** A decision that asks for a person's look (moderation `review`) escalates under `auto`. */
  wantsReview: boolean;
  /** Fields or categories this engine cannot judge; under `auto` they are a reason to escalate. */
  needsGpuTier: string[];
  /** Every model call of the answer summed (a repair call included). */
  usage?: EngineUsage;
  /**
   * Model output fields normalised before validation, one entry per value, without indices (e.g.
   * `categories[].confidence`); the worker counts them. The result's `warnings` say what was changed.
   */
  normalised?: string[];
}

export interface TaskEngine<Result = TaskResult, Options = unknown> {
  readonly task: Task;
  readonly tier: TierName;
  readonly kind: 'cpu' | 'ollama';
  readonly model: string;
  readonly promptVersion: string;
  /** Everything that changes the answer for the same image: model, prompt version, input size, options. */
  readonly fingerprint: string;
  run(request: EngineRequest<Options>): Promise<EngineAnswer<Result>>;
}

/** The usage an error carries (an OllamaTaskEngine's INVALID_MODEL_OUTPUT), if any. */
export function usageOf(error: unknown): EngineUsage | undefined {
  const usage = error instanceof ArgusError ? error.details?.usage : undefined;
  return isUsage(usage) ? usage : undefined;
}

function isUsage(value: unknown): value is EngineUsage {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as EngineUsage).inputTokens === 'number' &&
    typeof (value as EngineUsage).outputTokens === 'number' &&
    typeof (value as EngineUsage).seconds === 'object'
  );
}

/** Two answers' usage together: tokens and Ollama's seconds summed. */
export function addUsage(a: EngineUsage | undefined, b: EngineUsage | undefined): EngineUsage | undefined {
  if (!a || !b) return a ?? b;
  return {
    inputTokens: a.inputTokens + b.inputTokens,
    outputTokens: a.outputTokens + b.outputTokens,
    seconds: {
      load: a.seconds.load + b.seconds.load,
      prompt: a.seconds.prompt + b.seconds.prompt,
      eval: a.seconds.eval + b.seconds.eval,
    },
  };
}

/** `error` carrying `usage` as well (added to any it carries), so the tokens a failed answer spent are counted. */
export function withSpentUsage(error: unknown, usage: EngineUsage | undefined): unknown {
  if (!(error instanceof ArgusError) || !usage) return error;
  return new ArgusError(error.code, error.message, {
    ...error.details,
    usage: addUsage(usage, usageOf(error)),
  });
}
