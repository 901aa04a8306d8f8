// One image's trace, as an OTLP collector receives it from the four processes started the way `npm start` starts
// them: gateway HTTP server → NATS publish → worker handler → resize → Ollama chat (GenAI attributes) → HTTP client.
import { createServer, type Server } from 'node:http';
import type { AnalyzeResponse } from '@argus/contracts';
import { multipartBody, photoJpeg } from '../support/fixtures';
import { freePort } from '../support/nats-harness';
import { OllamaStandIn } from '../support/ollama-stand-in';
import { startSpawnedStack, type SpawnedStack } from '../support/spawned-stack';

jest.setTimeout(180_000);

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  boolValue?: boolean;
  doubleValue?: number;
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes?: Array<{ key: string; value: OtlpValue }>;
}
interface CollectedSpan extends OtlpSpan {
  service: string;
  attrs: Record<string, string | number | boolean | undefined>;
}

/** OTLP span kinds (the JSON encoding uses the proto enum numbers). */
const KIND = { internal: 1, server: 2, client: 3, producer: 4, consumer: 5 } as const;

const spans: CollectedSpan[] = [];
let receiver: Server;
let stack: SpawnedStack;
let ollama: OllamaStandIn;

/** A minimal OTLP/HTTP JSON receiver: what `@opentelemetry/exporter-trace-otlp-http` sends to a collector. */
function startReceiver(port: number): Promise<Server> {
  const server = createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (body += chunk));
    request.on('end', () => {
      const payload = JSON.parse(body || '{}') as {
        resourceSpans?: Array<{
          resource?: { attributes?: Array<{ key: string; value: OtlpValue }> };
          scopeSpans?: Array<{ spans?: OtlpSpan[] }>;
        }>;
      };
      for (const resourceSpans of payload.resourceSpans ?? []) {
        const service =
          resourceSpans.resource?.attributes?.find((attribute) => attribute.key === 'service.name')?.value
            .stringValue ?? 'unknown';
        for (const scope of resourceSpans.scopeSpans ?? []) {
          for (const span of scope.spans ?? []) {
            const attrs = Object.fromEntries(
              (span.attributes ?? []).map(({ key, value }) => [
                key,
                value.stringValue ?? value.boolValue ?? value.doubleValue ?? Number(value.intValue),
              ]),
            );
            spans.push({ ...span, service, attrs });
          }
        }
      }
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  return new Promise((resolve) =>
    server.listen(port, '127.0.0.1', () => {
      resolve(server);
    }),
  );
}

beforeAll(async () => {
  const otlpPort = await freePort();
  receiver = await startReceiver(otlpPort);
  ollama = await OllamaStandIn.start({ models: [{ name: 'qwen2.5vl:3b' }] });
  stack = await startSpawnedStack({
    OLLAMA_HOST: ollama.url,
    ARGUS_TIERS: 'small',
    OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${otlpPort}`,
    OTEL_BSP_SCHEDULE_DELAY: '200',
  });
});

afterAll(async () => {
  await stack.stop();
  await ollama.stop();
  await new Promise((resolve) => receiver.close(resolve));
});

async function spansOf(
  traceId: string,
  until: (found: CollectedSpan[]) => boolean,
): Promise<CollectedSpan[]> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const found = spans.filter((span) => span.traceId === traceId);
    if (until(found) || Date.now() > deadline) return found;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

function ancestors(span: CollectedSpan, all: CollectedSpan[]): CollectedSpan[] {
  const chain: CollectedSpan[] = [];
  let current: CollectedSpan | undefined = span;
  while (current?.parentSpanId) {
    const parentId: string = current.parentSpanId;
    current = all.find((candidate) => candidate.spanId === parentId);
    if (current) chain.push(current);
  }
  return chain;
}

describe('the trace of one image', () => {
  it('links gateway, NATS, worker, resize and the Ollama chat in one tree with GenAI attributes', async () => {
    const response = await fetch(`${stack.gatewayUrl}/v1/analyze`, {
      method: 'POST',
      body: multipartBody(await photoJpeg(1600, 1200), { tier: 'small', tasks: 'ocr' }),
    });
    expect(response.status).toBe(200);
    const { traceId } = (await response.json()) as AnalyzeResponse;

    // Parents end after their children, so the root (the gateway's server span) arrives last.
    const found = await spansOf(traceId, (all) =>
      all.some((span) => span.service === 'argus-gateway' && span.kind === KIND.server),
    );
    const byName = (predicate: (span: CollectedSpan) => boolean, what: string) => {
      const span = found.find(predicate);
      if (!span)
        throw new Error(`no ${what} span in trace ${traceId}; got ${found.map((s) => s.name).join(', ')}`);
      return span;
    };
    const server = byName(
      (span) => span.service === 'argus-gateway' && span.kind === KIND.server && !span.parentSpanId,
      'gateway HTTP server',
    );
    const publish = byName(
      (span) => span.kind === KIND.producer && span.name === 'argus.v1.ocr.analyze publish',
      'NATS publish',
    );
    const handler = byName(
      (span) => span.kind === KIND.consumer && span.name === 'argus.v1.ocr.analyze process',
      'worker handler',
    );
    const resize = byName((span) => span.name === 'resize for model', 'resize');
    const chat = byName((span) => span.attrs['gen_ai.operation.name'] === 'chat', 'Ollama chat');
    const http = byName(
      (span) => span.kind === KIND.client && span.parentSpanId === chat.spanId,
      'HTTP client call to Ollama',
    );

    expect(publish.service).toBe('argus-gateway');
    expect(handler.service).toBe('argus-ocr');
    expect(ancestors(publish, found)).toContain(server);
    expect(handler.parentSpanId).toBe(publish.spanId);
    expect(ancestors(resize, found)).toContain(handler);
    expect(ancestors(chat, found)).toContain(handler);
    expect(chat.kind).toBe(KIND.client);
    expect(chat.attrs).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'ollama',
      'gen_ai.request.model': 'qwen2.5vl:3b',
    });
    expect(chat.attrs['gen_ai.usage.input_tokens']).toBeGreaterThan(0);
    expect(chat.attrs['gen_ai.usage.output_tokens']).toBeGreaterThan(0);
    // The stand-in saw the same trace in the traceparent of the request that span describes.
    const chatRequest = ollama.chats.at(-1);
    expect(chatRequest?.headers.traceparent).toBe(`00-${traceId}-${http.spanId}-01`);
    expect(new Set(found.map((span) => span.traceId))).toEqual(new Set([traceId]));
  });
});
