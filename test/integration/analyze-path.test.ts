// The sync path with real NATS (JetStream object store included), the Ollama stand-in, and the gateway plus
// three workers running in this process exactly as their main() builds them.
import type { INestApplication } from '@nestjs/common';
import { loadGatewayConfig, loadWorkerConfig } from '@argus/config';
import { TASKS, type AnalyzeResponse, type Problem } from '@argus/contracts';
import { createWorkerApp } from '@argus/worker';
import { createGatewayApp } from '../../services/gateway/src/gateway.app';
import { multipartBody, photoJpeg, truncatedJpeg } from '../support/fixtures';
import { startNats, type NatsHarness } from '../support/nats-harness';
import { OllamaStandIn, scriptSequence } from '../support/ollama-stand-in';

jest.setTimeout(60_000);

let nats: NatsHarness;
let ollama: OllamaStandIn;
const workers = new Map<string, INestApplication>();
let gateway: INestApplication;
let gatewayUrl: string;
let photo: Buffer;

async function urlOf(app: INestApplication): Promise<string> {
  return (await app.getUrl()).replace('[::1]', '127.0.0.1');
}

async function startGateway(extraEnv: NodeJS.ProcessEnv = {}) {
  const app = await createGatewayApp(
    loadGatewayConfig({ NATS_URL: nats.url, PORT: '0', LOG_LEVEL: 'error', ...extraEnv }),
  );
  return { app, url: await urlOf(app) };
}

async function post(form: FormData, url = gatewayUrl) {
  const response = await fetch(`${url}/v1/analyze`, { method: 'POST', body: form });
  return { response, body: (await response.json()) as AnalyzeResponse & Problem };
}

beforeAll(async () => {
  nats = await startNats();
  ollama = await OllamaStandIn.start();
  photo = await photoJpeg();
  for (const task of TASKS) {
    const config = loadWorkerConfig(task, {
      NATS_URL: nats.url,
      OLLAMA_HOST: ollama.url,
      HTTP_PORT: '0',
      LOG_LEVEL: 'error',
    });
    workers.set(task, await createWorkerApp(config));
  }
  ({ app: gateway, url: gatewayUrl } = await startGateway());
});

afterEach(() => {
  ollama.script(undefined);
  ollama.reset();
});

afterAll(async () => {
  await gateway.close();
  for (const worker of workers.values()) await worker.close();
  await ollama.stop();
  await nats.stop();
});

