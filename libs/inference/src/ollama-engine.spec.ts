import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { ArgusError, modelOutputJsonSchema } from '@argus/contracts';
import { OllamaStandIn } from '../../../test/support/ollama-stand-in';
import { OllamaEngine } from './ollama-engine';

const exporter = new InMemorySpanExporter();
const MODEL = 'qwen2.5vl:3b';
let standIn: OllamaStandIn;
let engine: OllamaEngine;
// A 1×1 PNG: the stand-in checks that images decode.
const PIXEL =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';

beforeAll(async () => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(
    new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }),
  );
  standIn = await OllamaStandIn.start({ models: [{ name: MODEL }] });
  engine = new OllamaEngine({ host: standIn.url, keepAlive: '30m', numCtx: 8192 });
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

const chat = (signal: AbortSignal = AbortSignal.timeout(5_000)) =>
  engine.chat({
    model: MODEL,
    system: 'system',
    prompt: 'describe',
    imageBase64: PIXEL,
    format: modelOutputJsonSchema('ocr'),
    signal,
  });

describe('OllamaEngine', () => {
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
    expect(standIn.chats[0]).toMatchObject({
      stream: true,
      keepAlive: '30m',
      options: { temperature: 0, num_ctx: 8192 },
    });

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

  it('reports model status from tags and show', async () => {
    await expect(engine.modelStatus(MODEL)).resolves.toMatchObject({ status: 'ready', ok: true });
    await expect(engine.modelStatus('llava:7b')).resolves.toMatchObject({ status: 'missing' });
    standIn.setModels([{ name: MODEL, capabilities: ['completion'] }]);
    await expect(engine.modelStatus(MODEL)).resolves.toMatchObject({ status: 'no-vision' });
    standIn.setModels([{ name: MODEL }]);
    const unreachable = new OllamaEngine({ host: 'http://127.0.0.1:9', keepAlive: '1m' });
    await expect(unreachable.modelStatus(MODEL)).resolves.toMatchObject({ status: 'unreachable' });
  });
});
