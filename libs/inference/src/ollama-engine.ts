import { Ollama, type ChatResponse } from 'ollama';
import { ArgusError } from '@argus/contracts';
import { inSpan, SpanKind } from '@argus/telemetry';

export interface OllamaEngineOptions {
  host: string;
  keepAlive: string;
  /** Fixed per deployment: changing num_ctx between requests makes Ollama reload the model. */
  numCtx?: number;
}

export interface VisionChatRequest {
  model: string;
  system: string;
  prompt: string;
  imageBase64: string;
  format: Record<string, unknown>;
  signal: AbortSignal;
  /** A second try after an answer that broke the schema: the model sees its answer and what was wrong. */
  repair?: { previousAnswer: string; problem: string };
}

export interface VisionChatResult {
  content: string;
  model: string;
  usage: { inputTokens: number; outputTokens: number };
  /** Ollama's own timings, converted from nanoseconds. */
  seconds: { total: number; load: number; prompt: number; eval: number };
}

export interface ModelStatus {
  status: 'ready' | 'missing' | 'no-vision' | 'unreachable';
  ok: boolean;
  detail: string;
}

const NS_PER_SECOND = 1e9;

/**
 * The one adapter around Ollama. Chats are streamed, which sidesteps Node fetch's 300 s header timeout, and each
 * call gets a client whose fetch carries the caller's AbortSignal, so even a server that never sends headers is cut
 * off at the deadline (ollama-js can only abort a stream after its headers arrive).
 */
export class OllamaEngine {
  constructor(readonly options: OllamaEngineOptions) {}

  async chat(request: VisionChatRequest): Promise<VisionChatResult> {
    return inSpan(
      `chat ${request.model}`,
      {
        kind: SpanKind.CLIENT,
        attributes: {
          'gen_ai.operation.name': 'chat',
          'gen_ai.provider.name': 'ollama',
          'gen_ai.request.model': request.model,
          'server.address': new URL(this.options.host).hostname,
        },
      },
      async (span) => {
        const result = await this.streamChat(request);
        span.setAttributes({
          'gen_ai.response.model': result.model,
          'gen_ai.usage.input_tokens': result.usage.inputTokens,
          'gen_ai.usage.output_tokens': result.usage.outputTokens,
        });
        return result;
      },
    );
  }

  private async streamChat(request: VisionChatRequest): Promise<VisionChatResult> {
    const client = this.client(request.signal);
    try {
      const stream = await client.chat({
        model: request.model,
        stream: true,
        format: request.format,
        keep_alive: this.options.keepAlive,
        options: { temperature: 0, ...(this.options.numCtx ? { num_ctx: this.options.numCtx } : {}) },
        messages: [
          { role: 'system', content: request.system },
          { role: 'user', content: request.prompt, images: [request.imageBase64] },
          ...(request.repair
            ? [
                { role: 'assistant', content: request.repair.previousAnswer },
                {
                  role: 'user',
                  content:
                    `That answer does not match the required schema (${request.repair.problem}). ` +
                    `Answer again with only JSON that matches this schema exactly: ${JSON.stringify(request.format)}`,
                },
              ]
            : []),
        ],
      });
      const abortStream = () => {
        stream.abort();
      };
      request.signal.addEventListener('abort', abortStream, { once: true });
      let content = '';
      let final: ChatResponse | undefined;
      try {
        for await (const part of stream) {
          content += part.message.content;
          if (part.done) final = part;
        }
      } finally {
        request.signal.removeEventListener('abort', abortStream);
      }
      if (!final)
        throw new ArgusError(
          'MODEL_UNAVAILABLE',
          `Ollama ended the stream for ${request.model} without a final message`,
        );
      return {
        content,
        model: final.model || request.model,
        usage: { inputTokens: final.prompt_eval_count || 0, outputTokens: final.eval_count || 0 },
        seconds: {
          total: (final.total_duration || 0) / NS_PER_SECOND,
          load: (final.load_duration || 0) / NS_PER_SECOND,
          prompt: (final.prompt_eval_duration || 0) / NS_PER_SECOND,
          eval: (final.eval_duration || 0) / NS_PER_SECOND,
        },
      };
    } catch (error) {
      throw this.toArgusError(error, request);
    }
  }