describe('POST /v1/analyze', () => {
  it('returns all three results from the models, sending each the image at its input size and the task schema', async () => {
    const { response, body } = await post(multipartBody(photo));
    expect(response.status).toBe(200);
    expect(body.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(body.image).toMatchObject({ format: 'jpeg', width: 2048, height: 1365, bytes: photo.length });
    for (const task of TASKS)
      expect(body.results[task]).toMatchObject({ status: 'ok', engine: 'ollama', model: 'qwen2.5vl:7b' });
    expect(body.results.moderation).toHaveProperty('decision');
    expect(body.results.tagging).toHaveProperty('defects');
    expect(body.results.ocr).toHaveProperty('lines');

    const chats = ollama.chats;
    expect(chats).toHaveLength(3);
    const longSides = chats
      .map((chat) => Math.max(chat.images[0].width, chat.images[0].height))
      .sort((a, b) => a - b);
    expect(longSides).toEqual([1024, 1024, 1568]);
    for (const chat of chats) {
      expect(chat.stream).toBe(true);
      expect(chat.format).toMatchObject({ type: 'object' });
      expect(chat.options).toMatchObject({ temperature: 0 });
    }
  });

  it('accepts JSON with base64 and a task list, and a raw image body', async () => {
    const json = await fetch(`${gatewayUrl}/v1/analyze`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ imageBase64: photo.toString('base64'), tasks: ['ocr'] }),
    });
    expect(json.status).toBe(200);
    expect(Object.keys(((await json.json()) as AnalyzeResponse).results)).toEqual(['ocr']);

    const raw = await fetch(`${gatewayUrl}/v1/analyze?tasks=moderation`, {
      method: 'POST',
      headers: { 'content-type': 'image/jpeg' },
      body: new Uint8Array(photo),
    });
    expect(raw.status).toBe(200);
    expect(Object.keys(((await raw.json()) as AnalyzeResponse).results)).toEqual(['moderation']);
  });

  it('keeps the other results when one task fails', async () => {
    ollama.script((chat) => (chat.prompt.includes('Transcribe') ? { malformed: true } : undefined));
    const { response, body } = await post(multipartBody(photo));
    expect(response.status).toBe(200);
    expect(body.results.ocr).toMatchObject({ status: 'error', error: { code: 'INVALID_MODEL_OUTPUT' } });
    expect(body.results.moderation?.status).toBe('ok');
    expect(body.results.tagging?.status).toBe('ok');
  });

  it.each([
    [
      { status: 503, error: 'server busy, please try again.  maximum pending requests exceeded' },
      'UPSTREAM_BUSY',
      503,
    ],
    [
      { status: 404, error: 'model "qwen2.5vl:7b" not found, try pulling it first' },
      'MODEL_UNAVAILABLE',
      503,
    ],
    [{ midStreamError: 'llama runner process has terminated' }, 'MODEL_UNAVAILABLE', 503],
    [{ malformed: true }, 'INVALID_MODEL_OUTPUT', 502],
  ])('maps Ollama answer %j to %s for the request when every task fails', async (script, code, status) => {
    ollama.script(() => script);
    const { response, body } = await post(multipartBody(photo, { tasks: 'moderation,ocr' }));
    expect(response.status).toBe(status);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    expect(body.code).toBe(code);
    expect(body.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(body.results.moderation).toMatchObject({ status: 'error', error: { code } });
    if (status === 503) expect(response.headers.get('retry-after')).toBe('5');
  });

  it('answers a truncated JPEG with 422 problem+json and keeps serving', async () => {
    const { response, body } = await post(multipartBody(await truncatedJpeg()));
    expect(response.status).toBe(422);
    expect(body).toMatchObject({ code: 'IMAGE_DECODE_FAILED', status: 422 });
    expect(ollama.chats).toHaveLength(0);
    expect((await post(multipartBody(photo, { tasks: 'ocr' }))).response.status).toBe(200);
  });

  it.each([
    ['an unknown task', multipartBody(Buffer.from('x'), { tasks: 'faces' }), 400, 'INVALID_REQUEST'],
    ['an unknown field', multipartBody(Buffer.from('x'), { colour: 'red' }), 400, 'INVALID_REQUEST'],
    [
      'no file',
      (() => {
        const f = new FormData();
        f.append('tasks', 'ocr');
        return f;
      })(),
      400,
      'INVALID_REQUEST',
    ],
    [
      'an SVG',
      multipartBody(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>')),
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    ],
  ])('rejects %s with a stable code', async (_name, form, status, code) => {
    const { response, body } = await post(form);
    expect(response.status).toBe(status);
    expect(body.code).toBe(code);
  });

  it('rejects junk base64 and malformed JSON as INVALID_REQUEST', async () => {
    for (const body of ['{"imageBase64":"@@@not base64@@@"}', '{"imageBase64": ']) {
      const response = await fetch(`${gatewayUrl}/v1/analyze`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      expect(response.status).toBe(400);
      expect(((await response.json()) as Problem).code).toBe('INVALID_REQUEST');
    }
  });

  it('answers INFERENCE_TIMEOUT at the deadline when the model hangs', async () => {
    const short = await startGateway({ ARGUS_REQUEST_TIMEOUT_MS: '1500' });
    try {
      ollama.script(() => ({ hang: true }));
      const started = Date.now();
      const { response, body } = await post(multipartBody(photo, { tasks: 'tagging' }), short.url);
      expect(response.status).toBe(504);
      expect(body.code).toBe('INFERENCE_TIMEOUT');
      expect(Date.now() - started).toBeLessThan(4_000);
    } finally {
      await short.app.close();
    }
  });

  it('retries nothing behind the caller’s back: one chat per task', async () => {
    ollama.script(scriptSequence({ status: 500, error: 'boom' }));
    const { body } = await post(multipartBody(photo, { tasks: 'ocr' }));
    expect(body.code).toBe('MODEL_UNAVAILABLE');
    expect(ollama.chats).toHaveLength(1);
  });
});

describe('probes and metrics', () => {
  it('reports ready when NATS is up and every worker can reach its model', async () => {
    const response = await fetch(`${gatewayUrl}/readyz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      ready: true,
      checks: { nats: { ok: true }, ocr: { ok: true } },
    });
    expect((await fetch(`${gatewayUrl}/healthz`)).status).toBe(200);
  });

  it('exposes per-image histograms with service and task labels in every worker', async () => {
    await post(multipartBody(photo));
    for (const [task, worker] of workers) {
      const text = await (await fetch(`${await urlOf(worker)}/metrics`)).text();
      expect(text).toMatch(
        new RegExp(
          `argus_image_duration_seconds_count\\{service="[a-z-]+",task="${task}",tier="default",model="qwen2.5vl:7b",outcome="ok"\\} [1-9]`,
        ),
      );
      expect(text).toContain('argus_stage_duration_seconds_bucket');
    }
    const gatewayMetrics = await (await fetch(`${gatewayUrl}/metrics`)).text();
    expect(gatewayMetrics).toContain('argus_stage_duration_seconds_count{service="gateway",stage="store"}');
    expect(gatewayMetrics).toContain(
      'argus_gateway_request_duration_seconds_count{route="/v1/analyze",status="200"}',
    );
  });

  it('says why it is not ready, and answers MODEL_UNAVAILABLE at once, when a worker is gone', async () => {
    const ocr = workers.get('ocr')!;
    await ocr.close();
    workers.delete('ocr');
    const ready = await fetch(`${gatewayUrl}/readyz`);
    expect(ready.status).toBe(503);
    expect(JSON.stringify(await ready.json())).toContain('ocr worker did not answer');
    const started = Date.now();
    const { body } = await post(multipartBody(photo, { tasks: 'ocr,moderation' }));
    expect(body.results.ocr).toMatchObject({
      status: 'error',
      error: { code: 'MODEL_UNAVAILABLE', message: 'no ocr worker is running' },
    });
    expect(body.results.moderation?.status).toBe('ok');
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('answers MODEL_UNAVAILABLE with Retry-After when Ollama is unreachable', async () => {
    await ollama.stop();
    const { response, body } = await post(multipartBody(photo, { tasks: 'moderation' }));
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('5');
    expect(body.results.moderation).toMatchObject({ error: { code: 'MODEL_UNAVAILABLE' } });
    expect(body.detail).toContain('unreachable');
  });
});
