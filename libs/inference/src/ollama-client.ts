import type { Agent } from 'node:http';
import { Ollama, type ChatResponse } from 'ollama';
import { ArgusError } from '@argus/contracts';
import { inSpan, SpanKind } from '@argus/telemetry';
import {
  chatBodyWithImage,
  keepAliveAgent,
  ndjsonLines,
  OllamaUnreachableError,
  postForStream,
} from './ollama-wire';

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
  /** The model's input, JPEG or PNG bytes; sent as the base64 Ollama takes. */
  image: Uint8Array;
  format: Record<string, unknown>;
  signal: AbortSignal;
  /**
   * Ollama's `num_predict`: the answer is stopped after this many tokens with done_reason `length`. A per-request
   * option, not a runner one: it never reloads the model (server/sched.go needsReload compares only api.Runner).
   */
  numPredict: number;
  /** Sent as `think` (default false): thinking-capable models think unless told not to. */
  think?: boolean;
  /**
   * A second try. After an answer that broke the schema the model sees its answer and what was wrong; after one cut
   * off at `numPredict` (`truncated`) it is told so and asked for a shorter answer, without the cut-off text.
   */
  repair?: { previousAnswer: string; problem: string; truncated?: boolean };
}

export interface VisionChatResult {
  /** The answer: `message.content` only, never the thinking (`message.thinking`), which is dropped. */
  content: string;
  /** `stop` when the model finished, `length` when num_predict cut it off (then `content` is incomplete). */
  doneReason: string;
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
const USER_AGENT = `argus/${process.env.npm_package_version ?? '0.1.0'} (node ${process.version})`;

/** The fields of a streamed /api/chat line that Argus reads (api/types.go ChatResponse). */
type StreamedChatPart = Partial<
  Pick<
    ChatResponse,
    | 'done'
    | 'done_reason'
    | 'model'
    | 'prompt_eval_count'
    | 'eval_count'
    | 'total_duration'
    | 'load_duration'
    | 'prompt_eval_duration'
    | 'eval_duration'
  >
> & { message?: { content?: string; thinking?: string } };

/**
 * The one adapter around Ollama. Chats, the hot path, are streamed over node:http (see ollama-wire.ts): the image is
 * written into the body as base64 bytes without ever being one large string, and the caller's AbortSignal covers the
 * whole call, so even a server that never sends headers is cut off at the deadline, however long that is. The rest
 * (tags, show, ps, pull) goes through ollama-js, whose fetch carries the same signal.
 */
export class OllamaClient {
  private readonly chatUrl: URL;
  private readonly agent: Agent;

