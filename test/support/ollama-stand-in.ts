/**
 * An Ollama HTTP server for integration and e2e tests, derived from Ollama's own source (the 0.12.x line).
 *
 * Every behaviour below follows a named function of github.com/ollama/ollama; docs/ollama-compat.md lists them with
 * the spec test that pins each one. The files read: server/routes.go (ChatHandler, ShowHandler, PullHandler,
 * PsHandler, handleScheduleError, streamResponse, waitForStream), server/sched.go (GetRunner, processPending,
 * useLoadedRunner, load, needsReload, findRunnerToUnload, ErrMaxQueue), server/prompt.go (chatPrompt),
 * server/images.go (PullModel), llm/server.go (Completion, getServerStatus), runner/ollamarunner/runner.go (inputs,
 * load), api/types.go (Duration.UnmarshalJSON), envconfig/config.go (OLLAMA_NUM_PARALLEL 1, OLLAMA_MAX_QUEUE 512),
 * model/models/{qwen25vl,qwen3vl,gemma3,mllama} (image processors and PostTokenize), and llama.cpp's
 * common/json-schema-to-grammar.cpp as vendored by Ollama.
 *
 * It speaks the subset of the REST API that Argus uses (chat, tags, show, ps, pull, version, the root probe) with the
 * real shapes, status codes and error bodies, so the production adapter and the official `ollama` client run against
 * it unchanged. Tests script per-request behaviour (errors, delays, hangs, broken streams, bad content), emulate a GPU
 * (parallel slots per loaded model, model loads, the scheduler's pending-load queue), can ask for the answers a real
 * model gives (`output: 'realistic'`), and assert on what arrived (model, schema, image size and the size and tokens
 * the model family would actually use, traceparent).
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { ImageProcessor } from '@argus/imaging';
import { exampleFromJsonSchema } from './json-schema-example';

export interface StandInModel {
  /** e.g. `qwen2.5vl:7b`; a name without a tag means `:latest`, as in Ollama. */
  name: string;
  /** Default `['completion', 'vision']`; add `thinking` for a model that thinks (qwen3-vl). */
  capabilities?: string[];
  /** Bytes of VRAM the loaded model reports in `/api/ps`. */
  sizeVram?: number;
  /** Bytes on disk reported by `/api/tags`; defaults to sizeVram. */
  size?: number;
  /**
   * The architecture (`general.architecture`), which picks the image processor and whether the scheduler allows
   * parallel requests. Default derived from the name: `qwen2.5vl` → `qwen25vl`, `qwen3-vl` → `qwen3vl` (`qwen3vlmoe`
   * for the 30b/235b MoE tags), `llama3.2-vision` → `mllama`, `gemma3` → `gemma3`, otherwise the name without
   * punctuation.
   */
  family?: string;
  parameterSize?: string;
  quantizationLevel?: string;
  /** The model's default context when a request sets no `num_ctx`. */
  contextLength?: number;
}

/**
 * A GPU behind Ollama, as server/sched.go and llm/server.go schedule it. A chat for a model that is loaded (and needs
 * no reload) is never refused: GetRunner hands it the runner at once and Completion waits on the runner's semaphore of
 * `slots` without limit. Only requests that need a load go through the scheduler's pending queue, which holds
 * `maxQueue` requests; one more is answered 503 ErrMaxQueue.
 */
export interface GpuEmulation {
  /** OLLAMA_NUM_PARALLEL: completions one loaded model runs at once. mllama, qwen3vl and qwen3vlmoe get 1 whatever this says. */
  slots: number;
  /** How long each chat holds its slot before the answer starts. */
  serviceTimeMs: number;
  /** OLLAMA_MAX_QUEUE: requests that may wait for the scheduler (to load or reload a model). Default 512. */
  maxQueue?: number;
  /** How long a model load takes (weights to VRAM), for first use, after expiry and for a num_ctx reload. Default 0. */
  loadTimeMs?: number;
  /**
   * OLLAMA_MAX_LOADED_MODELS: a load beyond this many loaded models evicts one first, and the scheduler waits until
   * the victim's requests are done. Default 0: no limit (as if every model fits in VRAM).
   */
  maxLoadedModels?: number;
}

/**
 * `perfect`: the answer is the smallest JSON the schema accepts, compact, with no thinking. `realistic`: what a local
 * vision model sends through Ollama's grammar: 0..1 numbers written as percents, pretty-printed JSON with a trailing
 * newline, and thinking first (in `message.thinking`) for models with the `thinking` capability.
 */
export type OutputMode = 'perfect' | 'realistic';

export interface StandInOptions {
  models?: StandInModel[];
  gpu?: GpuEmulation;
  /** Reported by `/api/version`; default `0.12.0`. */
  version?: string;
  /**
   * Fail images the way the runner does: 500 when an image is valid base64 but not a format Go's image package decodes,
   * and 500 when a qwen-VL image is smaller than the model's patch factor (SmartResize panics). Default true; turn it
   * off only for tests that deliberately send placeholder bytes.
   */
  strictImages?: boolean;
  /** Models `/api/pull` can fetch, as if from a registry; pulling adds them to the local models. */
  registry?: StandInModel[];
  /** Default output mode; a script's `output` overrides it per request. Default `perfect`. */
  output?: OutputMode;
}

export interface RecordedImage {
  /** Decoded byte length. */
  bytes: number;
  width: number;
  height: number;
  /**
   * Format name from ImageProcessor.probe (`jpeg`, `png`, `webp`, ...); `unknown` if undecodable, `invalid-base64` if
   * the string was not base64.
   */
  format: string;
  /** The size the model family resizes the image to before its vision encoder (0 when the model ignores images). */
  modelWidth: number;
  modelHeight: number;
  /** Prompt tokens the image costs in `prompt_eval_count` (0 when the model ignores images). */
  tokens: number;
  /** mllama only: the 560-px tiles the image is cut into (at most 4). */
  tiles?: number;
}

export interface RecordedRequest {
  kind: 'http' | 'chat';
  method: string;
  /** Path without the query string. */
  path: string;
  /** Lowercased names; repeated headers joined with `, `. */
  headers: Record<string, string>;
  /** Parsed JSON body, the raw text if it was not JSON, or undefined if empty. */
  body: unknown;
  receivedAt: Date;
}

export interface ChatMessage {
  role: string;
  content: string;
  images?: string[];
  [field: string]: unknown;
}

export interface RecordedChat extends RecordedRequest {
  kind: 'chat';
  model: string;
  messages: ChatMessage[];
  /** `'json'`, a JSON schema object, or undefined. */
  format: unknown;
  /** Effective value: Ollama streams unless told `stream: false`. */
  stream: boolean;
  options: Record<string, unknown> | undefined;
  keepAlive: string | number | undefined;
  /** The request's `think` as sent (undefined when absent). */
  think: unknown;
  /** Text of the last user message. */
  prompt: string;
  /** Every image of every message, in order. */
  images: RecordedImage[];
}

/**
 * Per-request behaviour. Fields combine: e.g. `{ delayMs, content }` answers late with fixed content,
 * `{ chunkDelayMs, content }` streams it slowly. An error (`status` and/or `error`) wins over content.
 */
export interface ChatScript {
  /** Exact assistant content (before the `realistic` shaping and the num_predict cut). */
  content?: string;
  /** Thinking text, streamed first in `message.thinking` when the model has the `thinking` capability and think is not false. */
  thinking?: string;
  /** Output mode for this request. */
  output?: OutputMode;
  /** Answer this HTTP status with `{"error": error}` (status defaults to 500, error to a status-specific text). */
  status?: number;
  error?: string;
  /** Wait this long before sending headers (time to first byte). */
  delayMs?: number;
  /** Never answer; the request ends only when the client aborts or the stand-in stops. Holds its GPU slot. */
  hang?: boolean;
  /** 200, one content chunk, then an NDJSON `{"error": ...}` line and end. Non-streamed chats get a 500 instead. */
  midStreamError?: string;
  /** Pause between streamed lines. */
  chunkDelayMs?: number;
  /** Number of content chunks when streaming (default up to 4). */
  chunks?: number;
  /** Content that is not JSON, as a model that ignored the format would produce. */
  malformed?: boolean;
  /** Force the `done_reason` of the final message (normally `stop`, or `length` when num_predict cut the answer). */
  doneReason?: string;
  promptEvalCount?: number;
  evalCount?: number;
  totalDurationNs?: number;
  loadDurationNs?: number;
  promptEvalDurationNs?: number;
  evalDurationNs?: number;
}

