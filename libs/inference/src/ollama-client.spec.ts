import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { ArgusError, modelOutputJsonSchema } from '@argus/contracts';
import { OllamaStandIn } from '../../../test/support/ollama-stand-in';
import { OllamaClient, type VisionChatRequest } from './ollama-client';

const exporter = new InMemorySpanExporter();
const MODEL = 'qwen2.5vl:3b';
let standIn: OllamaStandIn;
let engine: OllamaClient;
// A grey 28×28 PNG: the stand-in checks that images decode, and qwen2.5vl's runner panics under 28 px a side.
const PIXEL =
  'iVBORw0KGgoAAAANSUhEUgAAABwAAAAcCAIAAAD9b0jDAAAACXBIWXMAAAPoAAAD6AG1e1JrAAAAL0lEQVR4nO3QMQEAAAyDMKRX+kywDwTkgD1EqB4+udCHCNXDJxf6EKF6+ORC5z892aGYPYtb91AAAAAASUVORK5CYII=';

beforeAll(async () => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(
    new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }),
  );
  standIn = await OllamaStandIn.start({ models: [{ name: MODEL }] });
  engine = new OllamaClient({ host: standIn.url, keepAlive: '30m', numCtx: 8192 });
});

afterAll(async () => {
  await standIn.stop();
  trace.disable();
  context.disable();
});

beforeEach(() => {
  exporter.reset();
  standIn.script(undefined);
});

const chat = (
  signal: AbortSignal = AbortSignal.timeout(5_000),
  extra: Partial<VisionChatRequest> = {},
  on: OllamaClient = engine,
) =>
  on.chat({
    model: MODEL,
    system: 'system',
    prompt: 'describe',
    image: Buffer.from(PIXEL, 'base64'),
    format: modelOutputJsonSchema('ocr'),
    signal,
    numPredict: 512,
    ...extra,
  });