  constructor(readonly options: OllamaEngineOptions) {
    this.chatUrl = new URL('/api/chat', options.host);
    this.agent = keepAliveAgent(this.chatUrl);
  }

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
        const { thinkingChars, ...result } = await this.streamChat(request);
        span.setAttributes({
          'gen_ai.response.model': result.model,
          'gen_ai.response.finish_reasons': [result.doneReason],
          'gen_ai.usage.input_tokens': result.usage.inputTokens,
          'gen_ai.usage.output_tokens': result.usage.outputTokens,
          'gen_ai.request.max_tokens': request.numPredict,
          // How much the model thought, never what: the text is not kept.
          'argus.thinking_chars': thinkingChars,
        });
        return result;
      },
    );
  }

  private async streamChat(
    request: VisionChatRequest,
  ): Promise<VisionChatResult & { thinkingChars: number }> {
    const body = chatBodyWithImage(
      {
        model: request.model,
        stream: true,
        format: request.format,
        think: request.think ?? false,
        keep_alive: keepAliveParam(this.options.keepAlive),
        options: {
          temperature: 0,
          num_predict: request.numPredict,
          ...(this.options.numCtx ? { num_ctx: this.options.numCtx } : {}),
        },
      },
      [
        { role: 'system', content: request.system },
        { role: 'user', content: request.prompt },
        ...repairMessages(request),
      ],
      1,
      request.image,
    );
    try {
      const response = await postForStream(this.chatUrl, body, {
        agent: this.agent,
        signal: request.signal,
        userAgent: USER_AGENT,
      });
      let content = '';
      let thinkingChars = 0;
      let final: StreamedChatPart | undefined;
      for await (const line of ndjsonLines(response)) {
        // Ollama reports a failure after the headers as a line of its own (server/routes.go streamResponse).
        if (typeof line.error === 'string') throw new Error(line.error);
        const part = line as StreamedChatPart;
        // Thinking arrives in its own field and is never part of the answer that gets parsed.
        content += part.message?.content ?? '';
        thinkingChars += part.message?.thinking?.length ?? 0;
        // Read on to the end of the stream rather than stop here, so the connection goes back to the agent.
        if (part.done) final = part;
      }
      if (!final)
        throw new ArgusError(
          'MODEL_UNAVAILABLE',
          `Ollama ended the stream for ${request.model} without a final message`,
        );
      return {
        content,
        doneReason: final.done_reason || 'stop',
        thinkingChars,
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
      const wanted = withDefaultTag(model);
      if (
        !models.some(
          (entry) => withDefaultTag(entry.name) === wanted || withDefaultTag(entry.model) === wanted,
        )
      ) {
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
        fetch(input, { ...init, signal: init?.signal ? AbortSignal.any([init.signal, signal]) : signal }),
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
      // Chats do not follow redirects (Ollama never sends one); a proxy that does is named as the reason.
      const hint =
        status >= 300 && status < 400
          ? `; ${this.options.host} redirects, so point the tier's URL at where it redirects to`
          : '';
      return new ArgusError('MODEL_UNAVAILABLE', `Ollama failed with HTTP ${status}: ${message}${hint}`, {
        cause: 'server_error',
      });
    }
    // By name, not instanceof: fetch's TypeError can come from another realm (jest's VM sandbox, for one).
    if (
      error instanceof OllamaUnreachableError ||
      (error as Error | undefined)?.name === 'TypeError' ||
      message.includes('fetch failed')
    ) {
      return new ArgusError('MODEL_UNAVAILABLE', `Ollama unreachable at ${this.options.host}: ${message}`, {
        cause: 'unreachable',
      });
    }
    return new ArgusError('MODEL_UNAVAILABLE', `Ollama failed during ${model}: ${message}`, {
      cause: 'server_error',
    });
  }
}

/** The turns of a repair call after the first answer; none for a first call. */
function repairMessages(request: VisionChatRequest): Array<{ role: string; content: string }> {
  const { repair, format, numPredict } = request;
  if (!repair) return [];
  const schema = JSON.stringify(format);
  if (repair.truncated) {
    // The cut-off text is left out: it is the longest thing in the context and a looping answer would prime the loop.
    return [
      {
        role: 'user',
        content:
          `Your previous answer was cut off at the limit of ${numPredict} tokens before its JSON was complete. ` +
          'Answer again with the same JSON, but shorter: fewer items and shorter strings, so that the whole ' +
          `answer fits well within ${numPredict} tokens. Answer with only JSON that matches this schema: ${schema}`,
      },
    ];
  }
  return [
    { role: 'assistant', content: repair.previousAnswer },
    {
      role: 'user',
      content:
        `That answer does not match the required schema (${repair.problem}). ` +
        `Answer again with only JSON that matches this schema exactly: ${schema}`,
    },
  ];
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = (error as { cause?: unknown }).cause;
  const causeCode =
    typeof cause === 'object' && cause !== null ? (cause as { code?: unknown }).code : undefined;
  return typeof causeCode === 'string' ? `${error.message} (${causeCode})` : error.message;
}

/**
 * A name without a tag means `:latest` to Ollama (the registry's default tag; `ParseName` in types/model/name.go), so
 * a catalog entry `llava` is the `llava:latest` that /api/tags lists. A `:` inside a host (`host:5000/m`) is no tag.
 */
export function withDefaultTag(name: string): string {
  const lastSegment = name.slice(name.lastIndexOf('/') + 1);
  return lastSegment.includes(':') ? name : `${name}:latest`;
}

/**
 * keep_alive as Ollama parses it (api/types.go, Duration.UnmarshalJSON): a number is seconds (negative: forever), a
 * string must be a Go duration with a unit. The catalog's "-1" and "0" are therefore sent as numbers, or Ollama
 * would answer 400 `time: missing unit in duration`.
 */
export function keepAliveParam(keepAlive: string): string | number {
  return /^-?\d+$/.test(keepAlive) ? Number(keepAlive) : keepAlive;
}
