import { Ollama, type ChatResponse } from 'ollama';
import sharp from 'sharp';
import { z } from 'zod';
import {
  BUSY_ERROR,
  DEFAULT_THINKING,
  MALFORMED_CONTENT,
  OllamaStandIn,
  RUNNER_STOPPED_ERROR,
  estimateTokens,
  familyFromName,
  imageBudget,
  scriptSequence,
  type RecordedChat,
  type StandInOptions,
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
      expect(error.error).toBe("model 'nope:1b' not found");
    });

    it('matches a name without a tag to name:latest, and only to that', async () => {
      const tagless = await OllamaStandIn.start({ models: [{ name: 'llava' }, { name: MODEL }] });
      const client = new Ollama({ host: tagless.url });
      try {
        for (const model of ['llava', 'llava:latest']) {
          const res = await client.chat({ model, messages: [{ role: 'user', content: 'x' }] });
          expect(res.done).toBe(true);
        }
        expect((await client.show({ model: 'llava' })).details).toBeDefined();
        const error = await clientError(
          client.chat({ model: 'qwen2.5vl', messages: [{ role: 'user', content: 'x' }] }),
        );
        expect(error.status_code).toBe(404);
        expect(error.error).toBe("model 'qwen2.5vl' not found");
      } finally {
        await tagless.stop();
      }
    });

    it('answers 200 to images sent to a model without vision, and ignores them', async () => {
      const textOnly = await OllamaStandIn.start({
        models: [{ name: 'llama3.1:8b', capabilities: ['completion'] }],
      });
      try {
        const ask = async (image: string) => {
          const res = await postJson(`${textOnly.url}/api/chat`, {
            model: 'llama3.1:8b',
            stream: false,
            messages: [{ role: 'user', content: 'x', images: [image] }],
          });
          expect(res.status).toBe(200);
          return (await res.json()) as { prompt_eval_count: number; message: { content: string } };
        };
        const small = await ask(await pngBase64(32, 32));
        const large = await ask(await pngBase64(1600, 1200));
        // Not even decoded: bytes that are no image pass too.
        const junk = await ask(Buffer.from('not an image').toString('base64'));
        expect(small.message.content).toBe('stand-in answer');
        expect(large.prompt_eval_count).toBe(small.prompt_eval_count);
        expect(junk.prompt_eval_count).toBe(small.prompt_eval_count);
        expect(textOnly.chats[1]?.images[0]).toMatchObject({
          width: 1600,
          modelWidth: 0,
          modelHeight: 0,
          tokens: 0,
        });
      } finally {
        await textOnly.stop();
      }
    });

    it('500s an invalid format after scheduling (the model is loaded first), streamed or not', async () => {
      for (const stream of [false, true]) {
        const res = await postJson(`${standIn.url}/api/chat`, {
          model: MODEL,
          stream,
          format: 'xml',
          messages: [{ role: 'user', content: 'x' }],
        });
        expect(res.status).toBe(500);
        expect(res.headers.get('content-type')).toContain('application/json');
        expect(((await res.json()) as { error: string }).error).toBe(
          'invalid format: "\\"xml\\""; expected "json" or a valid JSON Schema object',
        );
      }
      expect(standIn.stats.loads[MODEL]).toBe(1);
    });

    it('400s a chat for a model without the completion capability', async () => {
      const embedder = await OllamaStandIn.start({
        models: [{ name: 'nomic-embed-text', capabilities: ['embedding'] }],
      });
      try {
        const error = await clientError(
          new Ollama({ host: embedder.url }).chat({
            model: 'nomic-embed-text',
            messages: [{ role: 'user', content: 'x' }],
          }),
        );
        expect(error.status_code).toBe(400);
        expect(error.error).toBe('"nomic-embed-text" does not support chat');
      } finally {
        await embedder.stop();
      }
    });

    it('400s think for a model without the thinking capability', async () => {
      const error = await clientError(
        ollama.chat({ model: MODEL, think: true, messages: [{ role: 'user', content: 'x' }] }),
      );
      expect(error.status_code).toBe(400);
      expect(error.error).toBe(`"${MODEL}" does not support thinking`);
      const res = await ollama.chat({
        model: MODEL,
        think: false,
        messages: [{ role: 'user', content: 'x' }],
      });
      expect(res.done).toBe(true);
    });

    it('500s what the runner cannot decode: a qwen image under 28 px, two images for mllama', async () => {
      const tiny = await postJson(`${standIn.url}/api/chat`, {
        model: MODEL,
        stream: false,
        messages: [{ role: 'user', content: 'x', images: [await pngBase64(20, 20)] }],
      });
      expect(tiny.status).toBe(500);
      expect(((await tiny.json()) as { error: string }).error).toBe(RUNNER_STOPPED_ERROR);

      const other = await OllamaStandIn.start({
        models: [{ name: 'gemma3:4b' }, { name: 'llama3.2-vision:11b' }],
      });
      try {
        const gemma = await postJson(`${other.url}/api/chat`, {
          model: 'gemma3:4b',
          stream: false,
          messages: [{ role: 'user', content: 'x', images: [await pngBase64(20, 20)] }],
        });
        expect(gemma.status).toBe(200);
        const image = await pngBase64(64, 64);
        const mllama = await postJson(`${other.url}/api/chat`, {
          model: 'llama3.2-vision:11b',
          stream: false,
          messages: [{ role: 'user', content: 'x', images: [image, image] }],
        });
        expect(mllama.status).toBe(500);
        expect(((await mllama.json()) as { error: string }).error).toBe(
          'this model only supports one image while more than one image requested',
        );
      } finally {
        await other.stop();
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
    it('never refuses a chat for a loaded model: it waits for a slot without limit', async () => {
      const gpu = await OllamaStandIn.start({ gpu: { slots: 1, serviceTimeMs: 100, maxQueue: 0 } });
      const client = new Ollama({ host: gpu.url });
      try {
        await client.chat({ model: MODEL, messages: [{ role: 'user', content: 'warm up' }] });
        let queuedPeak = 0;
        const sampler = setInterval(() => {
          queuedPeak = Math.max(queuedPeak, gpu.stats.queued);
        }, 5);
        const results = await Promise.allSettled(
          Array.from({ length: 5 }, (_, i) =>
            client.chat({ model: MODEL, messages: [{ role: 'user', content: `${i}` }] }),
          ),
        ).finally(() => {
          clearInterval(sampler);
        });
        expect(results.every((r) => r.status === 'fulfilled')).toBe(true);
        expect(queuedPeak).toBeGreaterThanOrEqual(3);
        expect(gpu.stats).toMatchObject({
          maxConcurrent: 1,
          rejected: 0,
          completed: 6,
          inFlight: 0,
          queued: 0,
          pendingLoads: 0,
          loads: { [MODEL]: 1 },
        });
      } finally {
        await gpu.stop();
      }
    });

    it('503s with Ollama’s busy error only when the pending-load queue is full', async () => {
      const other = 'gemma3:4b';
      const gpu = await OllamaStandIn.start({
        models: [{ name: MODEL }, { name: other }],
        gpu: { slots: 1, serviceTimeMs: 0, maxQueue: 1, maxLoadedModels: 1 },
      });
      gpu.script((chat) => (chat.prompt === 'hold' ? { hang: true } : undefined));
      const ask = (model: string, content: string, signal?: AbortSignal): Promise<Response> =>
        postJson(
          `${gpu.url}/api/chat`,
          { model, stream: false, messages: [{ role: 'user', content }] },
          { signal: signal ?? AbortSignal.timeout(5_000) },
        );
      try {
        const holder = new AbortController();
        const held = ask(MODEL, 'hold', holder.signal).catch(() => undefined);
        await eventually(() => gpu.stats.inFlight === 1);
        // The scheduler takes the first load and waits for the loaded model to go idle (OLLAMA_MAX_LOADED_MODELS=1).
        const first = ask(other, 'a');
        await eventually(() => gpu.chats.length === 2);
        await new Promise((resolve) => setTimeout(resolve, 20));
        const second = ask(other, 'b');
        await eventually(() => gpu.stats.pendingLoads === 1);
        const third = await ask(other, 'c');
        expect(third.status).toBe(503);
        expect(await third.json()).toEqual({ error: BUSY_ERROR });
        // The loaded model still takes chats: they wait for its slot.
        const sameModel = ask(MODEL, 'd');
        await eventually(() => gpu.stats.queued === 1);
        holder.abort();
        await held;
        const answers = await Promise.all([sameModel, first, second]);
        expect(answers.map((r) => r.status)).toEqual([200, 200, 200]);
        expect(gpu.stats).toMatchObject({ rejected: 1, pendingLoads: 0, loads: { [MODEL]: 1, [other]: 1 } });
        expect((await new Ollama({ host: gpu.url }).ps()).models.map((m) => m.name)).toEqual([other]);
      } finally {
        await gpu.stop();
      }
    });

    it('reloads for a new num_ctx only after the old runner’s chats are done; chats for the old one go on', async () => {
      const gpu = await OllamaStandIn.start({ gpu: { slots: 1, serviceTimeMs: 0 } });
      gpu.script((chat) => (chat.prompt === 'hold' ? { hang: true } : undefined));
      const ask = (numCtx: number, content: string, signal?: AbortSignal): Promise<Response> =>
        postJson(
          `${gpu.url}/api/chat`,
          {
            model: MODEL,
            stream: false,
            options: { num_ctx: numCtx },
            messages: [{ role: 'user', content }],
          },
          { signal: signal ?? AbortSignal.timeout(5_000) },
        );
      try {
        const holder = new AbortController();
        const held = ask(4096, 'hold', holder.signal).catch(() => undefined);
        await eventually(() => gpu.stats.inFlight === 1);
        const bigger = ask(8192, 'x');
        await eventually(() => gpu.chats.length === 2);
        const same = ask(4096, 'y');
        await eventually(() => gpu.stats.queued === 1);
        expect(gpu.stats.loads[MODEL]).toBe(1);
        holder.abort();
        await held;
        expect((await same).status).toBe(200);
        expect((await bigger).status).toBe(200);
        expect(gpu.stats.loads[MODEL]).toBe(2);
        expect((await new Ollama({ host: gpu.url }).ps()).models[0]).toMatchObject({ context_length: 8192 });
      } finally {
        await gpu.stop();
      }
    });

    it('loads once for concurrent first chats, which wait for the load and are not pending loads', async () => {
      const gpu = await OllamaStandIn.start({
        gpu: { slots: 4, serviceTimeMs: 0, loadTimeMs: 150, maxQueue: 0 },
      });
      const client = new Ollama({ host: gpu.url });
      try {
        const started = Date.now();
        const cold = await Promise.all(
          Array.from({ length: 3 }, () =>
            client.chat({ model: MODEL, messages: [{ role: 'user', content: 'x' }] }),
          ),
        );
        expect(Date.now() - started).toBeGreaterThanOrEqual(140);
        expect(gpu.stats).toMatchObject({ rejected: 0, loads: { [MODEL]: 1 } });
        // load_duration is the time spent before the runner was ready, as routes.go measures it.
        for (const res of cold) expect(res.load_duration).toBeGreaterThanOrEqual(140_000_000);
        const warm = await client.chat({ model: MODEL, messages: [{ role: 'user', content: 'x' }] });
        expect(warm.load_duration).toBeLessThan(50_000_000);
      } finally {
        await gpu.stop();
      }
    });

    it.each([
      ['llama3.2-vision:11b', 'mllama', 1],
      ['qwen3-vl:8b', 'qwen3vl', 1],
      ['qwen3-vl:30b', 'qwen3vlmoe', 1],
      ['qwen2.5vl:7b', 'qwen25vl', 3],
      ['gemma3:4b', 'gemma3', 3],
    ])('gives %s (%s) %i parallel slot(s) with slots: 4', async (name, family, expected) => {
      expect(familyFromName(name)).toBe(family);
      const gpu = await OllamaStandIn.start({ models: [{ name }], gpu: { slots: 4, serviceTimeMs: 80 } });
      const client = new Ollama({ host: gpu.url });
      try {
        await Promise.all(
          Array.from({ length: 3 }, () =>
            client.chat({ model: name, messages: [{ role: 'user', content: 'x' }] }),
          ),
        );
        expect(gpu.maxConcurrent).toBe(expected);
      } finally {
        await gpu.stop();
      }
    });
  });

  describe('image budgets per family', () => {
    it.each([
      // qwen25vl: sides rounded half-to-even to multiples of 28, pixels within [56·56, 2<<20]; tokens + 2.
      ['qwen25vl', 640, 480, { modelWidth: 644, modelHeight: 476, tokens: 17 * 23 + 2 }],
      ['qwen25vl', 4000, 3000, { modelWidth: 1652, modelHeight: 1232, tokens: 59 * 44 + 2 }],
      ['qwen25vl', 70, 42, { modelWidth: 56, modelHeight: 56, tokens: 2 * 2 + 2 }],
      ['qwen25vl', 60, 30, { modelWidth: 84, modelHeight: 56, tokens: 3 * 2 + 2 }],
      // qwen3vl: factor 32, pixels within [65536, 2<<20].
      ['qwen3vl', 640, 480, { modelWidth: 640, modelHeight: 480, tokens: 20 * 15 + 2 }],
      ['gemma3', 1234, 321, { modelWidth: 896, modelHeight: 896, tokens: 260 }],
      // mllama: the smallest 560-px canvas at the chosen scale; no prompt tokens (cross-attention).
      ['mllama', 1000, 500, { modelWidth: 1120, modelHeight: 560, tokens: 0, tiles: 2 }],
      ['mllama', 300, 200, { modelWidth: 560, modelHeight: 560, tokens: 0, tiles: 1 }],
    ])('%s %i×%i', (family, width, height, expected) => {
      expect(imageBudget(family, { width, height })).toEqual(expected);
    });

    it('records the model size and tokens, and charges them in prompt_eval_count', async () => {
      const ask = async (model: string, width: number, height: number) => {
        const res = await postJson(`${multi.url}/api/chat`, {
          model,
          stream: false,
          messages: [{ role: 'user', content: 'abcd', images: [await pngBase64(width, height)] }],
        });
        return ((await res.json()) as { prompt_eval_count: number }).prompt_eval_count;
      };
      const multi = await OllamaStandIn.start({ models: [{ name: MODEL }, { name: 'gemma3:4b' }] });
      try {
        expect(await ask(MODEL, 640, 480)).toBe(1 + 17 * 23 + 2);
        expect(await ask('gemma3:4b', 640, 480)).toBe(1 + 260);
        expect(multi.chats[0]?.images[0]).toMatchObject({
          width: 640,
          height: 480,
          modelWidth: 644,
          modelHeight: 476,
        });
        expect(multi.chats[1]?.images[0]).toMatchObject({ modelWidth: 896, modelHeight: 896, tokens: 260 });
      } finally {
        await multi.stop();
      }
    });
  });

  describe('output', () => {
    const thinker: StandInOptions = {
      models: [{ name: 'qwen3-vl:8b', capabilities: ['completion', 'vision', 'thinking'] }],
      output: 'realistic',
    };

    async function streamed(url: string, body: Record<string, unknown>) {
      const lines = ndjson(await (await postJson(`${url}/api/chat`, body)).text());
      const messages = lines.map((l) => l.message as { content: string; thinking?: string });
      return {
        lines,
        thinking: messages.map((m) => m.thinking ?? '').join(''),
        content: messages.map((m) => m.content).join(''),
        final: lines.at(-1) as { done_reason: string; eval_count: number; prompt_eval_count: number },
      };
    }

    it('realistic: 0..1 numbers as percents, integers untouched, pretty JSON with a trailing newline', async () => {
      const realistic = await OllamaStandIn.start({ output: 'realistic' });
      try {
        const res = await new Ollama({ host: realistic.url }).chat({
          model: MODEL,
          format,
          messages: [{ role: 'user', content: 'x' }],
        });
        const content = res.message.content;
        expect(content.startsWith('{\n  "')).toBe(true);
        expect(content.endsWith('}\n')).toBe(true);
        const parsed = JSON.parse(content) as {
          confidence: number;
          count: number;
          labels: { score: number }[];
        };
        expect(parsed.confidence).toBe(50);
        expect(parsed.count).toBe(2);
        expect(() => resultSchema.parse(parsed)).toThrow();

        realistic.script(() => ({ output: 'perfect' }));
        const perfect = await new Ollama({ host: realistic.url }).chat({
          model: MODEL,
          format,
          messages: [{ role: 'user', content: 'x' }],
        });
        expect(() => resultSchema.parse(JSON.parse(perfect.message.content))).not.toThrow();
        expect(perfect.message.content).not.toContain('\n');
      } finally {
        await realistic.stop();
      }
    });

    it('thinking streams first in message.thinking; with a format eval_count is the second pass only', async () => {
      const thinking = await OllamaStandIn.start(thinker);
      try {
        const base = { model: 'qwen3-vl:8b', messages: [{ role: 'user', content: 'abcd' }] };
        const withFormat = await streamed(thinking.url, { ...base, format });
        expect(withFormat.thinking).toBe(DEFAULT_THINKING);
        const firstContent = withFormat.lines.findIndex(
          (l) => (l.message as { content: string }).content !== '',
        );
        const lastThinking = withFormat.lines.findLastIndex(
          (l) => (l.message as { thinking?: string }).thinking,
        );
        expect(lastThinking).toBeLessThan(firstContent);
        expect(JSON.parse(withFormat.content)).toMatchObject({ confidence: 50 });
        expect(withFormat.final.eval_count).toBe(estimateTokens(withFormat.content));
        expect(withFormat.final.prompt_eval_count).toBe(1 + estimateTokens(DEFAULT_THINKING));

        const plain = await streamed(thinking.url, base);
        expect(plain.thinking).toBe(DEFAULT_THINKING);
        expect(plain.content).toBe('stand-in answer');
        expect(plain.final.eval_count).toBe(
          estimateTokens(DEFAULT_THINKING) + estimateTokens('stand-in answer'),
        );

        const off = await streamed(thinking.url, { ...base, think: false });
        expect(off.thinking).toBe('');
        expect(off.lines.some((l) => 'thinking' in (l.message as object))).toBe(false);

        const whole = await new Ollama({ host: thinking.url }).chat({ ...base, stream: false });
        expect(whole.message.thinking).toBe(DEFAULT_THINKING);
      } finally {
        await thinking.stop();
      }
    });

    it('cuts the answer at num_predict (1 token ≈ 4 characters) with done_reason length, in perfect mode too', async () => {
      standIn.script(() => ({ content: 'x'.repeat(100) }));
      const cut = await streamed(standIn.url, {
        model: MODEL,
        options: { num_predict: 5 },
        messages: [{ role: 'user', content: 'x' }],
      });
      expect(cut.content).toBe('x'.repeat(20));
      expect(cut.final).toMatchObject({ done_reason: 'length', eval_count: 5 });
      const whole = await streamed(standIn.url, {
        model: MODEL,
        options: { num_predict: 25 },
        messages: [{ role: 'user', content: 'x' }],
      });
      expect(whole.final).toMatchObject({ done_reason: 'stop', eval_count: 25 });
    });

    it('caps num_predict at 10 × num_ctx when unset or larger', async () => {
      const text = await OllamaStandIn.start({
        models: [{ name: 'llama3.1:8b', capabilities: ['completion'] }],
      });
      text.script(() => ({ content: 'y'.repeat(400) }));
      try {
        for (const options of [
          { num_ctx: 4 },
          { num_ctx: 4, num_predict: 1000 },
          { num_ctx: 4, num_predict: -1 },
        ]) {
          const res = await streamed(text.url, {
            model: 'llama3.1:8b',
            options,
            messages: [{ role: 'user', content: 'x' }],
          });
          expect(res.content).toHaveLength(160);
          expect(res.final).toMatchObject({ done_reason: 'length', eval_count: 40 });
        }
      } finally {
        await text.stop();
      }
    });

    it('ends with length and no content when the thinking alone reaches num_predict', async () => {
      const thinking = await OllamaStandIn.start(thinker);
      try {
        const res = await streamed(thinking.url, {
          model: 'qwen3-vl:8b',
          format,
          options: { num_predict: 10 },
          messages: [{ role: 'user', content: 'x' }],
        });
        expect(res.thinking).toBe(DEFAULT_THINKING.slice(0, 40));
        expect(res.content).toBe('');
        expect(res.final).toMatchObject({ done_reason: 'length', eval_count: 10 });
      } finally {
        await thinking.stop();
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
        {
          format: 'png',
          width: 120,
          height: 80,
          bytes: expect.any(Number) as number,
          // qwen2.5vl's SmartResize: 80 → 84 and 120 → 112 (multiples of 28); 3 × 4 merged patches + 2.
          modelWidth: 112,
          modelHeight: 84,
          tokens: 14,
        },
      ]);
      expect(chat.think).toBeUndefined();
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
      await expect(ollama.show({ model: 'missing:1b' })).rejects.toMatchObject({
        status_code: 404,
        error: "model 'missing:1b' not found",
      });
    });

    it('parses keep_alive as api.Duration: seconds, Go durations, negative = forever, a bare string is an error', async () => {
      const ask = (keepAlive: unknown) =>
        postJson(`${standIn.url}/api/chat`, {
          model: MODEL,
          stream: false,
          keep_alive: keepAlive,
          messages: [{ role: 'user', content: 'x' }],
        });
      const expiry = async () => Date.parse(String((await ollama.ps()).models[0]?.expires_at));
      for (const [value, error] of [
        ['300', 'time: missing unit in duration "300"'],
        ['-1', 'time: missing unit in duration "-1"'],
        ['1d', 'time: unknown unit "d" in duration "1d"'],
        ['soon', 'time: invalid duration "soon"'],
      ]) {
        const res = await ask(value);
        expect(res.status).toBe(400);
        expect(await res.json()).toEqual({ error: error });
      }
      for (const value of [-1, '-1m']) {
        expect((await ask(value)).status).toBe(200);
        expect(await expiry()).toBe(Date.parse('2318-01-01T00:00:00Z'));
      }
      expect((await ask('1h30m')).status).toBe(200);
      expect(Math.abs((await expiry()) - Date.now() - 90 * 60_000)).toBeLessThan(5_000);
      expect((await ask(120)).status).toBe(200);
      expect(Math.abs((await expiry()) - Date.now() - 120_000)).toBeLessThan(5_000);
    });

    it('loads and unloads with an empty conversation, answering plain JSON even when streaming', async () => {
      const load = await postJson(`${standIn.url}/api/chat`, { model: MODEL, messages: [] });
      expect(load.headers.get('content-type')).toContain('application/json');
      expect(await load.json()).toMatchObject({ done: true, done_reason: 'load', message: { content: '' } });
      expect((await ollama.ps()).models).toHaveLength(1);
      const unload = await postJson(`${standIn.url}/api/chat`, { model: MODEL, messages: [], keep_alive: 0 });
      expect(await unload.json()).toMatchObject({ done: true, done_reason: 'unload' });
      expect((await ollama.ps()).models).toEqual([]);
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
      // PullModel streams "pulling manifest" before it asks the registry, so a missing model is a 200 stream that
      // ends with an error line (the client throws it), or a 500 without streaming.
      const missing = await postJson(`${standIn.url}/api/pull`, { model: 'nope:1b' });
      expect(missing.status).toBe(200);
      expect(ndjson(await missing.text())).toEqual([
        { status: 'pulling manifest' },
        { error: 'pull model manifest: file does not exist' },
      ]);
      const seen: string[] = [];
      await expect(
        (async () => {
          for await (const part of await client.pull({ model: 'nope:1b', stream: true }))
            seen.push(part.status);
        })(),
      ).rejects.toThrow('pull model manifest: file does not exist');
      expect(seen).toEqual(['pulling manifest']);
      const whole = await postJson(`${standIn.url}/api/pull`, { model: 'nope:1b', stream: false });
      expect(whole.status).toBe(500);
      expect(await whole.json()).toEqual({ error: 'pull model manifest: file does not exist' });
    } finally {
      await standIn.stop();
    }
  });
});