export type ChatScriptFn = (request: RecordedChat) => ChatScript | undefined;

export interface StandInStats {
  /** Chats holding a slot now. */
  inFlight: number;
  /** Chats waiting on a loaded model's slot semaphore now (never refused, as in llm/server.go Completion). */
  queued: number;
  /** Requests waiting in the scheduler's pending queue for a model load (OLLAMA_MAX_QUEUE bounds these). */
  pendingLoads: number;
  /** Highest number of chats that held a slot at the same time. */
  maxConcurrent: number;
  /** Highest number of chats waiting on a slot semaphore at the same time: work queued inside "Ollama". */
  maxQueued: number;
  /** Highest number of chats inside "Ollama" at the same time, holding a slot or waiting for one. */
  maxInFlight: number;
  /** Chats refused with 503 because the pending-load queue was full. */
  rejected: number;
  /** Chats that were answered 200 to the end. */
  completed: number;
  /** Model loads (first use, after unload or expiry, or a num_ctx change), by model name. */
  loads: Record<string, number>;
}

export const DEFAULT_MODEL = 'qwen2.5vl:7b';
export const DEFAULT_TEXT_ANSWER = 'stand-in answer';
export const DEFAULT_THINKING =
  'The user wants a JSON answer about this image. Let me look at it carefully: the main subject, the colours, ' +
  'any text, and anything that could be a problem. I think I have enough to answer now.';
export const MALFORMED_CONTENT =
  'Sure! Here is what I see in the image: {"decision": allow, "reason": "looks fine"';
/** server/sched.go ErrMaxQueue (two spaces after the full stop, as in the source). */
export const BUSY_ERROR = 'server busy, please try again.  maximum pending requests exceeded';
/** llm/server.go Completion, when the runner drops the connection (a panic in the runner's handler, for one). */
export const RUNNER_STOPPED_ERROR =
  'model runner has unexpectedly stopped, this may be due to resource limitations or an internal error, check ollama server logs for details';

/** Scripts the next chats in order, then falls back to the default behaviour. */
export function scriptSequence(...steps: (ChatScript | undefined)[]): ChatScriptFn {
  let next = 0;
  return () => (next < steps.length ? steps[next++] : undefined);
}

export function isRecordedChat(request: RecordedRequest): request is RecordedChat {
  return request.kind === 'chat';
}

const DEFAULT_CAPABILITIES = ['completion', 'vision'];
const DEFAULT_SIZE = 6_000_000_000;
// envconfig/config.go ContextLength (4096 in 0.12).
const DEFAULT_CONTEXT = 4096;
// envconfig/config.go KeepAlive: 5 minutes.
const DEFAULT_KEEP_ALIVE_MS = 5 * 60_000;
// envconfig/config.go MaxQueue.
const DEFAULT_MAX_QUEUE = 512;
// Year 2318 is what Ollama reports for keep_alive < 0 (time.Duration(math.MaxInt64) from now).
const FOREVER = new Date('2318-01-01T00:00:00Z');
// Images are small in tests; the cap only stops a runaway client from exhausting memory.
const MAX_BODY_BYTES = 256 * 1024 * 1024;
// The stand-in's token estimate for text (prompt and answer): 1 token ≈ 4 characters. Real tokenizers vary (≈3–5).
const CHARS_PER_TOKEN = 4;
// Models of unknown families: one token per 28×28 patch, input capped near 2 MP (the pre-family estimate).
const PIXELS_PER_IMAGE_TOKEN = 784;
const MAX_IMAGE_PIXELS = 2_000_000;
// server/sched.go load(): architectures whose encoder cache cannot serve num_parallel > 1.
const SINGLE_SLOT_FAMILIES = ['mllama', 'qwen3vl', 'qwen3vlmoe'];
// Go's image.Decode with the decoders Ollama registers (image/jpeg, image/png, gif, x/image webp, bmp, tiff).
const GO_DECODABLE = new Set(['jpeg', 'png', 'gif', 'webp', 'bmp', 'tiff']);
// Synthetic speeds for reported durations: fast prompt processing, slower generation, like a mid-range GPU.
const PROMPT_NS_PER_TOKEN = 250_000;
const EVAL_NS_PER_TOKEN = 20_000_000;
const LOAD_NS_COLD = 2_500_000_000;
const LOAD_NS_WARM = 30_000_000;

interface ResolvedModel {
  name: string;
  capabilities: string[];
  size: number;
  sizeVram: number;
  family: string;
  parameterSize: string;
  quantizationLevel: string;
  contextLength: number;
  digest: string;
  modifiedAt: Date;
}

interface Waiter {
  grant: () => void;
}

/** A loaded model (server/sched.go runnerRef) with its slot semaphore (llm/server.go llmServer.sem). */
interface Runner {
  model: ResolvedModel;
  numCtx: number;
  slots: number;
  active: number;
  waiters: Waiter[];
  /** Requests holding the runner (scheduled and not finished); it cannot be unloaded while > 0. */
  refCount: number;
  /** keep_alive of the latest request; 0 unloads when idle, < 0 never expires. */
  sessionMs: number;
  /** When an idle runner expires; undefined while requests hold it. */
  expiresAt: Date | undefined;
  ready: Promise<void>;
  unloaded: boolean;
  idleWaiters: (() => void)[];
}

interface PendingLoad {
  model: ResolvedModel;
  numCtx: number;
  keepAliveMs: number | undefined;
  signal: AbortSignal;
  resolve: (outcome: Runner | 'aborted') => void;
}