describe('OllamaClient', () => {
  it('streams a chat with fixed runner options and records a GenAI client span with token usage', async () => {
    standIn.script(() => ({
      content: '{"text":"","lines":[]}',
      promptEvalCount: 321,
      evalCount: 12,
      loadDurationNs: 2e9,
    }));
    const result = await chat();
    expect(result).toMatchObject({
      content: '{"text":"","lines":[]}',
      usage: { inputTokens: 321, outputTokens: 12 },
    });
    expect(result.seconds.load).toBeCloseTo(2);
    expect(result.doneReason).toBe('stop');
    expect(standIn.chats[0]).toMatchObject({
      stream: true,
      keepAlive: '30m',
      options: { temperature: 0, num_ctx: 8192, num_predict: 512 },
    });
    // Thinking-capable models think unless told not to: `think: false` goes on every chat by default.
    expect(standIn.chats[0]?.body).toMatchObject({ think: false });

    const [span] = exporter.getFinishedSpans();
    expect(span.name).toBe(`chat ${MODEL}`);
    expect(span.kind).toBe(SpanKind.CLIENT);
    expect(span.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'ollama',
      'gen_ai.request.model': MODEL,
      'gen_ai.usage.input_tokens': 321,
      'gen_ai.usage.output_tokens': 12,
    });
  });

  it('returns done_reason length for an answer cut off at num_predict, with the span saying so', async () => {
    standIn.script(() => ({ content: '{"text":"Ingredients: wat', doneReason: 'length', evalCount: 512 }));
    const result = await chat();
    expect(result).toMatchObject({
      content: '{"text":"Ingredients: wat',
      doneReason: 'length',
      usage: { outputTokens: 512 },
    });
    expect(exporter.getFinishedSpans()[0]?.attributes).toMatchObject({
      'gen_ai.response.finish_reasons': ['length'],
      'gen_ai.request.max_tokens': 512,
    });
  });

  it('asks for a shorter answer after a cut-off one, without sending the cut-off text back', async () => {
    standIn.script(() => ({ content: '{"text":"","lines":[]}' }));
    await chat(undefined, {
      repair: { previousAnswer: '{"text":"aaaa', problem: 'cut off', truncated: true },
    });
    const messages = standIn.chats.at(-1)?.messages ?? [];
    expect(messages.map((message) => message.role)).toEqual(['system', 'user', 'user']);
    expect(messages[2]?.content).toMatch(/cut off at the limit of 512 tokens/);
    expect(messages[2]?.content).toMatch(/fewer items and shorter strings/);
    expect(JSON.stringify(messages)).not.toContain('aaaa');
  });

  it('shows an invalid answer back to the model on a schema repair', async () => {
    standIn.script(() => ({ content: '{"text":"","lines":[]}' }));
    await chat(undefined, { repair: { previousAnswer: '{"text":1}', problem: 'text must be a string' } });
    const messages = standIn.chats.at(-1)?.messages ?? [];
    expect(messages.map((message) => message.role)).toEqual(['system', 'user', 'assistant', 'user']);
    expect(messages[3]?.content).toMatch(/does not match the required schema \(text must be a string\)/);
  });

  it('sends think when the catalog asks, and never puts message.thinking into the answer', async () => {
    const { server, url, bodies } = await thinkingServer([
      { message: { role: 'assistant', content: '', thinking: 'The label reads ' }, done: false },
      { message: { role: 'assistant', content: '', thinking: 'SALT.' }, done: false },
      { message: { role: 'assistant', content: '{"text":"SALT",' }, done: false },
      { message: { role: 'assistant', content: '"lines":[{"text":"SALT"}]}' }, done: false },
      {
        model: MODEL,
        message: { role: 'assistant', content: '' },
        done: true,
        done_reason: 'stop',
        prompt_eval_count: 40,
        eval_count: 30,
      },
    ]);
    try {
      const thinker = new OllamaClient({ host: url, keepAlive: '30m', numCtx: 8192 });
      const result = await chat(undefined, { think: true, numPredict: 900 }, thinker);
      expect(bodies[0]).toMatchObject({ think: true, options: { num_predict: 900, num_ctx: 8192 } });
      expect(result.content).toBe('{"text":"SALT","lines":[{"text":"SALT"}]}');
      expect(JSON.stringify(result)).not.toContain('label reads');
      expect(exporter.getFinishedSpans()[0]?.attributes).toMatchObject({ 'argus.thinking_chars': 21 });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it.each([
    [{ status: 503, error: 'server busy' }, 'UPSTREAM_BUSY', 'busy'],
    [{ status: 404, error: 'model not found' }, 'MODEL_UNAVAILABLE', 'missing'],
    [{ status: 500, error: 'runner crashed' }, 'MODEL_UNAVAILABLE', 'server_error'],
    [{ midStreamError: 'llama runner process has terminated' }, 'MODEL_UNAVAILABLE', 'server_error'],
  ])('maps %j to %s (%s) and marks the span as an error', async (script, code, cause) => {
    standIn.script(() => script);
    const error = (await chat().catch((e: unknown) => e)) as ArgusError;
    expect(error).toBeInstanceOf(ArgusError);
    expect(error).toMatchObject({ code, details: { cause } });
    expect(exporter.getFinishedSpans()[0]?.status.code).toBe(SpanStatusCode.ERROR);
  });

  it('cuts off a server that never answers at the deadline, even before headers', async () => {
    standIn.script(() => ({ hang: true }));
    const started = Date.now();
    await expect(chat(AbortSignal.timeout(300))).rejects.toMatchObject({ code: 'INFERENCE_TIMEOUT' });
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('sends the image as the base64 Ollama decodes, and reuses one connection for every chat', async () => {
    const { server, url, bodies } = await thinkingServer([
      { message: { role: 'assistant', content: '{}' }, done: true, done_reason: 'stop' },
    ]);
    let connections = 0;
    server.on('connection', () => (connections += 1));
    try {
      const client = new OllamaClient({ host: url, keepAlive: '30m' });
      const image = Buffer.alloc(200_000, 7);
      for (let i = 0; i < 3; i++) await chat(undefined, { image }, client);
      const sent = bodies[0] as { messages: Array<{ role: string; images?: string[] }> };
      expect(sent.messages.map((message) => message.images?.length ?? 0)).toEqual([0, 1]);
      expect(Buffer.from(sent.messages[1]?.images?.[0] ?? '', 'base64').equals(image)).toBe(true);
      expect(connections).toBe(1);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('sends a chat again on a new connection when Ollama closed the kept-alive one while it was idle', async () => {
    let connections = 0;
    let answered = 0;
    const requestsOn = new Map<unknown, number>();
    // The first connection answers one chat and resets on the next: what a server that timed out an idle
    // connection looks like to a client that reuses it.
    const server = createServer((request, response) => {
      const count = (requestsOn.get(request.socket) ?? 0) + 1;
      requestsOn.set(request.socket, count);
      if (requestsOn.size === 1 && count === 2) {
        request.socket.resetAndDestroy();
        return;
      }
      request.resume();
      request.on('end', () => {
        answered += 1;
        response.writeHead(200, { 'content-type': 'application/x-ndjson' });
        response.end(
          `${JSON.stringify({ model: MODEL, message: { role: 'assistant', content: '{}' }, done: true })}\n`,
        );
      });
    });
    server.on('connection', () => (connections += 1));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const client = new OllamaClient({
        host: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        keepAlive: '30m',
      });
      await chat(undefined, {}, client);
      await expect(chat(undefined, {}, client)).resolves.toMatchObject({ doneReason: 'stop' });
      expect(connections).toBe(2);
      expect(answered).toBe(2);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it.each([
    [308, 'text/html', '<html>moved</html>', /HTTP 308: <html>moved<\/html>; .* redirects, so point/],
    [
      500,
      'application/json',
      '{"error":"llama runner process has terminated"}',
      /HTTP 500: llama runner process/,
    ],
    [502, 'text/html', `<html>${'x'.repeat(100_000)}</html>`, /HTTP 502: <html>x+$/],
  ])('reports HTTP %i with what the body says, cut short when long', async (status, type, text, expected) => {
    const server = createServer((request, response) => {
      request.resume();
      request.on('end', () => {
        response.writeHead(status, { 'content-type': type, location: 'https://elsewhere' });
        response.end(text);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const client = new OllamaClient({
        host: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        keepAlive: '30m',
      });
      const error = (await chat(undefined, {}, client).catch((e: unknown) => e)) as ArgusError;
      expect(error).toMatchObject({ code: 'MODEL_UNAVAILABLE', details: { cause: 'server_error' } });
      expect(error.message).toMatch(expected);
      expect(error.message.length).toBeLessThan(20_000);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('reports a chat to a host where nothing listens as an unreachable Ollama', async () => {
    const nowhere = new OllamaClient({ host: 'http://127.0.0.1:9', keepAlive: '1m' });
    await expect(chat(undefined, {}, nowhere)).rejects.toMatchObject({
      code: 'MODEL_UNAVAILABLE',
      details: { cause: 'unreachable' },
    });
  });

  it('reports model status from tags and show', async () => {
    await expect(engine.modelStatus(MODEL)).resolves.toMatchObject({ status: 'ready', ok: true });
    await expect(engine.modelStatus('llava:7b')).resolves.toMatchObject({ status: 'missing' });
    standIn.setModels([{ name: MODEL, capabilities: ['completion'] }]);
    await expect(engine.modelStatus(MODEL)).resolves.toMatchObject({ status: 'no-vision' });
    standIn.setModels([{ name: MODEL }]);
    const unreachable = new OllamaClient({ host: 'http://127.0.0.1:9', keepAlive: '1m' });
    await expect(unreachable.modelStatus(MODEL)).resolves.toMatchObject({ status: 'unreachable' });
  });

  it('finds a catalog name without a tag as Ollama does, as name:latest', async () => {
    standIn.setModels([{ name: MODEL }, { name: 'llava:latest' }]);
    try {
      await expect(engine.modelStatus('llava')).resolves.toMatchObject({ status: 'ready' });
      await expect(engine.modelStatus('llava:7b')).resolves.toMatchObject({ status: 'missing' });
    } finally {
      standIn.setModels([{ name: MODEL }]);
    }
  });

  it('sends a keep_alive of "-1" or "0" as a number, which Ollama accepts (a unitless string is a 400)', async () => {
    const forever = new OllamaClient({ host: standIn.url, keepAlive: '-1', numCtx: 8192 });
    standIn.reset();
    await expect(chat(undefined, {}, forever)).resolves.toMatchObject({ doneReason: 'stop' });
    expect(standIn.chats.at(-1)?.keepAlive).toBe(-1);
  });
});

/** A bare /api/chat that streams the given NDJSON lines: thinking output, which the stand-in may not script. */
async function thinkingServer(lines: object[]): Promise<{ server: Server; url: string; bodies: unknown[] }> {
  const bodies: unknown[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      bodies.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      response.writeHead(200, { 'content-type': 'application/x-ndjson' });
      for (const line of lines) response.write(`${JSON.stringify({ model: MODEL, ...line })}\n`);
      response.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}`, bodies };
}
