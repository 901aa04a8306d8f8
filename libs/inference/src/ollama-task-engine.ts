import { createHash } from 'node:crypto';
import type { z } from 'zod';
import { ArgusError, type Task, type TierName } from '@argus/contracts';
import type { ImageProcessor, ModelInputTarget } from '@argus/imaging';
import { inSpan } from '@argus/telemetry';
import { parseModelOutput } from './model-output';
import type { OllamaEngine } from './ollama-engine';
import type { TaskPrompt } from './prompts';
import type { EngineAnswer, EngineRequest, TaskEngine } from './task-engine';

export interface OllamaTaskSpec<Output> {
  task: Task;
  tier: TierName;
  model: string;
  input: ModelInputTarget;
  prompt: TaskPrompt;
  /** A prompt that depends on the request (moderation adds the policy's house rules); the static one otherwise. */
  userPrompt?: (request: EngineRequest) => string;
  outputSchema: z.ZodType<Output>;
  format: Record<string, unknown>;
  /** An output schema built per request (caller categories and attribute schemas, the OCR mode); the static one otherwise. */
  outputFor?: (request: EngineRequest) => { schema: z.ZodType<Output>; format: Record<string, unknown> };
  /** Turns the model's validated output into the task result, with the hints the router needs. */
  interpret: (output: Output, request: EngineRequest) => Promise<Omit<EngineAnswer, 'usage'>>;
}

/**
 * One task on one Ollama tier: resize to the model's input, ask with the versioned prompt and the task schema as
 * `format`, validate. An answer that breaks the schema gets exactly one repair attempt (the schema restated, at
 * temperature 0); after that the error is INVALID_MODEL_OUTPUT.
 */
export class OllamaTaskEngine<Output> implements TaskEngine {
  readonly kind = 'ollama' as const;
  readonly fingerprint: string;

  constructor(
    private readonly ollama: Pick<OllamaEngine, 'chat'>,
    private readonly processor: Pick<ImageProcessor, 'resizeForModel'>,
    private readonly spec: OllamaTaskSpec<Output>,
  ) {
    this.fingerprint = createHash('sha256')
      .update(JSON.stringify([spec.model, spec.prompt.version, spec.input, spec.format]))
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

  async run(request: EngineRequest): Promise<EngineAnswer> {
    const resized = await inSpan(
      'resize for model',
      { attributes: { 'argus.model_input': JSON.stringify(this.spec.input) } },
      () => this.processor.resizeForModel(request.image, this.spec.input),
    );
    const expected = this.spec.outputFor?.(request) ?? {
      schema: this.spec.outputSchema,
      format: this.spec.format,
    };
    const chat = {
      model: this.spec.model,
      system: this.spec.prompt.system,
      prompt: this.spec.userPrompt ? this.spec.userPrompt(request) : this.spec.prompt.user,
      imageBase64: resized.data.toString('base64'),
      format: expected.format,
      signal: request.signal,
    };
    const first = await this.ollama.chat(chat);
    let output: Output;
    let usage = first;
    try {
      output = parseModelOutput(expected.schema, first.content, this.spec.model);
    } catch (error) {
      if (!(error instanceof ArgusError) || error.code !== 'INVALID_MODEL_OUTPUT') throw error;
      const second = await this.ollama.chat({
        ...chat,
        repair: { previousAnswer: first.content, problem: error.message },
      });
      output = parseModelOutput(expected.schema, second.content, this.spec.model);
      usage = second;
    }
    const interpreted = await this.spec.interpret(output, request);
    return {
      ...interpreted,
      usage: {
        inputTokens: usage.usage.inputTokens,
        outputTokens: usage.usage.outputTokens,
        seconds: { load: usage.seconds.load, prompt: usage.seconds.prompt, eval: usage.seconds.eval },
      },
    };
  }
}