type Admission = { runner: Runner; cold: boolean } | 'busy' | 'aborted';

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export class OllamaStandIn {
  readonly requests: RecordedRequest[] = [];
  readonly url: string;

  private models = new Map<string, ResolvedModel>();
  private readonly runners = new Map<string, Runner>();
  private readonly loads = new Map<string, number>();
  private readonly sockets = new Set<Socket>();
  private readonly pending: PendingLoad[] = [];
  private schedulerBusy = false;
  private scriptFn: ChatScriptFn | undefined;
  private active = 0;
  private maxActive = 0;
  private waiting = 0;
  private maxWaiting = 0;
  private maxInside = 0;
  private rejectedCount = 0;
  private completedCount = 0;
  private stopping: Promise<void> | undefined;

  private constructor(
    private readonly server: Server,
    private readonly options: StandInOptions,
  ) {
    const { port } = server.address() as AddressInfo;
    this.url = `http://127.0.0.1:${port}`;
    this.setModels(options.models ?? [{ name: DEFAULT_MODEL }]);
  }

  static async start(options: StandInOptions = {}): Promise<OllamaStandIn> {
    if (options.gpu) {
      const { slots, serviceTimeMs, maxQueue = 0, loadTimeMs = 0, maxLoadedModels = 0 } = options.gpu;
      if (
        !(slots >= 1) ||
        !(serviceTimeMs >= 0) ||
        !(maxQueue >= 0) ||
        !(loadTimeMs >= 0) ||
        !(maxLoadedModels >= 0)
      ) {
        throw new Error(
          'OllamaStandIn: gpu needs slots >= 1 and serviceTimeMs, maxQueue, loadTimeMs, maxLoadedModels >= 0',
        );
      }
    }
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    const standIn = new OllamaStandIn(server, options);
    server.on('connection', (socket) => {
      standIn.sockets.add(socket);
      socket.once('close', () => standIn.sockets.delete(socket));
    });
    server.on('request', (req, res) => {
      standIn.handle(req, res).catch((error: unknown) => {
        standIn.fail(res, error);
      });
    });
    return standIn;
  }

  /** Closes the server and destroys open sockets, so hung and streaming requests end on the client side too. */
  async stop(): Promise<void> {
    this.stopping ??= new Promise<void>((resolve) => {
      this.server.close(() => {
        resolve();
      });
      for (const socket of this.sockets) socket.destroy();
      this.server.closeAllConnections();
    });
    return this.stopping;
  }

  /** Sets the behaviour of the following chats; `undefined` restores the default answers. */
  script(fn: ChatScriptFn | undefined): void {
    this.scriptFn = fn;
  }

  /** Forgets recorded requests, the script, counters and loaded models. In-flight chats carry on. */
  reset(): void {
    this.requests.length = 0;
    this.scriptFn = undefined;
    this.maxActive = this.active;
    this.maxWaiting = this.waiting;
    this.maxInside = this.active + this.waiting;
    this.rejectedCount = 0;
    this.completedCount = 0;
    for (const runner of this.runners.values()) runner.unloaded = true;
    this.runners.clear();
    this.loads.clear();
  }

  /** Replaces the pulled models (e.g. to emulate `ollama rm` or a pull during a test). */
  setModels(models: StandInModel[]): void {
    this.models = new Map(models.map((m) => [normaliseName(m.name), resolveModel(m)]));
    for (const [name, runner] of this.runners) {
      if (!this.models.has(name)) {
        runner.unloaded = true;
        this.runners.delete(name);
      }
    }
  }

  get chats(): RecordedChat[] {
    return this.requests.filter(isRecordedChat);
  }

  get maxConcurrent(): number {
    return this.maxActive;
  }

  get rejected(): number {
    return this.rejectedCount;
  }

  get stats(): StandInStats {
    let queued = 0;
    for (const runner of this.runners.values()) queued += runner.waiters.length;
    return {
      inFlight: this.active,
      queued,
      pendingLoads: this.pending.length,
      maxConcurrent: this.maxActive,
      maxQueued: this.maxWaiting,
      maxInFlight: this.maxInside,
      rejected: this.rejectedCount,
      completed: this.completedCount,
      loads: Object.fromEntries(this.loads),
    };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const receivedAt = new Date();
    // Registered before any await so a client that gives up early is never missed.
    const abort = new AbortController();
    res.once('close', () => {
      if (!res.writableFinished) abort.abort();
    });
    const path = new URL(req.url ?? '/', 'http://stand-in').pathname;
    const method = req.method ?? 'GET';
    const raw = await readBody(req);
    const base: RecordedRequest = {
      kind: 'http',
      method,
      path,
      headers: flattenHeaders(req),
      body: parseLoosely(raw),
      receivedAt,
    };

    type Handler = () => Promise<void> | void;
    const routes: Record<string, Partial<Record<string, Handler>> | undefined> = {
      '/': {
        GET: () => {
          this.root(res, method);
        },
      },
      '/api/version': {
        GET: () => {
          this.version(res);
        },
      },
      '/api/tags': {
        GET: () => {
          this.tags(res);
        },
      },
      '/api/ps': {
        GET: () => {
          this.ps(res);
        },
      },
      '/api/show': {
        POST: () => {
          this.show(res, raw);
        },
      },
      '/api/chat': { POST: () => this.chat(res, base, raw, abort.signal) },
      '/api/pull': {
        POST: () => {
          this.pull(res, raw);
        },
      },
    };
    const route = routes[path];
    const handler = route?.[method] ?? (method === 'HEAD' ? route?.GET : undefined);
    // The chat handler records itself, with the parsed chat fields.
    if (path !== '/api/chat' || handler === undefined) this.requests.push(base);
    if (route === undefined) {
      sendText(res, 404, '404 page not found');
      return;
    }
    if (handler === undefined) {
      sendText(res, 405, '405 method not allowed');
      return;
    }
    await handler();
  }

  private fail(res: ServerResponse, error: unknown): void {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (error instanceof HttpError) {
      sendJson(res, error.status, { error: error.message });
      return;
    }
    const message = error instanceof Error ? error.message : String(error);
    sendJson(res, 500, { error: `stand-in: ${message}` });
  }

  private root(res: ServerResponse, method: string): void {
    res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': 17 });
    res.end(method === 'HEAD' ? undefined : 'Ollama is running');
  }

  private version(res: ServerResponse): void {
    sendJson(res, 200, { version: this.options.version ?? '0.12.0' });
  }

  private tags(res: ServerResponse): void {
    sendJson(res, 200, {
      models: [...this.models.values()].map((m) => ({
        name: m.name,
        model: m.name,
        modified_at: m.modifiedAt.toISOString(),
        size: m.size,
        digest: m.digest,
        details: details(m),
      })),
    });
  }

  /** server/routes.go PsHandler: loaded runners, longest remaining keep-alive first. */
  private ps(res: ServerResponse): void {
    const models: { expires: number; entry: unknown }[] = [];
    for (const runner of this.liveRunners()) {
      const m = runner.model;
      // A busy runner has no expiry timer yet; Ollama then shows now + its session duration.
      const expiresAt = runner.expiresAt ?? expiryFrom(Date.now(), runner.sessionMs);
      models.push({
        expires: expiresAt.getTime(),
        entry: {
          name: m.name,
          model: m.name,
          size: m.sizeVram,
          digest: m.digest,
          details: details(m),
          expires_at: expiresAt.toISOString(),
          size_vram: m.sizeVram,
          context_length: runner.numCtx,
        },
      });
    }
    models.sort((a, b) => b.expires - a.expires);
    sendJson(res, 200, { models: models.map((m) => m.entry) });
  }

  /**
   * server/routes.go PullHandler + server/images.go PullModel: "pulling manifest" is streamed first, so a model the
   * registry does not have (pullModelManifest → os.ErrNotExist) ends a 200 NDJSON stream with an error line; without
   * streaming, waitForStream answers 500.
   */
  private pull(res: ServerResponse, raw: string): void {
    const body = parseJsonObject(raw);
    const requested = typeof body.model === 'string' && body.model !== '' ? body.model : body.name;
    if (typeof requested !== 'string' || requested === '') throw new HttpError(400, 'invalid model name');
    const wanted = normaliseName(requested);
    const stream = body.stream !== false;
    const entry = (this.options.registry ?? []).find((candidate) => normaliseName(candidate.name) === wanted);
    if (entry === undefined) {
      const error = 'pull model manifest: file does not exist';
      if (stream) sendNdjson(res, [{ status: 'pulling manifest' }, { error }]);
      else sendJson(res, 500, { error });
      return;
    }
    const model = resolveModel(entry);
    const digest = `sha256:${model.digest}`;
    const total = model.size;
    const progress = [0, 0.25, 0.5, 0.75, 1].map((share) => ({
      status: `pulling ${model.digest.slice(0, 12)}`,
      digest,
      total,
      completed: Math.round(total * share),
    }));
    this.models.set(wanted, model);
    const lines = [
      { status: 'pulling manifest' },
      ...progress,
      { status: 'verifying sha256 digest' },
      { status: 'writing manifest' },
      { status: 'success' },
    ];
    if (stream) sendNdjson(res, lines);
    else sendJson(res, 200, { status: 'success' });
  }

  /** server/routes.go ShowHandler: 404 `model '<name>' not found` with the name as sent. */
  private show(res: ServerResponse, raw: string): void {
    const body = parseJsonObject(raw);
    // `name` is the pre-0.5 spelling that clients still send.
    const requested = typeof body.model === 'string' && body.model !== '' ? body.model : body.name;
    if (typeof requested !== 'string' || requested === '') throw new HttpError(400, 'model is required');
    const m = this.models.get(normaliseName(requested));
    if (m === undefined) throw new HttpError(404, notFound(requested));
    sendJson(res, 200, {
      license: '',
      modelfile: `# Modelfile generated by the Argus Ollama stand-in\nFROM ${m.name}\n`,
      parameters: '',
      template: '{{ .Prompt }}',
      details: details(m),
      model_info: {
        'general.architecture': m.family,
        'general.parameter_count': parameterCount(m.parameterSize),
        'general.file_type': 15,
        'general.quantization_version': 2,
        [`${m.family}.context_length`]: m.contextLength,
      },
      capabilities: m.capabilities,
      modified_at: m.modifiedAt.toISOString(),
    });
  }

  /** server/routes.go ChatHandler, in its order of checks. */
  private async chat(
    res: ServerResponse,
    base: RecordedRequest,
    raw: string,
    signal: AbortSignal,
  ): Promise<void> {
    let body: Record<string, unknown>;
    let messages: ChatMessage[];
    try {
      body = parseJsonObject(raw);
      messages = parseMessages(body.messages);
    } catch (error) {
      this.requests.push(base);
      throw error;
    }
    const rawImages = messages.flatMap((m) => m.images ?? []);
    const images = await Promise.all(rawImages.map(probeImage));
    const stream = body.stream !== false;
    const record: RecordedChat = {
      ...base,
      kind: 'chat',
      body,
      model: typeof body.model === 'string' ? body.model : '',
      messages,
      format: body.format,
      stream,
      options: isRecord(body.options) ? body.options : undefined,
      keepAlive:
        typeof body.keep_alive === 'string' || typeof body.keep_alive === 'number'
          ? body.keep_alive
          : undefined,
      think: body.think,
      prompt: messages.filter((m) => m.role === 'user').at(-1)?.content ?? '',
      images,
    };
    this.requests.push(record);

    // Request binding (ShouldBindJSON): images are []byte, so bad base64 fails here; keep_alive is api.Duration.
    const badBase64 = rawImages.map(base64Error).find((e) => e !== undefined);
    if (badBase64 !== undefined) throw new HttpError(400, badBase64);
    const keepAliveMs = parseKeepAlive(body.keep_alive);
    if (record.model === '') throw new HttpError(400, 'model is required');
    // GetModel → os.IsNotExist: the name as sent, in single quotes.
    const model = this.models.get(normaliseName(record.model));
    if (model === undefined) throw new HttpError(404, notFound(record.model));
    const vision = model.capabilities.includes('vision');
    if (vision) {
      for (const image of images) {
        const budget = imageBudget(model.family, image);
        image.modelWidth = budget.modelWidth;
        image.modelHeight = budget.modelHeight;
        image.tokens = budget.tokens;
        if (budget.tiles !== undefined) image.tiles = budget.tiles;
      }
    }

    // An empty conversation with keep_alive 0 unloads without scheduling (sched.expireRunner); the answer is plain JSON.
    if (messages.length === 0 && keepAliveMs === 0) {
      this.expireRunner(model.name);
      sendJson(res, 200, doneMessage(record.model, 'unload'));
      return;
    }
    // Thinking-capable models think unless told not to; asking a model without the capability is a 400.
    const thinkOn = record.think !== false && record.think !== undefined && record.think !== null;
    if (!model.capabilities.includes('thinking') && thinkOn) {
      throw new HttpError(400, `"${record.model}" does not support thinking`);
    }
    if (!model.capabilities.includes('completion')) {
      throw new HttpError(400, `"${record.model}" does not support chat`);
    }
    const thinking = model.capabilities.includes('thinking') && record.think !== false;

    let script: ChatScript = {};
    if (messages.length > 0) {
      try {
        script = this.scriptFn?.(record) ?? {};
      } catch (error) {
        throw new Error(`script threw: ${error instanceof Error ? error.message : String(error)}`);
      }
      if (script.status !== undefined || script.error !== undefined) {
        if (!(await sleep(script.delayMs ?? 0, signal))) return;
        const status = script.status ?? 500;
        sendJson(res, status, { error: script.error ?? defaultErrorText(status, record.model) });
        return;
      }
    }

    const numCtx = effectiveNumCtx(model, record.options);
    const admission = await this.getRunner(model, numCtx, keepAliveMs, signal);
    if (admission === 'busy') {
      // routes.go handleScheduleError: ErrMaxQueue → 503.
      this.rejectedCount++;
      sendJson(res, 503, { error: BUSY_ERROR });
      return;
    }
    if (admission === 'aborted') return;
    const { runner, cold } = admission;
    let holdsSlot = false;
    try {
      if (!(await Promise.race([runner.ready.then(() => true), aborted(signal).then(() => false)]))) return;
      const scheduledAt = Date.now();

      // An empty conversation loads the model (done_reason "load"), as plain JSON whatever `stream` says.
      if (messages.length === 0) {
        sendJson(res, 200, doneMessage(record.model, 'load'));
        return;
      }
      // server/prompt.go chatPrompt.
      if (model.family === 'mllama' && messages.some((m) => (m.images?.length ?? 0) > 1)) {
        throw new HttpError(500, 'this model only supports one image while more than one image requested');
      }
      // llm/server.go Completion validates the format after scheduling, so a bad format still loads the model.
      const formatError = invalidFormat(record.format);
      if (formatError !== undefined) throw new HttpError(500, formatError);

      holdsSlot = await this.acquireSlot(runner, signal);
      if (!holdsSlot) return;

      // The runner decodes images only for vision models (runner/ollamarunner/runner.go inputs); others ignore them.
      if (vision && this.options.strictImages !== false) {
        if (images.some((i) => i.format === 'unknown')) {
          throw new HttpError(
            500,
            'Failed to create new sequence: failed to process inputs: image: unknown format',
          );
        }
        // SmartResize panics on an image smaller than the patch factor; the runner drops the connection.
        if (images.some((i) => imageBudget(model.family, i).error !== undefined)) {
          throw new HttpError(500, RUNNER_STOPPED_ERROR);
        }
      }

      if (script.hang === true) {
        await aborted(signal);
        return;
      }
      const wait = (script.delayMs ?? 0) + (this.options.gpu?.serviceTimeMs ?? 0);
      if (!(await sleep(wait, signal))) return;

      const mode = script.output ?? this.options.output ?? 'perfect';
      const baseContent =
        script.content ?? (script.malformed === true ? MALFORMED_CONTENT : defaultContent(record.format));
      const content = mode === 'realistic' ? realisticContent(baseContent, record.format) : baseContent;
      const thought =
        thinking && (script.thinking !== undefined || mode === 'realistic')
          ? (script.thinking ?? DEFAULT_THINKING)
          : '';
      const generation = generate({
        content,
        thinking: thought,
        structured: isStructured(record.format),
        limit: numPredictLimit(record.options, runner.numCtx),
      });
      const loadNs =
        this.options.gpu?.loadTimeMs !== undefined
          ? (scheduledAt - record.receivedAt.getTime()) * 1_000_000
          : cold
            ? LOAD_NS_COLD
            : LOAD_NS_WARM;
      const final = finalFields(record, script, generation, loadNs);

      if (!stream) {
        if (script.midStreamError !== undefined) {
          sendJson(res, 500, { error: script.midStreamError });
          return;
        }
        sendJson(res, 200, {
          model: record.model,
          created_at: new Date().toISOString(),
          message: message(generation.content, generation.thinking),
          ...final,
        });
        this.completedCount++;
        return;
      }

      res.writeHead(200, { 'Content-Type': 'application/x-ndjson' });
      const line = (content: string, thinking = ''): string =>
        `${JSON.stringify({
          model: record.model,
          created_at: new Date().toISOString(),
          message: message(content, thinking),
          done: false,
        })}\n`;
      const chunkCount = script.midStreamError !== undefined ? 2 : (script.chunks ?? 4);
      const pieces = [
        ...splitContent(generation.thinking, chunkCount).map((piece) => line('', piece)),
        ...splitContent(generation.content, chunkCount).map((piece) => line(piece)),
      ];
      if (script.midStreamError !== undefined) {
        res.write(pieces[0] ?? line(''));
        if (!(await sleep(script.chunkDelayMs ?? 0, signal))) return;
        res.end(`${JSON.stringify({ error: script.midStreamError })}\n`);
        return;
      }
      for (const piece of pieces) {
        res.write(piece);
        if (!(await sleep(script.chunkDelayMs ?? 0, signal))) return;
      }
      res.end(
        `${JSON.stringify({
          model: record.model,
          created_at: new Date().toISOString(),
          message: message(''),
          ...final,
        })}\n`,
      );
      this.completedCount++;
    } finally {
      if (holdsSlot) this.releaseSlot(runner);
      this.releaseRunner(runner);
    }
  }

  /**
   * server/sched.go GetRunner: a loaded runner that needs no reload is used at once (useLoadedRunner), however busy;
   * anything else goes to the pending queue (a channel of OLLAMA_MAX_QUEUE), and a full queue is ErrMaxQueue at once.
   */
  private async getRunner(
    model: ResolvedModel,
    numCtx: number,
    keepAliveMs: number | undefined,
    signal: AbortSignal,
  ): Promise<Admission> {
    const existing = this.liveRunner(model.name);
    if (existing !== undefined && existing.numCtx === numCtx) {
      this.useRunner(existing, keepAliveMs);
      return { runner: existing, cold: false };
    }
    // An unbuffered send succeeds when processPending is ready to receive; otherwise the buffer must have room.
    const maxQueue = this.options.gpu?.maxQueue ?? DEFAULT_MAX_QUEUE;
    if (this.schedulerBusy && this.pending.length >= maxQueue) return 'busy';
    const outcome = await new Promise<Runner | 'aborted'>((resolve) => {
      this.pending.push({ model, numCtx, keepAliveMs, signal, resolve });
      void this.runScheduler();
    });
    if (outcome === 'aborted') return 'aborted';
    return { runner: outcome, cold: true };
  }

  /** server/sched.go processPending: one pending request at a time, FIFO. */
  private async runScheduler(): Promise<void> {
    if (this.schedulerBusy) return;
    this.schedulerBusy = true;
    try {
      for (let next = this.pending.shift(); next !== undefined; next = this.pending.shift()) {
        await this.schedule(next);
      }
    } finally {
      this.schedulerBusy = false;
    }
  }

  private async schedule(pending: PendingLoad): Promise<void> {
    const maxLoaded = this.options.gpu?.maxLoadedModels ?? 0;
    for (;;) {
      // "pending request cancelled or timed out, skipping scheduling"
      if (pending.signal.aborted) {
        pending.resolve('aborted');
        return;
      }
      const current = this.liveRunner(pending.model.name);
      let victim: Runner | undefined;
      if (current !== undefined) {
        if (current.numCtx === pending.numCtx) {
          this.useRunner(current, pending.keepAliveMs);
          pending.resolve(current);
          return;
        }
        // needsReload: a different num_ctx means a new runner once the old one's requests are done.
        victim = current;
      } else if (maxLoaded > 0 && this.liveRunners().length >= maxLoaded) {
        victim = this.findRunnerToUnload();
      }
      if (victim === undefined) {
        pending.resolve(this.load(pending));
        return;
      }
      // "resetting model to expire immediately to make room", then wait for the unload; the scheduler is blocked
      // meanwhile, so the pending queue fills, while requests for loaded models still take the fast path.
      victim.sessionMs = 0;
      await this.whenIdle(victim);
      this.unload(victim);
    }
  }

  /** server/sched.go load: registers the runner at once; its requests wait until the weights are in (WaitUntilRunning). */
  private load(pending: PendingLoad): Runner {
    const { model, numCtx, keepAliveMs } = pending;
    const gpu = this.options.gpu;
    const slots =
      gpu === undefined
        ? Number.POSITIVE_INFINITY
        : SINGLE_SLOT_FAMILIES.includes(model.family)
          ? 1
          : gpu.slots;
    const loadTimeMs = gpu?.loadTimeMs ?? 0;
    const runner: Runner = {
      model,
      numCtx,
      slots,
      active: 0,
      waiters: [],
      refCount: 1,
      sessionMs: keepAliveMs ?? DEFAULT_KEEP_ALIVE_MS,
      expiresAt: undefined,
      ready:
        loadTimeMs > 0
          ? new Promise((resolve) => setTimeout(resolve, loadTimeMs).unref())
          : Promise.resolve(),
      unloaded: false,
      idleWaiters: [],
    };
    this.runners.set(model.name, runner);
    this.loads.set(model.name, (this.loads.get(model.name) ?? 0) + 1);
    return runner;
  }

  /** server/sched.go useLoadedRunner: one more reference; the request's keep_alive becomes the runner's. */
  private useRunner(runner: Runner, keepAliveMs: number | undefined): void {
    runner.refCount++;
    runner.expiresAt = undefined;
    if (keepAliveMs !== undefined) runner.sessionMs = keepAliveMs;
  }

  /** server/sched.go processCompleted: an idle runner expires after its session duration, at once if that is 0. */
  private releaseRunner(runner: Runner): void {
    runner.refCount--;
    if (runner.refCount > 0) return;
    for (const wake of runner.idleWaiters.splice(0)) wake();
    if (runner.sessionMs === 0) this.unload(runner);
    else runner.expiresAt = expiryFrom(Date.now(), runner.sessionMs);
  }

  /** server/sched.go expireRunner: unload now, or as soon as the runner's requests are done. */
  private expireRunner(name: string): void {
    const runner = this.liveRunner(name);
    if (runner === undefined) return;
    runner.sessionMs = 0;
    if (runner.refCount <= 0) this.unload(runner);
  }

  /** server/sched.go findRunnerToUnload: shortest session first (then name); an idle one if there is one. */
  private findRunnerToUnload(): Runner | undefined {
    const list = this.liveRunners().sort(
      (a, b) => sessionKey(a.sessionMs) - sessionKey(b.sessionMs) || a.model.name.localeCompare(b.model.name),
    );
    return list.find((runner) => runner.refCount === 0) ?? list[0];
  }

  private whenIdle(runner: Runner): Promise<void> {
    if (runner.refCount <= 0) return Promise.resolve();
    return new Promise((resolve) => runner.idleWaiters.push(resolve));
  }

  private unload(runner: Runner): void {
    runner.unloaded = true;
    if (this.runners.get(runner.model.name) === runner) this.runners.delete(runner.model.name);
  }

  private liveRunner(name: string): Runner | undefined {
    const runner = this.runners.get(name);
    if (runner === undefined) return undefined;
    if (runner.refCount <= 0 && runner.expiresAt !== undefined && runner.expiresAt.getTime() <= Date.now()) {
      this.unload(runner);
      return undefined;
    }
    return runner;
  }

  private liveRunners(): Runner[] {
    return [...this.runners.keys()].flatMap((name) => this.liveRunner(name) ?? []);
  }

  /** llm/server.go Completion: s.sem.Acquire(ctx, 1) on a semaphore of numParallel; waits without limit. */
  private async acquireSlot(runner: Runner, signal: AbortSignal): Promise<boolean> {
    if (signal.aborted) return false;
    if (runner.active < runner.slots) {
      this.grantSlot(runner);
      return true;
    }
    this.waiting++;
    this.maxWaiting = Math.max(this.maxWaiting, this.waiting);
    this.maxInside = Math.max(this.maxInside, this.active + this.waiting);
    return new Promise((resolve) => {
      const onAbort = (): void => {
        const index = runner.waiters.indexOf(waiter);
        if (index >= 0) runner.waiters.splice(index, 1);
        this.waiting--;
        resolve(false);
      };
      const waiter: Waiter = {
        grant: () => {
          signal.removeEventListener('abort', onAbort);
          this.waiting--;
          resolve(true);
        },
      };
      runner.waiters.push(waiter);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  private grantSlot(runner: Runner): void {
    runner.active++;
    this.active++;
    this.maxActive = Math.max(this.maxActive, this.active);
    this.maxInside = Math.max(this.maxInside, this.active + this.waiting);
  }

  private releaseSlot(runner: Runner): void {
    // Hand the slot straight to the next waiter so a newcomer cannot overtake the queue.
    const next = runner.waiters.shift();
    if (next !== undefined) {
      next.grant();
      return;
    }
    runner.active--;
    this.active--;
  }
}

interface Generation {
  thinking: string;
  content: string;
  doneReason: 'stop' | 'length';
  evalCount: number;
  /** Thinking that the structured-output second pass gets back as part of its prompt. */
  extraPromptTokens: number;
}

/** The stand-in's token estimate (1 token ≈ 4 characters, counted in code points). */
export function estimateTokens(text: string): number {
  return Math.ceil(Array.from(text).length / CHARS_PER_TOKEN);
}

function firstTokens(text: string, tokens: number): string {
  return Array.from(text)
    .slice(0, tokens * CHARS_PER_TOKEN)
    .join('');
}

/**
 * What the runner generates within num_predict (runner/ollamarunner/runner.go: numPredicted >= numPredict ends the
 * sequence with DoneReasonLength). With thinking, routes.go ChatHandler streams the thinking in `message.thinking`.
 * With a format as well it runs two completions ("structured outputs via double request"): the first, unconstrained,
 * is cancelled when the thinking ends, and the second, constrained by the grammar, writes the content; the final
 * message's counts are the second completion's, so `eval_count` then leaves the thinking out. If the thinking alone
 * reaches num_predict, the first completion ends with `length` and no content.
 */
function generate(input: {
  content: string;
  thinking: string;
  structured: boolean;
  limit: number | undefined;
}): Generation {
  const { content, thinking, structured, limit } = input;
  const cut = (text: string, budget: number | undefined): { text: string; cut: boolean } =>
    budget !== undefined && estimateTokens(text) > budget
      ? { text: firstTokens(text, budget), cut: true }
      : { text, cut: false };
  if (thinking === '') {
    const answer = cut(content, limit);
    return {
      thinking: '',
      content: answer.text,
      doneReason: answer.cut ? 'length' : 'stop',
      evalCount: Math.max(1, estimateTokens(answer.text)),
      extraPromptTokens: 0,
    };
  }
  const thinkTokens = estimateTokens(thinking);
  if (limit !== undefined && thinkTokens >= limit) {
    return {
      thinking: firstTokens(thinking, limit),
      content: '',
      doneReason: 'length',
      evalCount: limit,
      extraPromptTokens: 0,
    };
  }
  if (structured) {
    const answer = cut(content, limit);
    return {
      thinking,
      content: answer.text,
      doneReason: answer.cut ? 'length' : 'stop',
      evalCount: Math.max(1, estimateTokens(answer.text)),
      extraPromptTokens: thinkTokens,
    };
  }
  const answer = cut(content, limit === undefined ? undefined : limit - thinkTokens);
  return {
    thinking,
    content: answer.text,
    doneReason: answer.cut ? 'length' : 'stop',
    evalCount: thinkTokens + estimateTokens(answer.text),
    extraPromptTokens: 0,
  };
}

/**
 * llm/server.go Completion: num_predict < 0 (the default, -1) or above 10 × num_ctx becomes 10 × num_ctx, "to avoid
 * the model running on forever". 0 stays 0, which the runner treats as no limit.
 */
function numPredictLimit(options: Record<string, unknown> | undefined, numCtx: number): number | undefined {
  const requested = typeof options?.num_predict === 'number' ? Math.trunc(options.num_predict) : -1;
  if (requested < 0 || requested > 10 * numCtx) return 10 * numCtx;
  return requested === 0 ? undefined : requested;
}

/** server/sched.go GetRunner: num_ctx is at least 4, and at least 2048 for a vision model. */
function effectiveNumCtx(model: ResolvedModel, options: Record<string, unknown> | undefined): number {
  const requested = typeof options?.num_ctx === 'number' ? Math.trunc(options.num_ctx) : model.contextLength;
  const atLeast = model.capabilities.includes('vision') ? 2048 : 4;
  return Math.max(requested, atLeast);
}

function finalFields(
  record: RecordedChat,
  script: ChatScript,
  generation: Generation,
  loadNs: number,
): Record<string, unknown> {
  // Models without vision keep the "[img-n]" tag of each image as text (server/prompt.go chatPrompt).
  const textChars = record.messages.reduce((n, m) => n + m.content.length, 0);
  const imageTokens = record.images.reduce((n, i) => n + i.tokens, 0);
  const ignoredTags = record.images.filter((i) => i.tokens === 0).length * '[img-0]'.length;
  const promptEvalCount =
    script.promptEvalCount ??
    Math.max(
      1,
      Math.ceil((textChars + ignoredTags) / CHARS_PER_TOKEN) + imageTokens + generation.extraPromptTokens,
    );
  const evalCount = script.evalCount ?? generation.evalCount;
  const loadDuration = script.loadDurationNs ?? loadNs;
  const promptEvalDuration = script.promptEvalDurationNs ?? promptEvalCount * PROMPT_NS_PER_TOKEN;
  const evalDuration = script.evalDurationNs ?? evalCount * EVAL_NS_PER_TOKEN;
  // Wall time counts too, so a scripted delay shows up in total_duration as it would on a real server.
  const wallNs = (Date.now() - record.receivedAt.getTime()) * 1_000_000;
  const totalDuration =
    script.totalDurationNs ?? Math.max(wallNs, loadDuration + promptEvalDuration + evalDuration);
  return {
    done_reason: script.doneReason ?? generation.doneReason,
    done: true,
    total_duration: totalDuration,
    load_duration: loadDuration,
    prompt_eval_count: promptEvalCount,
    prompt_eval_duration: promptEvalDuration,
    eval_count: evalCount,
    eval_duration: evalDuration,
  };
}

/** api.Message: `thinking` is omitempty. */
function message(content: string, thinking = ''): Record<string, unknown> {
  return thinking === '' ? { role: 'assistant', content } : { role: 'assistant', content, thinking };
}

function doneMessage(model: string, doneReason: string): Record<string, unknown> {
  return {
    model,
    created_at: new Date().toISOString(),
    message: { role: 'assistant', content: '' },
    done: true,
    done_reason: doneReason,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Image budgets: ports of each family's image processor (not Argus's own code, which they are meant to check).
// ---------------------------------------------------------------------------------------------------------------

export interface ImageBudget {
  modelWidth: number;
  modelHeight: number;
  tokens: number;
  tiles?: number;
  /** Set when the processor would fail (SmartResize panics on an image smaller than its factor). */
  error?: string;
}

/**
 * What a model family does with an image of width × height.
 *
 * - qwen25vl (model/models/qwen25vl/process_image.go SmartResize): sides rounded (half to even) to multiples of 28
 *   (patch 14 × merge 2), pixels kept within [56·56, 2<<20 = 2,097,152] (the "2M limit" default of
 *   `vision.max_pixels`, which the GGUF does not set); tokens = (h/28)·(w/28) merged patches + vision start and end
 *   (model.go PostTokenize).
 * - qwen3vl, qwen3vlmoe (model/models/qwen3vl/imageprocessor.go): the same algorithm with factor 32 (patch 16 × merge
 *   2), minimum `vision.shortest_edge` 65,536 pixels and maximum fixed at 2<<20; tokens = (h/32)·(w/32) + 2.
 * - gemma3 (model/models/gemma3/process_image.go): resized to 896×896 whatever the aspect; 256 soft tokens plus
 *   "\n\n", <start_of_image>, <end_of_image>, "\n\n" = 260 (model.go PostTokenize).
 * - mllama (model/models/mllama/process_image.go): fitted to the best canvas of 560-px tiles, at most 4 tiles; the
 *   image is fed by cross-attention (1601 positions a tile) and removed from the token sequence (model.go
 *   PostTokenize), so it adds no prompt tokens.
 * - anything else: kept as sent, one token per 28×28 patch up to about 2 MP (an estimate, not a port).
 */
export function imageBudget(family: string, image: { width: number; height: number }): ImageBudget {
  const { width, height } = image;
  if (width <= 0 || height <= 0) return { modelWidth: 0, modelHeight: 0, tokens: 0 };
  switch (family) {
    case 'qwen25vl':
      return qwenBudget(width, height, 28, 56 * 56, 2 << 20);
    case 'qwen3vl':
    case 'qwen3vlmoe':
      return qwenBudget(width, height, 32, 64 << 10, 2 << 20);
    case 'gemma3':
      return { modelWidth: 896, modelHeight: 896, tokens: 256 + 4 };
    case 'mllama': {
      const canvas = mllamaCanvas(width, height, 560, 4);
      return { modelWidth: canvas.width, modelHeight: canvas.height, tokens: 0, tiles: canvas.tiles };
    }
    default:
      return {
        modelWidth: width,
        modelHeight: height,
        tokens: Math.max(1, Math.ceil(Math.min(width * height, MAX_IMAGE_PIXELS) / PIXELS_PER_IMAGE_TOKEN)),
      };
  }
}

function qwenBudget(
  width: number,
  height: number,
  factor: number,
  minPixels: number,
  maxPixels: number,
): ImageBudget {
  const resized = smartResize(height, width, factor, minPixels, maxPixels);
  if (typeof resized === 'string') return { modelWidth: 0, modelHeight: 0, tokens: 0, error: resized };
  const [h, w] = resized;
  return { modelWidth: w, modelHeight: h, tokens: (h / factor) * (w / factor) + 2 };
}

/** SmartResize of model/models/qwen25vl/process_image.go, line for line. Returns [height, width] or the panic text. */
function smartResize(
  height: number,
  width: number,
  factor: number,
  minPixels: number,
  maxPixels: number,
): [number, number] | string {
  if (height < factor || width < factor) {
    return `height:${height} or width:${width} must be larger than factor:${factor}`;
  }
  const aspectRatio = Math.trunc(Math.max(height, width) / Math.min(height, width));
  if (aspectRatio > 200) return `absolute aspect ratio must be smaller than 200, got ${aspectRatio}`;
  let hBar = roundToEven(height / factor) * factor;
  let wBar = roundToEven(width / factor) * factor;
  if (hBar * wBar > maxPixels) {
    const beta = Math.sqrt((height * width) / maxPixels);
    hBar = Math.floor(height / beta / factor) * factor;
    wBar = Math.floor(width / beta / factor) * factor;
  } else if (hBar * wBar < minPixels) {
    const beta = Math.sqrt(minPixels / (height * width));
    hBar = Math.ceil((height * beta) / factor) * factor;
    wBar = Math.ceil((width * beta) / factor) * factor;
  }
  return [hBar, wBar];
}

/** Go's math.RoundToEven. */
function roundToEven(x: number): number {
  const floor = Math.floor(x);
  const fraction = x - floor;
  if (fraction > 0.5) return floor + 1;
  if (fraction < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

/** optimalTiledCanvas of model/models/mllama/process_image.go: the smallest canvas at the chosen scale. */
function mllamaCanvas(
  width: number,
  height: number,
  tile: number,
  maxTiles: number,
): { width: number; height: number; tiles: number } {
  const canvases: { x: number; y: number }[] = [];
  for (let w = 1; w <= maxTiles; w++) {
    for (let h = 1; h <= Math.trunc(maxTiles / w); h++) canvases.push({ x: w * tile, y: h * tile });
  }
  const scales = canvases.map((c) => Math.min(c.y / height, c.x / width));
  let minUpscale = 0;
  let maxDownscale = 0;
  let upscale = false;
  for (const s of scales) {
    if (s > 1) {
      upscale = true;
      minUpscale = minUpscale === 0 ? s : Math.min(minUpscale, s);
    } else {
      maxDownscale = Math.max(maxDownscale, s);
    }
  }
  const selected = upscale ? minUpscale : maxDownscale;
  let chosen: { x: number; y: number } | undefined;
  canvases.forEach((c, n) => {
    if (scales[n] !== selected) return;
    if (chosen === undefined || c.x * c.y < chosen.x * chosen.y) chosen = c;
  });
  const canvas = chosen ?? { x: tile, y: tile };
  return { width: canvas.x, height: canvas.y, tiles: (canvas.x / tile) * (canvas.y / tile) };
}

/** The architecture Ollama's GGUF would report for a library model name (see StandInModel.family). */
export function familyFromName(name: string): string {
  const [base = name, tag = 'latest'] = (name.split('/').at(-1) ?? name).toLowerCase().split(':');
  if (/^qwen2\.?5-?vl/.test(base)) return 'qwen25vl';
  if (/^qwen3-?vl/.test(base)) return /^(30b|235b)|a\d+b/.test(tag) ? 'qwen3vlmoe' : 'qwen3vl';
  if (/^llama3\.2-vision/.test(base)) return 'mllama';
  if (/^gemma3n/.test(base)) return 'gemma3n';
  if (/^gemma3/.test(base)) return 'gemma3';
  return base.replace(/[^a-z0-9]/g, '');
}

// ---------------------------------------------------------------------------------------------------------------
// Realistic output: what a grammar-constrained local model writes.
// ---------------------------------------------------------------------------------------------------------------

/**
 * A JSON answer as a real model writes it through Ollama's grammar (llama.cpp common/json-schema-to-grammar.cpp):
 * - numbers with `minimum: 0, maximum: 1` come back as percents (0.85 → 85): the converter builds range rules only for
 *   `integer` (`_build_min_max_int`); a `number` gets the plain number primitive ("TODO: support minimum, maximum"),
 *   so nothing stops the model writing 85;
 * - pretty-printed with newlines and a trailing newline: the grammar's `space` rule allows `" "` or up to two
 *   newlines and 20 indent characters after every token, including after the closing brace (never before the first).
 */
export function realisticContent(content: string, format: unknown): string {
  if (!isRecord(format)) return content;
  let value: unknown;
  try {
    value = JSON.parse(content);
  } catch {
    return content;
  }
  return `${JSON.stringify(percentify(value, format, format, 0), null, 2)}\n`;
}

function percentify(value: unknown, schema: unknown, root: unknown, depth: number): unknown {
  if (!isRecord(schema) || depth > 32) return value;
  if (typeof schema.$ref === 'string')
    return percentify(value, resolveRef(schema.$ref, root), root, depth + 1);
  for (const key of ['anyOf', 'oneOf', 'allOf'] as const) {
    const branches = schema[key];
    if (Array.isArray(branches)) {
      const branch: unknown = branches.find((b: unknown) =>
        typeMatches(value, isRecord(b) ? resolveSchema(b, root) : b),
      );
      if (branch !== undefined) return percentify(value, branch, root, depth + 1);
    }
  }
  const types = schemaTypes(schema);
  if (typeof value === 'number' && types.includes('number') && schema.minimum === 0 && schema.maximum === 1) {
    return Math.round(value * 10_000) / 100;
  }
  if (Array.isArray(value)) return value.map((item) => percentify(item, schema.items, root, depth + 1));
  if (isRecord(value) && isRecord(schema.properties)) {
    const properties = schema.properties;
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, percentify(item, properties[key], root, depth + 1)]),
    );
  }
  return value;
}

function resolveSchema(schema: Record<string, unknown>, root: unknown): unknown {
  return typeof schema.$ref === 'string' ? resolveRef(schema.$ref, root) : schema;
}

function resolveRef(ref: string, root: unknown): unknown {
  if (!ref.startsWith('#')) return undefined;
  let node: unknown = root;
  for (const part of ref.slice(1).split('/').filter(Boolean)) {
    node = isRecord(node) ? node[part.replace(/~1/g, '/').replace(/~0/g, '~')] : undefined;
  }
  return node;
}

function schemaTypes(schema: Record<string, unknown>): string[] {
  if (typeof schema.type === 'string') return [schema.type];
  return Array.isArray(schema.type) ? schema.type.filter((t): t is string => typeof t === 'string') : [];
}

function typeMatches(value: unknown, schema: unknown): boolean {
  if (!isRecord(schema)) return false;
  const types = schemaTypes(schema);
  if (types.length === 0) return true;
  const actual =
    value === null
      ? 'null'
      : Array.isArray(value)
        ? 'array'
        : typeof value === 'number'
          ? Number.isInteger(value)
            ? ['integer', 'number']
            : ['number']
          : typeof value;
  return Array.isArray(actual) ? actual.some((t) => types.includes(t)) : types.includes(actual);
}

function isStructured(format: unknown): boolean {
  return format === 'json' || isRecord(format);
}

/**
 * llm/server.go Completion: `null` and `""` mean no format, `"json"` the JSON grammar, an object a schema; anything
 * else is `invalid format: %q; expected "json" or a valid JSON Schema object` (%q of the raw JSON bytes).
 */
function invalidFormat(format: unknown): string | undefined {
  if (format === undefined || format === null || format === '' || format === 'json' || isRecord(format)) {
    return undefined;
  }
  return `invalid format: ${JSON.stringify(JSON.stringify(format))}; expected "json" or a valid JSON Schema object`;
}

function resolveModel(m: StandInModel): ResolvedModel {
  const name = normaliseName(m.name);
  const tag = name.split(':').at(-1) ?? 'latest';
  const sizeVram = m.sizeVram ?? m.size ?? DEFAULT_SIZE;
  return {
    name,
    capabilities: m.capabilities ?? [...DEFAULT_CAPABILITIES],
    size: m.size ?? sizeVram,
    sizeVram,
    family: m.family ?? familyFromName(name),
    parameterSize: m.parameterSize ?? (/^\d+(\.\d+)?[bm]$/i.test(tag) ? tag.toUpperCase() : '7B'),
    quantizationLevel: m.quantizationLevel ?? 'Q4_K_M',
    contextLength: m.contextLength ?? DEFAULT_CONTEXT,
    digest: createHash('sha256').update(name).digest('hex'),
    modifiedAt: new Date('2025-01-01T00:00:00Z'),
  };
}

function details(m: ResolvedModel): Record<string, unknown> {
  return {
    parent_model: '',
    format: 'gguf',
    family: m.family,
    families: [m.family],
    parameter_size: m.parameterSize,
    quantization_level: m.quantizationLevel,
  };
}

function parameterCount(size: string): number {
  const match = /^(\d+(?:\.\d+)?)([bm])$/i.exec(size);
  if (match === null) return 0;
  return Math.round(Number(match[1]) * (match[2].toLowerCase() === 'b' ? 1e9 : 1e6));
}

/** types/model/name.go: a missing tag is `latest`. */
function normaliseName(name: string): string {
  const lastSegment = name.split('/').at(-1) ?? name;
  return lastSegment.includes(':') ? name : `${name}:latest`;
}

/** routes.go ChatHandler and ShowHandler (GetModel → os.IsNotExist). */
function notFound(name: string): string {
  return `model '${name}' not found`;
}

function defaultErrorText(status: number, model: string): string {
  switch (status) {
    case 400:
      return 'invalid request';
    case 404:
      return notFound(model);
    case 503:
      return BUSY_ERROR;
    default:
      return 'an error was encountered while running the model';
  }
}

function defaultContent(format: unknown): string {
  if (format === 'json') return '{}';
  if (isRecord(format)) return JSON.stringify(exampleFromJsonSchema(format));
  return DEFAULT_TEXT_ANSWER;
}

function splitContent(content: string, chunks: number): string[] {
  // Split on code points so a streamed emoji or accented letter never arrives as half a surrogate pair.
  const chars = Array.from(content);
  const count = Math.max(1, Math.min(Math.floor(chunks), chars.length));
  if (chars.length === 0) return [];
  const size = Math.ceil(chars.length / count);
  const pieces: string[] = [];
  for (let i = 0; i < chars.length; i += size) pieces.push(chars.slice(i, i + size).join(''));
  return pieces;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseLoosely(raw: string): unknown {
  if (raw === '') return undefined;
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw;
  }
}

function parseJsonObject(raw: string): Record<string, unknown> {
  // Messages mimic Go's encoding/json, which is what Ollama answers with.
  if (raw.trim() === '') throw new HttpError(400, 'missing request body');
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (error) {
    throw new HttpError(
      400,
      `invalid character in request body: ${error instanceof Error ? error.message : ''}`,
    );
  }
  if (!isRecord(parsed)) {
    throw new HttpError(
      400,
      `json: cannot unmarshal ${Array.isArray(parsed) ? 'array' : typeof parsed} into Go value`,
    );
  }
  return parsed;
}

function parseMessages(value: unknown): ChatMessage[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) {
    throw new HttpError(
      400,
      'json: cannot unmarshal into Go struct field ChatRequest.messages of type []api.Message',
    );
  }
  return value.map((m: unknown) => {
    if (!isRecord(m)) throw new HttpError(400, 'json: cannot unmarshal into Go value of type api.Message');
    const content = m.content ?? '';
    if (typeof content !== 'string') {
      throw new HttpError(
        400,
        'json: cannot unmarshal into Go struct field Message.messages.content of type string',
      );
    }
    const images = m.images ?? undefined;
    if (images !== undefined && (!Array.isArray(images) || !images.every((i) => typeof i === 'string'))) {
      throw new HttpError(
        400,
        'json: cannot unmarshal into Go struct field Message.messages.images of type []byte',
      );
    }
    return {
      ...m,
      role: typeof m.role === 'string' ? m.role : '',
      content,
      images,
    };
  });
}

function base64Error(data: string): string | undefined {
  // Go's StdEncoding: padded, standard alphabet, CR/LF ignored. A data: URL prefix fails here, as in Ollama.
  const stripped = data.replace(/[\r\n]/g, '');
  const bad = stripped.search(/[^A-Za-z0-9+/=]/);
  if (bad >= 0) return `illegal base64 data at input byte ${bad}`;
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(stripped) || stripped.length % 4 !== 0) {
    return `illegal base64 data at input byte ${stripped.length}`;
  }
  return undefined;
}

// The same header reader the services use, so a test compares like with like.
const imageProcessor = new ImageProcessor();

async function probeImage(data: string): Promise<RecordedImage> {
  const empty = { modelWidth: 0, modelHeight: 0, tokens: 0 };
  if (base64Error(data) !== undefined) {
    return { bytes: 0, width: 0, height: 0, format: 'invalid-base64', ...empty };
  }
  const bytes = Buffer.from(data, 'base64');
  try {
    const { format, width, height } = await imageProcessor.probe(bytes);
    // Go's image.Decode knows only the formats Ollama registers; sharp reads more (avif, heif, svg...).
    if (!GO_DECODABLE.has(format))
      return { bytes: bytes.length, width: 0, height: 0, format: 'unknown', ...empty };
    return { bytes: bytes.length, width, height, format, ...empty };
  } catch {
    return { bytes: bytes.length, width: 0, height: 0, format: 'unknown', ...empty };
  }
}

/**
 * api/types.go Duration.UnmarshalJSON: a number is seconds (negative: forever); a string is a Go duration for
 * time.ParseDuration (negative: forever), so a bare "300" fails with "missing unit". Returns ms, -1 for forever, or
 * undefined when absent (the runner keeps its session duration, 5 minutes for a new one).
 */
function parseKeepAlive(value: unknown): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'number') return value < 0 ? -1 : value * 1000;
  if (typeof value !== 'string') {
    const goType =
      typeof value === 'boolean'
        ? 'bool'
        : Array.isArray(value)
          ? '[]interface {}'
          : 'map[string]interface {}';
    throw new HttpError(400, `Unsupported type: '${goType}'`);
  }
  const ms = parseGoDuration(value);
  return ms < 0 ? -1 : ms;
}

