import type {
  ModerationResult,
  OcrOptions,
  OcrResult,
  TaggingOptions,
  TaggingResult,
  Task,
  TierName,
} from '@argus/contracts';
import type { PolicyContext } from './moderation-policy';

export interface TaskResults {
  moderation: ModerationResult;
  tagging: TaggingResult;
  ocr: OcrResult;
}
export type TaskResult = TaskResults[Task];

export interface EngineRequest {
  /** The normalised image as stored by the gateway (an upright JPEG or PNG). */
  image: Uint8Array;
  signal: AbortSignal;
  /** Moderation only: the policy that turns categories into a decision and adds house rules to the prompt. */
  policy?: PolicyContext;
  /** Tagging only: the caller's categories, attribute schemas and listing. */
  tagging?: TaggingOptions;
  /** OCR only: the reading mode. */
  ocr?: OcrOptions;
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
  usage?: EngineUsage;
}

export interface TaskEngine<Result = TaskResult> {
  readonly task: Task;
  readonly tier: TierName;
  readonly kind: 'cpu' | 'ollama';
  readonly model: string;
  readonly promptVersion: string;
  /** Everything that changes the answer for the same image: model, prompt version, input size, options. */
  readonly fingerprint: string;
  run(request: EngineRequest): Promise<EngineAnswer<Result>>;
}
