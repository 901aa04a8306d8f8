/**
 * A protocol-faithful Ollama HTTP server for integration and e2e tests.
 *
 * It speaks the subset of the Ollama REST API that Argus uses (chat, tags, show, ps, version, the root probe) with the
 * real shapes, status codes and error bodies, so the production adapter and the official `ollama` client run against
 * it unchanged. Tests script per-request behaviour (errors, delays, hangs, broken streams, bad content), emulate a GPU
 * with a fixed number of parallel slots and a bounded queue, and assert on what arrived (model, schema, image size,
 * traceparent).
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { ImageProcessor } from '@argus/imaging';
import { exampleFromJsonSchema } from './json-schema-example';

export interface StandInModel {
  /** e.g. `qwen2.5vl:7b`; a name without a tag means `:latest`, as in Ollama. */
  name: string;
  /** Default `['completion', 'vision']`. */
  capabilities?: string[];
  /** Bytes of VRAM the loaded model reports in `/api/ps`. */
  sizeVram?: number;
  /** Bytes on disk reported by `/api/tags`; defaults to sizeVram. */
  size?: number;
  family?: string;
  parameterSize?: string;
  quantizationLevel?: string;
  /** The model's default context when a request sets no `num_ctx`. */
  contextLength?: number;
}

export interface GpuEmulation {
  /** Chats served at once (OLLAMA_NUM_PARALLEL). */
  slots: number;
  /** How long each chat holds its slot before the answer starts. */
  serviceTimeMs: number;
  /** Chats allowed to wait for a slot (OLLAMA_MAX_QUEUE); one more gets 503. */
  queueLimit: number;
}

export interface StandInOptions {
  models?: StandInModel[];
  gpu?: GpuEmulation;
  /** Reported by `/api/version`; default `0.12.0`. */
  version?: string;
  /**
   * Answer 500 when an image is valid base64 but not a decodable image, as the runner does. Default true; turn it off
   * only for tests that deliberately send placeholder bytes.
   */
  strictImages?: boolean;
  /** Models `/api/pull` can fetch, as if from a registry; pulling adds them to the local models. */
  registry?: StandInModel[];
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
  /** Exact assistant content. */
  content?: string;
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
  /** `done_reason` of the final message; default `stop` (`length` emulates a truncated answer). */
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
  /** Chats waiting for a slot now. */
  queued: number;
  /** Highest number of chats that held a slot at the same time. */
  maxConcurrent: number;
  /** Chats refused with 503 because the queue was full. */
  rejected: number;
  /** Chats that were answered 200 to the end. */
  completed: number;
  /** Model loads (first use, after unload or expiry, or a num_ctx change), by model name. */
  loads: Record<string, number>;
}

export const DEFAULT_MODEL = 'qwen2.5vl:7b';
export const DEFAULT_TEXT_ANSWER = 'stand-in answer';
export const MALFORMED_CONTENT =
  'Sure! Here is what I see in the image: {"decision": allow, "reason": "looks fine"';
export const BUSY_ERROR = 'server busy, please try again.  maximum pending requests exceeded';

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
const DEFAULT_CONTEXT = 4096;
const DEFAULT_KEEP_ALIVE_MS = 5 * 60_000;
// Year 2318 is what Ollama reports for keep_alive < 0 (loaded forever).
const FOREVER = new Date('2318-01-01T00:00:00Z');
// Images are small in tests; the cap only stops a runaway client from exhausting memory.
const MAX_BODY_BYTES = 256 * 1024 * 1024;
// qwen2.5vl spends one token per 28×28 patch and caps the input near 2 MP.
const PIXELS_PER_IMAGE_TOKEN = 784;
const MAX_IMAGE_PIXELS = 2_000_000;
// Synthetic speeds for reported durations: fast prompt processing, slower generation, like a mid-range GPU.
const PROMPT_NS_PER_TOKEN = 250_000;
const EVAL_NS_PER_TOKEN = 20_000_000;
const LOAD_NS_COLD = 2_500_000_000;
const LOAD_NS_WARM = 30_000_000;

