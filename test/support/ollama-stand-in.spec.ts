import { Ollama, type ChatResponse } from 'ollama';
import sharp from 'sharp';
import { z } from 'zod';
import {
  BUSY_ERROR,
  MALFORMED_CONTENT,
  OllamaStandIn,
  scriptSequence,
  type RecordedChat,
} from './ollama-stand-in';

jest.setTimeout(15_000);

const MODEL = 'qwen2.5vl:7b';
const resultSchema = z.object({
  decision: z.enum(['allow', 'review', 'block']),
  confidence: z.number().min(0).max(1),
  labels: z.array(z.object({ id: z.string().min(3), score: z.number() })).min(1),
  note: z.string().nullable(),
  count: z.number().int().min(2),
  flags: z.record(z.string(), z.boolean()),
});
// Argus strips $schema before sending (llama.cpp does not need it); do the same so `format` is recorded as sent.
const format: Record<string, unknown> = { ...z.toJSONSchema(resultSchema) };
delete format.$schema;

/** ollama 0.6.4 throws a ResponseError for HTTP errors but does not export the class; match its shape. */
interface ClientResponseError extends Error {
  error: string;
  status_code: number;
}

async function clientError(call: Promise<unknown>): Promise<ClientResponseError> {
  const error = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof Error) || error.name !== 'ResponseError') {
    throw new Error(`expected an ollama ResponseError, got ${String(error)}`);
  }
  return error as ClientResponseError;
}

async function pngBase64(width: number, height: number): Promise<string> {
  const png = await sharp({ create: { width, height, channels: 3, background: '#336699' } })
    .png()
    .toBuffer();
  return png.toString('base64');
}

async function postJson(url: string, body: unknown, init: RequestInit = {}): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(init.headers as Record<string, string> | undefined) },
    body: JSON.stringify(body),
    signal: init.signal ?? AbortSignal.timeout(5_000),
  });
}