/** Go's time.ParseDuration, with its error texts. Returns milliseconds. */
function parseGoDuration(text: string): number {
  const invalid = (): HttpError => new HttpError(400, `time: invalid duration ${JSON.stringify(text)}`);
  let s = text;
  let negative = false;
  if (s.startsWith('-') || s.startsWith('+')) {
    negative = s.startsWith('-');
    s = s.slice(1);
  }
  if (s === '0') return 0;
  if (s === '') throw invalid();
  const unitMs: Partial<Record<string, number>> = {
    ns: 1e-6,
    us: 1e-3,
    µs: 1e-3,
    μs: 1e-3,
    ms: 1,
    s: 1000,
    m: 60_000,
    h: 3_600_000,
  };
  let total = 0;
  while (s !== '') {
    const number = /^(\d*)(?:\.(\d*))?/.exec(s)?.[0] ?? '';
    if (number === '' || number === '.') throw invalid();
    s = s.slice(number.length);
    const unit = /^[^0-9.]*/.exec(s)?.[0] ?? '';
    if (unit === '') throw new HttpError(400, `time: missing unit in duration ${JSON.stringify(text)}`);
    const scale = unitMs[unit];
    if (scale === undefined) {
      throw new HttpError(
        400,
        `time: unknown unit ${JSON.stringify(unit)} in duration ${JSON.stringify(text)}`,
      );
    }
    total += Number(number) * scale;
    s = s.slice(unit.length);
  }
  return negative ? -total : total;
}

function expiryFrom(now: number, sessionMs: number): Date {
  return sessionMs < 0 ? FOREVER : new Date(now + sessionMs);
}

/** Go sorts session durations as uint64, so a negative one (forever) sorts last. */
function sessionKey(sessionMs: number): number {
  return sessionMs < 0 ? Number.MAX_SAFE_INTEGER : sessionMs;
}

function flattenHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    out[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new HttpError(413, 'request body too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.once('end', () => {
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
    req.once('error', reject);
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
  });
  res.end(text);
}

function sendNdjson(res: ServerResponse, lines: unknown[]): void {
  res.writeHead(200, { 'Content-Type': 'application/x-ndjson' });
  res.end(lines.map((l) => `${JSON.stringify(l)}\n`).join(''));
}

function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
  });
  res.end(text);
}

/** Resolves true after ms, or false as soon as the client goes away. */
function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  if (ms <= 0) return Promise.resolve(true);
  return new Promise((resolve) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function aborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    signal.addEventListener(
      'abort',
      () => {
        resolve();
      },
      { once: true },
    );
  });
}