interface LoadedModel {
  expiresAt: Date;
  numCtx: number;
}

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
  private readonly loaded = new Map<string, LoadedModel>();
  private readonly loads = new Map<string, number>();
  private readonly sockets = new Set<Socket>();
  private readonly waiters: Waiter[] = [];
  private scriptFn: ChatScriptFn | undefined;
  private active = 0;
  private maxActive = 0;
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
      const { slots, queueLimit, serviceTimeMs } = options.gpu;
      if (!(slots >= 1) || !(queueLimit >= 0) || !(serviceTimeMs >= 0)) {
        throw new Error('OllamaStandIn: gpu needs slots >= 1, queueLimit >= 0 and serviceTimeMs >= 0');
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
    this.rejectedCount = 0;
    this.completedCount = 0;
    this.loaded.clear();
    this.loads.clear();
  }

  /** Replaces the pulled models (e.g. to emulate `ollama rm` or a pull during a test). */
  setModels(models: StandInModel[]): void {
    this.models = new Map(models.map((m) => [normaliseName(m.name), resolveModel(m)]));
    for (const name of this.loaded.keys()) if (!this.models.has(name)) this.loaded.delete(name);
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
    return {
      inFlight: this.active,
      queued: this.waiters.length,
      maxConcurrent: this.maxActive,
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

  private ps(res: ServerResponse): void {
    const now = Date.now();
    const models: unknown[] = [];
    for (const [name, state] of this.loaded) {
      const m = this.models.get(name);
      if (m === undefined || state.expiresAt.getTime() <= now) {
        this.loaded.delete(name);
        continue;
      }
      models.push({
        name: m.name,
        model: m.name,
        size: m.sizeVram,
        digest: m.digest,
        details: details(m),
        expires_at: state.expiresAt.toISOString(),
        size_vram: m.sizeVram,
        context_length: state.numCtx,
      });
    }
    sendJson(res, 200, { models });
  }

  /** Streams Ollama's pull progress lines, then adds the model; unknown models fail like a missing manifest. */
  private pull(res: ServerResponse, raw: string): void {
    const body = parseJsonObject(raw);
    const requested = typeof body.model === 'string' ? body.model : body.name;
    if (typeof requested !== 'string' || requested === '') throw new HttpError(400, 'model is required');
    const wanted = normaliseName(requested);
    const entry = (this.options.registry ?? []).find((candidate) => normaliseName(candidate.name) === wanted);
    if (entry === undefined) throw new HttpError(500, 'pull model manifest: file does not exist');
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
    if (body.stream === false) sendJson(res, 200, { status: 'success' });
    else sendNdjson(res, lines);
  }

  private show(res: ServerResponse, raw: string): void {
    const body = parseJsonObject(raw);
    // `name` is the pre-0.5 spelling that clients still send.
    const requested = typeof body.model === 'string' ? body.model : body.name;
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

  private async chat(
    res: ServerResponse,
    base: RecordedRequest,
    raw: string,
    signal: AbortSignal,
  ): Promise<void> {
    let body: Record<string, unknown>;
    try {
      body = parseJsonObject(raw);
    } catch (error) {
      this.requests.push(base);
      throw error;
    }
    const messages = parseMessages(body.messages);
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
      prompt: messages.filter((m) => m.role === 'user').at(-1)?.content ?? '',
      images,
    };
    this.requests.push(record);

    // Checks run in Ollama's order: request binding (base64, format, keep_alive), then model, then capabilities.
    const badBase64 = rawImages.map(base64Error).find((e) => e !== undefined);
    if (badBase64 !== undefined) throw new HttpError(400, badBase64);
    if (
      record.format !== undefined &&
      record.format !== null &&
      record.format !== '' &&
      record.format !== 'json' &&
      !isRecord(record.format)
    ) {
      throw new HttpError(
        400,
        `invalid format: ${JSON.stringify(record.format)}; expected "json" or a JSON schema`,
      );
    }
    const keepAliveMs = parseKeepAlive(body.keep_alive);
    if (record.model === '') throw new HttpError(400, 'model is required');
    const model = this.models.get(normaliseName(record.model));
    if (model === undefined) throw new HttpError(404, notFound(record.model));
    if (!model.capabilities.includes('completion'))
      throw new HttpError(400, `"${record.model}" does not support chat`);
    if (images.length > 0 && !model.capabilities.includes('vision')) {
      throw new HttpError(400, `"${record.model}" does not support vision`);
    }

    // An empty conversation is Ollama's way to load (or, with keep_alive 0, unload) a model without generating.
    if (messages.length === 0) {
      const unload = keepAliveMs === 0;
      if (unload) this.loaded.delete(model.name);
      else this.touchLoaded(model, record.options, keepAliveMs);
      const done = {
        model: record.model,
        created_at: new Date().toISOString(),
        message: { role: 'assistant', content: '' },
        done_reason: unload ? 'unload' : 'load',
        done: true,
      };
      if (stream) sendNdjson(res, [done]);
      else sendJson(res, 200, done);
      return;
    }

    let script: ChatScript;
    try {
      script = this.scriptFn?.(record) ?? {};
    } catch (error) {
      throw new Error(`script threw: ${error instanceof Error ? error.message : String(error)}`);
    }

    if (script.status !== undefined || script.error !== undefined) {
      if (!(await sleep(script.delayMs ?? 0, signal))) return;
      const status = script.status ?? 500;
      sendJson(res, status, { error: script.error ?? defaultErrorText(status) });
      return;
    }

    if (this.options.strictImages !== false && images.some((i) => i.format === 'unknown')) {
      throw new HttpError(
        500,
        'Failed to create new sequence: failed to process inputs: image: unknown format',
      );
    }

    const admission = await this.acquireSlot(signal);
    if (admission === 'busy') {
      this.rejectedCount++;
      sendJson(res, 503, { error: BUSY_ERROR });
      return;
    }
    if (admission === 'aborted') return;

    try {
      const coldLoad = this.touchLoaded(model, record.options, keepAliveMs);
      if (script.hang === true) {
        await aborted(signal);
        return;
      }
      const wait = (script.delayMs ?? 0) + (this.options.gpu?.serviceTimeMs ?? 0);
      if (!(await sleep(wait, signal))) return;

      const content =
        script.content ?? (script.malformed === true ? MALFORMED_CONTENT : defaultContent(record.format));
      const final = finalFields(record, script, content, coldLoad);

      if (!stream) {
        if (script.midStreamError !== undefined) {
          sendJson(res, 500, { error: script.midStreamError });
          return;
        }
        sendJson(res, 200, {
          model: record.model,
          created_at: new Date().toISOString(),
          message: { role: 'assistant', content },
          ...final,
        });
        this.completedCount++;
        return;
      }

      res.writeHead(200, { 'Content-Type': 'application/x-ndjson' });
      const pieces = splitContent(content, script.midStreamError !== undefined ? 2 : (script.chunks ?? 4));
      const line = (piece: string): string =>
        `${JSON.stringify({
          model: record.model,
          created_at: new Date().toISOString(),
          message: { role: 'assistant', content: piece },
          done: false,
        })}\n`;
      if (script.midStreamError !== undefined) {
        res.write(line(pieces[0] ?? ''));
        if (!(await sleep(script.chunkDelayMs ?? 0, signal))) return;
        res.end(`${JSON.stringify({ error: script.midStreamError })}\n`);
        return;
      }
      for (const piece of pieces) {
        res.write(line(piece));
        if (!(await sleep(script.chunkDelayMs ?? 0, signal))) return;
      }
      res.end(
        `${JSON.stringify({
          model: record.model,
          created_at: new Date().toISOString(),
          message: { role: 'assistant', content: '' },
          ...final,
        })}\n`,
      );
      this.completedCount++;
    } finally {
      this.releaseSlot();
      if (keepAliveMs === 0) this.loaded.delete(model.name);
    }
  }

  /** Marks the model loaded and says whether this request paid for a (re)load. */
  private touchLoaded(
    model: ResolvedModel,
    options: Record<string, unknown> | undefined,
    keepAliveMs: number,
  ): boolean {
    const numCtx = typeof options?.num_ctx === 'number' ? options.num_ctx : model.contextLength;
    const current = this.loaded.get(model.name);
    // A different num_ctx means a new runner in Ollama, which is why Argus keeps runner options fixed per model.
    const cold =
      current === undefined || current.expiresAt.getTime() <= Date.now() || current.numCtx !== numCtx;
    if (cold) this.loads.set(model.name, (this.loads.get(model.name) ?? 0) + 1);
    const expiresAt = keepAliveMs < 0 ? FOREVER : new Date(Date.now() + Math.max(keepAliveMs, 0));
    this.loaded.set(model.name, { expiresAt, numCtx });
    return cold;
  }

  private async acquireSlot(signal: AbortSignal): Promise<'ok' | 'busy' | 'aborted'> {
    const gpu = this.options.gpu;
    if (gpu === undefined || this.active < gpu.slots) {
      this.active++;
      this.maxActive = Math.max(this.maxActive, this.active);
      return 'ok';
    }
    if (this.waiters.length >= gpu.queueLimit) return 'busy';
    return new Promise((resolve) => {
      const onAbort = (): void => {
        const index = this.waiters.indexOf(waiter);
        if (index >= 0) this.waiters.splice(index, 1);
        resolve('aborted');
      };
      const waiter: Waiter = {
        grant: () => {
          signal.removeEventListener('abort', onAbort);
          resolve('ok');
        },
      };
      this.waiters.push(waiter);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  private releaseSlot(): void {
    // Hand the slot straight to the next waiter so a newcomer cannot overtake the queue.
    const next = this.waiters.shift();
    if (next !== undefined) next.grant();
    else this.active--;
  }
}

function finalFields(
  record: RecordedChat,
  script: ChatScript,
  content: string,
  coldLoad: boolean,
): Record<string, unknown> {
  const textChars = record.messages.reduce((n, m) => n + m.content.length, 0);
  const imageTokens = record.images.reduce(
    (n, i) =>
      n + Math.max(1, Math.ceil(Math.min(i.width * i.height, MAX_IMAGE_PIXELS) / PIXELS_PER_IMAGE_TOKEN)),
    0,
  );
  const promptEvalCount = script.promptEvalCount ?? Math.max(1, Math.ceil(textChars / 4) + imageTokens);
  const evalCount = script.evalCount ?? Math.max(1, Math.ceil(content.length / 4));
  const loadDuration = script.loadDurationNs ?? (coldLoad ? LOAD_NS_COLD : LOAD_NS_WARM);
  const promptEvalDuration = script.promptEvalDurationNs ?? promptEvalCount * PROMPT_NS_PER_TOKEN;
  const evalDuration = script.evalDurationNs ?? evalCount * EVAL_NS_PER_TOKEN;
  // Wall time counts too, so a scripted delay shows up in total_duration as it would on a real server.
  const wallNs = (Date.now() - record.receivedAt.getTime()) * 1_000_000;
  const totalDuration =
    script.totalDurationNs ?? Math.max(wallNs, loadDuration + promptEvalDuration + evalDuration);
  return {
    done_reason: script.doneReason ?? 'stop',
    done: true,
    total_duration: totalDuration,
    load_duration: loadDuration,
    prompt_eval_count: promptEvalCount,
    prompt_eval_duration: promptEvalDuration,
    eval_count: evalCount,
    eval_duration: evalDuration,
  };
}

function resolveModel(m: StandInModel): ResolvedModel {
  const name = normaliseName(m.name);
  const [base = name, tag = 'latest'] = name.split(':');
  const sizeVram = m.sizeVram ?? m.size ?? DEFAULT_SIZE;
  return {
    name,
    capabilities: m.capabilities ?? [...DEFAULT_CAPABILITIES],
    size: m.size ?? sizeVram,
    sizeVram,
    family: m.family ?? base.replace(/[^a-z0-9]/gi, '').toLowerCase(),
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

function normaliseName(name: string): string {
  const lastSegment = name.split('/').at(-1) ?? name;
  return lastSegment.includes(':') ? name : `${name}:latest`;
}

function notFound(name: string): string {
  return `model "${name}" not found, try pulling it first`;
}

function defaultErrorText(status: number): string {
  switch (status) {
    case 400:
      return 'invalid request';
    case 404:
      return 'model not found, try pulling it first';
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
  if (base64Error(data) !== undefined) return { bytes: 0, width: 0, height: 0, format: 'invalid-base64' };
  const bytes = Buffer.from(data, 'base64');
  try {
    const { format, width, height } = await imageProcessor.probe(bytes);
    return { bytes: bytes.length, width, height, format };
  } catch {
    return { bytes: bytes.length, width: 0, height: 0, format: 'unknown' };
  }
}

function parseKeepAlive(value: unknown): number {
  if (value === undefined || value === null) return DEFAULT_KEEP_ALIVE_MS;
  if (typeof value === 'number') return value < 0 ? -1 : value * 1000;
  if (typeof value !== 'string') throw new HttpError(400, 'json: cannot unmarshal keep_alive');
  // A bare number is seconds in Ollama; otherwise it is a Go duration such as "5m" or "1h30m".
  if (/^-?\d+(\.\d+)?$/.test(value.trim())) return parseKeepAlive(Number(value));
  const match = /^(-?)((?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+)$/.exec(value.trim());
  if (match === null) throw new HttpError(400, `time: invalid duration "${value}"`);
  if (match[1] === '-') return -1;
  const unitMs: Record<string, number> = {
    ns: 1e-6,
    us: 1e-3,
    µs: 1e-3,
    ms: 1,
    s: 1000,
    m: 60_000,
    h: 3_600_000,
  };
  let total = 0;
  for (const part of match[2].matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) {
    total += Number(part[1]) * (unitMs[part[2]] ?? 1000);
  }
  return total;
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