  /** Present and able to see images: /api/tags for the model, /api/show for the `vision` capability. */
  async modelStatus(model: string, signal: AbortSignal = AbortSignal.timeout(3_000)): Promise<ModelStatus> {
    const client = this.client(signal);
    try {
      const { models } = await client.list();
      if (!models.some((entry) => entry.name === model || entry.model === model)) {
        return {
          status: 'missing',
          ok: false,
          detail: `model ${model} is not pulled on ${this.options.host} (ollama pull ${model})`,
        };
      }
      const shown = await client.show({ model });
      const capabilities = (shown as { capabilities?: string[] }).capabilities ?? [];
      if (!capabilities.includes('vision')) {
        return {
          status: 'no-vision',
          ok: false,
          detail: `model ${model} on ${this.options.host} has no vision capability`,
        };
      }
      return { status: 'ready', ok: true, detail: `${model} ready on ${this.options.host}` };
    } catch (error) {
      return {
        status: 'unreachable',
        ok: false,
        detail: `Ollama unreachable at ${this.options.host}: ${describe(error)}`,
      };
    }
  }

  /** Models loaded right now and the VRAM each holds, from /api/ps. */
  async loadedModels(
    signal: AbortSignal = AbortSignal.timeout(3_000),
  ): Promise<Array<{ model: string; sizeVram: number }>> {
    const { models } = await this.client(signal).ps();
    return models.map((entry) => ({ model: entry.name, sizeVram: entry.size_vram }));
  }

  /** Pulls a model, reporting progress now and then; used at boot with ARGUS_PULL_MODELS=true. */
  async pull(model: string, onProgress: (line: string) => void, signal: AbortSignal): Promise<void> {
    const stream = await this.client(signal).pull({ model, stream: true });
    let lastReported = 0;
    for await (const part of stream) {
      const percent = part.total ? Math.floor((100 * (part.completed || 0)) / part.total) : undefined;
      if (percent === undefined || percent >= lastReported + 10 || part.status === 'success') {
        onProgress(percent === undefined ? part.status : `${part.status} ${percent}%`);
        lastReported = percent ?? lastReported;
      }
    }
  }

  private client(signal: AbortSignal): Ollama {
    return new Ollama({
      host: this.options.host,
      fetch: (input, init) =>
        fetch(input, {
          ...init,
          // The JSON carries the image as base64 (~100 KB–1 MB). As a string, undici scans it for lone surrogates
          // (toUSVString: 6.9% of a busy worker's CPU in a profile); as UTF-8 bytes it is sent as is.
          ...(typeof init?.body === 'string' ? { body: Buffer.from(init.body) } : {}),
          signal: init?.signal ? AbortSignal.any([init.signal, signal]) : signal,
        }),
    });
  }

  private toArgusError(error: unknown, request: VisionChatRequest): ArgusError {
    if (error instanceof ArgusError) return error;
    const { model } = request;
    if (request.signal.aborted) {
      return new ArgusError('INFERENCE_TIMEOUT', `${model} did not answer before the deadline`);
    }
    const status = (error as { status_code?: unknown }).status_code;
    const message = describe(error);
    if (typeof status === 'number') {
      if (status === 503 || status === 429)
        return new ArgusError('UPSTREAM_BUSY', `Ollama is busy: ${message}`, { cause: 'busy' });
      if (status === 404) {
        return new ArgusError('MODEL_UNAVAILABLE', `model ${model} is not available: ${message}`, {
          cause: 'missing',
        });
      }
      if (status === 400) {
        return new ArgusError('MODEL_UNAVAILABLE', `model ${model} rejected the request: ${message}`, {
          cause: 'missing',
        });
      }
      return new ArgusError('MODEL_UNAVAILABLE', `Ollama failed with HTTP ${status}: ${message}`, {
        cause: 'server_error',
      });
    }
    // By name, not instanceof: fetch's TypeError can come from another realm (jest's VM sandbox, for one).
    if ((error as Error | undefined)?.name === 'TypeError' || message.includes('fetch failed')) {
      return new ArgusError('MODEL_UNAVAILABLE', `Ollama unreachable at ${this.options.host}: ${message}`, {
        cause: 'unreachable',
      });
    }
    return new ArgusError('MODEL_UNAVAILABLE', `Ollama failed during ${model}: ${message}`, {
      cause: 'server_error',
    });
  }
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = (error as { cause?: unknown }).cause;
  const causeCode =
    typeof cause === 'object' && cause !== null ? (cause as { code?: unknown }).code : undefined;
  return typeof causeCode === 'string' ? `${error.message} (${causeCode})` : error.message;
}