function ndjson(text: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** Polls a condition with a deadline, for effects that land after a socket closes. */
async function eventually(check: () => boolean, ms = 3_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('OllamaStandIn', () => {
  let standIn: OllamaStandIn;
  let ollama: Ollama;

  beforeAll(async () => {
    standIn = await OllamaStandIn.start();
    ollama = new Ollama({ host: standIn.url });
  });

  afterEach(() => {
    standIn.reset();
  });

  afterAll(async () => {
    await standIn.stop();
  });

  describe('chat with a JSON schema format', () => {
    it('streams chunks that join into JSON valid for the schema (ollama client)', async () => {
      const stream = await ollama.chat({
        model: MODEL,
        messages: [{ role: 'user', content: 'classify', images: [await pngBase64(64, 48)] }],
        format,
        stream: true,
      });
      const parts: ChatResponse[] = [];
      for await (const part of stream) parts.push(part);

      expect(parts.length).toBeGreaterThan(2);
      expect(parts.slice(0, -1).every((p) => !p.done)).toBe(true);
      const last = parts.at(-1)!;
      expect(last).toMatchObject({ model: MODEL, done: true, done_reason: 'stop', message: { content: '' } });
      for (const field of [
        'total_duration',
        'load_duration',
        'prompt_eval_duration',
        'eval_duration',
      ] as const) {
        expect(last[field]).toBeGreaterThan(0);
      }
      expect(last.prompt_eval_count).toBeGreaterThan(0);
      expect(last.eval_count).toBeGreaterThan(0);

      const parsed = resultSchema.parse(JSON.parse(parts.map((p) => p.message.content).join('')));
      expect(parsed).toMatchObject({ decision: 'allow', confidence: 0.5, count: 2, flags: {} });
      expect(parsed.labels).toHaveLength(1);
    });

    it('answers one JSON object when stream is false (ollama client)', async () => {
      const res = await ollama.chat({
        model: MODEL,
        messages: [{ role: 'user', content: 'classify' }],
        format,
      });
      expect(res.done).toBe(true);
      expect(res.done_reason).toBe('stop');
      expect(res.eval_count).toBeGreaterThan(0);
      expect(() => resultSchema.parse(JSON.parse(res.message.content))).not.toThrow();
    });

    it('streams NDJSON by default over raw HTTP, like Ollama', async () => {
      const res = await postJson(`${standIn.url}/api/chat`, {
        model: MODEL,
        messages: [{ role: 'user', content: 'hi' }],
        format,
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/x-ndjson');
      const lines = ndjson(await res.text());
      expect(lines.at(-1)).toMatchObject({ done: true, done_reason: 'stop' });
      const content = lines.map((l) => (l.message as { content: string }).content).join('');
      expect(() => resultSchema.parse(JSON.parse(content))).not.toThrow();
      expect(standIn.chats[0]?.stream).toBe(true);
    });

    it('returns {} for format "json" and plain text without a format', async () => {
      const json = await ollama.chat({
        model: MODEL,
        messages: [{ role: 'user', content: 'x' }],
        format: 'json',
      });
      expect(json.message.content).toBe('{}');
      const text = await ollama.chat({ model: MODEL, messages: [{ role: 'user', content: 'x' }] });
      expect(text.message.content).toBe('stand-in answer');
    });
  });

  describe('errors', () => {
    it('404s an unknown model with a ResponseError from the client', async () => {
      const error = await clientError(
        ollama.chat({ model: 'nope:1b', messages: [{ role: 'user', content: 'x' }] }),
      );
      expect(error.status_code).toBe(404);
      expect(error.error).toBe('model "nope:1b" not found, try pulling it first');
    });

    it('400s images sent to a model without vision', async () => {
      const textOnly = await OllamaStandIn.start({
        models: [{ name: 'llama3.1:8b', capabilities: ['completion'] }],
      });
      try {
        const res = await postJson(`${textOnly.url}/api/chat`, {
          model: 'llama3.1:8b',
          stream: false,
          messages: [{ role: 'user', content: 'x', images: [await pngBase64(32, 32)] }],
        });
        expect(res.status).toBe(400);
        expect(res.headers.get('content-type')).toContain('application/json');
        expect(((await res.json()) as { error: string }).error).toContain('does not support vision');
      } finally {
        await textOnly.stop();
      }
    });

    it('400s image strings that are not base64 (e.g. a data URL)', async () => {
      const res = await postJson(`${standIn.url}/api/chat`, {
        model: MODEL,
        messages: [{ role: 'user', content: 'x', images: ['data:image/png;base64,AAAA'] }],
      });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: string }).error).toMatch(
        /^illegal base64 data at input byte \d+$/,
      );
    });

    it('500s bytes that are not an image', async () => {
      const res = await postJson(`${standIn.url}/api/chat`, {
        model: MODEL,
        stream: false,
        messages: [{ role: 'user', content: 'x', images: [Buffer.from('not an image').toString('base64')] }],
      });
      expect(res.status).toBe(500);
      expect(standIn.chats[0]?.images[0]).toMatchObject({ format: 'unknown', bytes: 12 });
    });

    it('answers scripted HTTP errors with a JSON body', async () => {
      standIn.script(() => ({ status: 500, error: 'llama runner process has terminated' }));
      const error = await clientError(
        ollama.chat({ model: MODEL, messages: [{ role: 'user', content: 'x' }] }),
      );
      expect(error.status_code).toBe(500);
      expect(error.error).toBe('llama runner process has terminated');
    });

    it('surfaces a mid-stream error line as a thrown error from the client iterator', async () => {
      standIn.script(() => ({
        midStreamError: 'an error was encountered while running the model: GGML_ASSERT',
      }));
      const stream = await ollama.chat({
        model: MODEL,
        messages: [{ role: 'user', content: 'x' }],
        stream: true,
      });
      const seen: string[] = [];
      await expect(
        (async () => {
          for await (const part of stream) seen.push(part.message.content);
        })(),
      ).rejects.toThrow('an error was encountered while running the model: GGML_ASSERT');
      expect(seen).toHaveLength(1);
      expect(seen[0]).not.toBe('');
    });

    it('malformed content is not JSON, streamed or not', async () => {
      standIn.script(() => ({ malformed: true }));
      const res = await ollama.chat({ model: MODEL, messages: [{ role: 'user', content: 'x' }], format });
      expect(res.message.content).toBe(MALFORMED_CONTENT);
      expect(() => JSON.parse(res.message.content) as unknown).toThrow();
    });

    it('404s unknown routes and 405s wrong methods as plain text', async () => {
      const missing = await fetch(`${standIn.url}/api/nothing`, { signal: AbortSignal.timeout(5_000) });
      expect(missing.status).toBe(404);
      expect(await missing.text()).toBe('404 page not found');
      const wrong = await fetch(`${standIn.url}/api/chat`, { signal: AbortSignal.timeout(5_000) });
      expect(wrong.status).toBe(405);
    });
  });

  describe('hangs and delays', () => {
    it('a hung chat ends when the client aborts, and frees its slot', async () => {
      standIn.script(() => ({ hang: true }));
      const call = postJson(
        `${standIn.url}/api/chat`,
        { model: MODEL, stream: false, messages: [{ role: 'user', content: 'x' }] },
        { signal: AbortSignal.timeout(200) },
      );
      await expect(call).rejects.toMatchObject({ name: 'TimeoutError' });
      expect(standIn.chats).toHaveLength(1);
      await eventually(() => standIn.stats.inFlight === 0);
    });

    it('stop() ends hung requests', async () => {
      const other = await OllamaStandIn.start();
      other.script(() => ({ hang: true }));
      const call = postJson(`${other.url}/api/chat`, {
        model: MODEL,
        messages: [{ role: 'user', content: 'x' }],
      });
      await eventually(() => other.chats.length === 1);
      await other.stop();
      await expect(call).rejects.toThrow();
    });

    it('delayMs and chunkDelayMs combine with scripted content', async () => {
      standIn.script(() => ({ delayMs: 20, chunkDelayMs: 5, chunks: 3, content: '{"a":1}' }));
      const res = await postJson(`${standIn.url}/api/chat`, {
        model: MODEL,
        messages: [{ role: 'user', content: 'x' }],
      });
      const lines = ndjson(await res.text());
      expect(lines).toHaveLength(4);
      expect(lines.map((l) => (l.message as { content: string }).content).join('')).toBe('{"a":1}');
    });
  });

  describe('GPU emulation', () => {
    it('503s beyond slots + queue with Ollama’s busy error', async () => {
      const gpu = await OllamaStandIn.start({ gpu: { slots: 1, serviceTimeMs: 300, queueLimit: 0 } });
      const client = new Ollama({ host: gpu.url });
      try {
        const ask = (content: string): Promise<unknown> =>
          client.chat({ model: MODEL, messages: [{ role: 'user', content }] });
        const [first, second] = await Promise.allSettled([clientError(ask('a')), clientError(ask('b'))]);
        // Exactly one of the two was refused; the other one got its answer (so clientError rejected for it).
        const refused = [first, second].filter((r) => r.status === 'fulfilled');
        expect(refused).toHaveLength(1);
        const busy = refused[0].value;
        expect(busy.status_code).toBe(503);
        expect(busy.error).toBe(BUSY_ERROR);
        expect(gpu.rejected).toBe(1);
        expect(gpu.maxConcurrent).toBe(1);
      } finally {
        await gpu.stop();
      }
    });

    it('queues up to queueLimit and never exceeds the slots', async () => {
      const gpu = await OllamaStandIn.start({ gpu: { slots: 2, serviceTimeMs: 50, queueLimit: 3 } });
      const client = new Ollama({ host: gpu.url });
      try {
        const results = await Promise.allSettled(
          Array.from({ length: 5 }, (_, i) =>
            client.chat({ model: MODEL, messages: [{ role: 'user', content: `${i}` }] }),
          ),
        );
        expect(results.every((r) => r.status === 'fulfilled')).toBe(true);
        expect(gpu.maxConcurrent).toBe(2);
        expect(gpu.stats).toMatchObject({ rejected: 0, completed: 5, inFlight: 0, queued: 0 });
      } finally {
        await gpu.stop();
      }
    });
  });

  describe('recording', () => {
    it('records headers (traceparent), model, format, options, prompt and image sizes', async () => {
      const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
      const traced = new Ollama({ host: standIn.url, headers: { traceparent } });
      await traced.chat({
        model: MODEL,
        format,
        options: { temperature: 0, num_ctx: 4096 },
        keep_alive: '10m',
        messages: [
          { role: 'system', content: 'be terse' },
          {
            role: 'user',
            content: 'what is this?',
            images: [Buffer.from(await pngBase64(120, 80), 'base64')],
          },
        ],
      });

      const chat: RecordedChat = standIn.chats[0];
      expect(chat.headers.traceparent).toBe(traceparent);
      expect(chat).toMatchObject({
        kind: 'chat',
        method: 'POST',
        path: '/api/chat',
        model: MODEL,
        format,
        stream: false,
        options: { temperature: 0, num_ctx: 4096 },
        keepAlive: '10m',
        prompt: 'what is this?',
      });
      expect(chat.images).toEqual([
        { format: 'png', width: 120, height: 80, bytes: expect.any(Number) as number },
      ]);
      expect(standIn.requests).toHaveLength(1);
    });

    it('records raw fetch headers too, lowercased', async () => {
      await postJson(
        `${standIn.url}/api/chat`,
        { model: MODEL, stream: false, messages: [{ role: 'user', content: 'x' }] },
        { headers: { TraceParent: '00-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-bbbbbbbbbbbbbbbb-01' } },
      );
      expect(standIn.requests[0]?.headers.traceparent).toBe(
        '00-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-bbbbbbbbbbbbbbbb-01',
      );
    });

    it('applies token and duration overrides, and scriptSequence runs steps in order', async () => {
      standIn.script(
        scriptSequence(
          { status: 503, error: BUSY_ERROR },
          { content: 'ok', promptEvalCount: 7, evalCount: 3, loadDurationNs: 1 },
        ),
      );
      await expect(
        ollama.chat({ model: MODEL, messages: [{ role: 'user', content: 'x' }] }),
      ).rejects.toMatchObject({
        status_code: 503,
      });
      const second = await ollama.chat({ model: MODEL, messages: [{ role: 'user', content: 'x' }] });
      expect(second).toMatchObject({
        message: { content: 'ok' },
        prompt_eval_count: 7,
        eval_count: 3,
        load_duration: 1,
      });
      const third = await ollama.chat({ model: MODEL, messages: [{ role: 'user', content: 'x' }] });
      expect(third.message.content).toBe('stand-in answer');
    });
  });

  describe('model endpoints', () => {
    it('GET /api/tags lists the pulled models', async () => {
      const { models } = await ollama.list();
      expect(models).toHaveLength(1);
      expect(models[0]).toMatchObject({
        name: MODEL,
        model: MODEL,
        size: expect.any(Number) as number,
        digest: expect.stringMatching(/^[0-9a-f]{64}$/) as string,
        details: { format: 'gguf', family: expect.any(String) as string, parameter_size: '7B' },
      });
      expect(Number.isNaN(Date.parse(String(models[0]?.modified_at)))).toBe(false);
    });

    it('POST /api/show returns capabilities and details, or 404', async () => {
      const show = await ollama.show({ model: MODEL });
      expect(show.capabilities).toEqual(['completion', 'vision']);
      expect(show.details).toMatchObject({ format: 'gguf' });
      expect(show.model_info).toBeDefined();
      await expect(ollama.show({ model: 'missing:1b' })).rejects.toMatchObject({ status_code: 404 });
    });

    it('GET /api/ps lists models that served a chat, with size_vram; keep_alive 0 unloads', async () => {
      const vram = await OllamaStandIn.start({
        models: [{ name: MODEL, sizeVram: 9_000_000_000 }, { name: 'gemma3:4b' }],
      });
      const client = new Ollama({ host: vram.url });
      try {
        expect((await client.ps()).models).toEqual([]);
        await client.chat({ model: MODEL, messages: [{ role: 'user', content: 'x' }] });
        const { models } = await client.ps();
        expect(models).toHaveLength(1);
        expect(models[0]).toMatchObject({ name: MODEL, model: MODEL, size_vram: 9_000_000_000 });
        expect(Date.parse(String(models[0]?.expires_at))).toBeGreaterThan(Date.now());

        await client.chat({ model: MODEL, messages: [{ role: 'user', content: 'x' }], keep_alive: 0 });
        expect((await client.ps()).models).toEqual([]);
      } finally {
        await vram.stop();
      }
    });

    it('counts a reload when num_ctx changes', async () => {
      const ask = (numCtx: number): Promise<unknown> =>
        ollama.chat({
          model: MODEL,
          options: { num_ctx: numCtx },
          messages: [{ role: 'user', content: 'x' }],
        });
      await ask(4096);
      await ask(4096);
      expect(standIn.stats.loads[MODEL]).toBe(1);
      await ask(8192);
      expect(standIn.stats.loads[MODEL]).toBe(2);
    });

    it('GET /api/version and the root probe', async () => {
      expect(await ollama.version()).toEqual({ version: '0.12.0' });
      const root = await fetch(`${standIn.url}/`, { signal: AbortSignal.timeout(5_000) });
      expect(root.status).toBe(200);
      expect(await root.text()).toBe('Ollama is running');
      const head = await fetch(`${standIn.url}/`, { method: 'HEAD', signal: AbortSignal.timeout(5_000) });
      expect(head.status).toBe(200);
    });
  });
});

describe('OllamaStandIn /api/pull', () => {
  it('streams progress for a registry model and then lists it', async () => {
    const standIn = await OllamaStandIn.start({
      models: [],
      registry: [{ name: 'qwen2.5vl:3b', size: 3_200_000_000 }],
    });
    try {
      const client = new Ollama({ host: standIn.url });
      const statuses: string[] = [];
      for await (const part of await client.pull({ model: 'qwen2.5vl:3b', stream: true }))
        statuses.push(part.status);
      expect(statuses[0]).toBe('pulling manifest');
      expect(statuses.at(-1)).toBe('success');
      expect((await client.list()).models.map((model) => model.name)).toEqual(['qwen2.5vl:3b']);
      await expect(client.pull({ model: 'nope:1b', stream: true })).rejects.toMatchObject({
        status_code: 500,
      });
    } finally {
      await standIn.stop();
    }
  });
});
