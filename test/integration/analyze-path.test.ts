// The sync path on the small (Ollama) tier with real NATS (JetStream object store included), the Ollama stand-in,
// and the gateway plus three workers running in this process exactly as their main() builds them. The cache is off
// here so every request reaches the model; tiers.test.ts covers the cascade, the CPU tier and the cache.
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import {
  IMAGE_BUCKET,
  LEGACY_TASK_SUBJECTS,
  DEFAULT_TASKS,
  TASKS,
  type AnalyzeResponse,
  type Problem,
} from '@argus/contracts';
import { connectNats, ImageStore, NatsTaskClient } from '@argus/messaging';
import { labelPng, multipartBody, photoJpeg, truncatedJpeg } from '../support/fixtures';
import { startInProcessStack, type InProcessStack } from '../support/in-process-stack';
import { startNats, type NatsHarness } from '../support/nats-harness';
import { OllamaStandIn, scriptSequence } from '../support/ollama-stand-in';

jest.setTimeout(90_000);

const SMALL_MODEL = 'qwen2.5vl:3b';
let nats: NatsHarness;
let ollama: OllamaStandIn;
let stack: InProcessStack;
let gatewayUrl: string;
let photo: Buffer;

/** Every request in this suite pins the small tier, so each task makes exactly one model call. */
function smallTier(image: Buffer, fields: Record<string, string> = {}) {
  return multipartBody(image, { tier: 'small', ...fields });
}

async function post(form: FormData, url = gatewayUrl) {
  const response = await fetch(`${url}/v1/analyze`, { method: 'POST', body: form });
  return { response, body: (await response.json()) as AnalyzeResponse & Problem };
}

/** Waits (bounded) until every worker sees its tiers as ready again after a test changed the stand-in. */
async function untilReady(timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const states = await Promise.all(
      TASKS.map(
        async (task) =>
          (await fetch(`${await stack.workerUrl(task)}/readyz`)).json() as Promise<{
            checks: Partial<Record<string, { ok: boolean }>>;
          }>,
      ),
    );
    if (states.every((state) => state.checks['tier.small']?.ok)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('the small tier did not become ready again');
}

beforeAll(async () => {
  nats = await startNats();
  ollama = await OllamaStandIn.start({ models: [{ name: SMALL_MODEL }] });
  photo = await photoJpeg();
  stack = await startInProcessStack(nats.url, {
    OLLAMA_HOST: ollama.url,
    ARGUS_TIERS: 'small',
    ARGUS_CACHE_TTL_SECONDS: '0',
    ARGUS_TIER_CHECK_INTERVAL_MS: '500',
  });
  gatewayUrl = stack.gatewayUrl;
});

afterEach(() => {
  ollama.script(undefined);
  ollama.reset();
});

afterAll(async () => {
  await stack.stop();
  await ollama.stop();
  await nats.stop();
});

describe('the OCR subject of 0.1 (argus.v1.ocr.extract), kept for one release', () => {
  it("answers a 0.1 gateway's request there, its top-level options read as the task's options", async () => {
    const connection = await connectNats({ servers: [nats.url], name: 'legacy-gateway' });
    try {
      const images = new ImageStore(connection, 600);
      const key = `legacy-${Date.now()}`;
      const label = await labelPng(['BEST BEFORE 2027-01-31']);
      await images.put(key, label, 'image/png');
      const reply = await new NatsTaskClient(connection).request(
        LEGACY_TASK_SUBJECTS.ocr?.subject ?? '',
        {
          requestId: key,
          image: {
            bucket: IMAGE_BUCKET,
            key,
            sha256: 'b'.repeat(64),
            width: 1000,
            height: 154,
            mime: 'image/png',
          },
          routing: { tier: 'small', fallback: false },
          // As 0.1 sent them: OCR's options at the top level.
          ocr: { mode: 'label' },
          pii: 'flag',
        },
        { timeoutMs: 30_000 },
      );
      expect(reply).toMatchObject({ status: 'ok', tier: 'small', mode: 'label' });
    } finally {
      await connection.close();
    }
  });
});

describe('POST /v1/analyze', () => {
  it('returns all three results from the models, sending each the image at its input size and the task schema', async () => {
    const { response, body } = await post(smallTier(photo));
    expect(response.status).toBe(200);
    expect(body.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(body.image).toMatchObject({ format: 'jpeg', width: 2048, height: 1365, bytes: photo.length });
    for (const task of DEFAULT_TASKS) {
      expect(body.results[task]).toMatchObject({
        status: 'ok',
        engine: 'ollama',
        tier: 'small',
        model: SMALL_MODEL,
      });
    }
    expect(body.results.moderation).toHaveProperty('decision');
    expect(body.results.tagging).toHaveProperty('defects');
    expect(body.results.ocr).toHaveProperty('lines');

    const chats = ollama.chats;
    expect(chats).toHaveLength(3);
    // qwen2.5vl's rule for the stored 2048×1365 under the catalog's 1,003,520 px budget: 1204×812 (1247 tokens) for
    // every task, sides multiples of 28, and exactly the size Ollama's own processor makes of it.
    const sizes = chats.map((chat) => `${chat.images[0].width}×${chat.images[0].height}`).sort();
    expect(sizes).toEqual(['1204×812', '1204×812', '1204×812']);
    for (const chat of chats) {
      expect([chat.images[0].modelWidth, chat.images[0].modelHeight]).toEqual([1204, 812]);
    }
    for (const chat of chats) {
      expect(chat.stream).toBe(true);
      expect(chat.format).toMatchObject({ type: 'object' });
      expect(chat.options).toMatchObject({ temperature: 0, num_ctx: 8192 });
      expect(chat.keepAlive).toBe('30m');
    }
  });

  it('accepts JSON with base64 and a task list, and a raw image body', async () => {
    const json = await fetch(`${gatewayUrl}/v1/analyze`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ imageBase64: photo.toString('base64'), tasks: ['ocr'], tier: 'small' }),
    });
    expect(json.status).toBe(200);
    expect(Object.keys(((await json.json()) as AnalyzeResponse).results)).toEqual(['ocr']);

    const raw = await fetch(`${gatewayUrl}/v1/analyze?tasks=moderation&tier=small`, {
      method: 'POST',
      headers: { 'content-type': 'image/jpeg' },
      body: new Uint8Array(photo),
    });
    expect(raw.status).toBe(200);
    expect(Object.keys(((await raw.json()) as AnalyzeResponse).results)).toEqual(['moderation']);
  });

  it('keeps the other results when one task fails', async () => {
    // Every OCR chat, the repair attempt included, answers with text that is not JSON.
    ollama.script((chat) =>
      chat.messages.some((message) => message.content.includes('Transcribe'))
        ? { malformed: true }
        : undefined,
    );
    const { response, body } = await post(smallTier(photo));
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
    const { response, body } = await post(smallTier(photo, { tasks: 'moderation,ocr' }));
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
    expect((await post(smallTier(photo, { tasks: 'ocr' }))).response.status).toBe(200);
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

  it('answers an oversized upload 413 while the client is still sending, reads the rest, and keeps the connection', async () => {
    // A raw socket, so the test controls when the body is sent: a little, then the answer arrives, then the rest.
    // A server that closed the connection here would reset the client's remaining writes (EPIPE) instead.
    const { hostname, port } = new URL(gatewayUrl);
    const declared = 26 * 1024 * 1024;
    const socket = connect({ host: hostname, port: Number(port) });
    let received = '';
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
    const closed = new Promise<string>((resolve) => {
      socket.on('close', () => {
        resolve('closed');
      });
      socket.on('error', (error: NodeJS.ErrnoException) => {
        resolve(error.code ?? 'error');
      });
    });
    const until = async (done: () => boolean, what: string) => {
      const deadline = Date.now() + 10_000;
      while (!done()) {
        if (Date.now() > deadline)
          throw new Error(`timed out waiting for ${what}; got ${received.slice(0, 200)}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };
    await new Promise<void>((resolve) => socket.once('connect', resolve));
    socket.write(
      `POST /v1/analyze?tier=small HTTP/1.1\r\nHost: ${hostname}\r\nContent-Type: image/jpeg\r\n` +
        `Content-Length: ${declared}\r\n\r\n`,
    );
    socket.write(Buffer.alloc(64 * 1024));
    await until(() => received.includes('IMAGE_TOO_LARGE'), 'the 413');
    expect(received).toMatch(/^HTTP\/1\.1 413 /);
    expect(received.toLowerCase()).not.toContain('connection: close');
    const chunk = Buffer.alloc(1024 * 1024);
    for (let sent = 64 * 1024; sent < declared; sent += chunk.length) {
      const rest = chunk.subarray(0, Math.min(chunk.length, declared - sent));
      if (!socket.write(rest)) await new Promise((resolve) => socket.once('drain', resolve));
    }
    const answered = received.length;
    socket.write(`GET /healthz HTTP/1.1\r\nHost: ${hostname}\r\n\r\n`);
    await until(
      () => received.slice(answered).includes('HTTP/1.1 200'),
      'the next response on the connection',
    );
    socket.end();
    expect(await closed).toBe('closed');
    expect(ollama.chats).toHaveLength(0);
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
    const short = await stack.startGateway({ ARGUS_REQUEST_TIMEOUT_MS: '1500' });
    try {
      ollama.script(() => ({ hang: true }));
      const started = Date.now();
      const { response, body } = await post(smallTier(photo, { tasks: 'tagging' }), short.url);
      expect(response.status).toBe(504);
      expect(body.code).toBe('INFERENCE_TIMEOUT');
      expect(Date.now() - started).toBeLessThan(4_000);
    } finally {
      ollama.script(undefined);
    }
  });

  it('repairs an answer that breaks the schema once, restating the schema', async () => {
    ollama.script(scriptSequence({ malformed: true }));
    const { response, body } = await post(smallTier(photo, { tasks: 'ocr' }));
    expect(response.status).toBe(200);
    expect(body.results.ocr?.status).toBe('ok');
    const [first, second] = ollama.chats;
    expect(ollama.chats).toHaveLength(2);
    expect(first.messages.map((m) => m.role)).toEqual(['system', 'user']);
    expect(second.messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'user']);
    expect(second.prompt).toContain('matches this schema exactly');
  });

  it('gives up after one repair with INVALID_MODEL_OUTPUT', async () => {
    ollama.script(() => ({ malformed: true }));
    const { body } = await post(smallTier(photo, { tasks: 'ocr' }));
    expect(body.code).toBe('INVALID_MODEL_OUTPUT');
    expect(ollama.chats).toHaveLength(2);
  });

  it('retries a busy Ollama with backoff and succeeds', async () => {
    ollama.script(
      scriptSequence({
        status: 503,
        error: 'server busy, please try again.  maximum pending requests exceeded',
      }),
    );
    const { response, body } = await post(smallTier(photo, { tasks: 'moderation' }));
    expect(response.status).toBe(200);
    expect(body.results.moderation?.status).toBe('ok');
    expect(ollama.chats).toHaveLength(2);
  });

  it('answers MODEL_UNAVAILABLE for a model without vision', async () => {
    ollama.setModels([{ name: SMALL_MODEL, capabilities: ['completion'] }]);
    try {
      // Ollama itself answers 200 to an image sent to a model without vision and ignores the image (server/prompt.go
      // chatPrompt, runner/ollamarunner/runner.go inputs), so Argus must learn it from /api/show: wait for its check.
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline) {
        const state = (await (await fetch(`${await stack.workerUrl('tagging')}/readyz`)).json()) as {
          checks: Partial<Record<string, { ok: boolean }>>;
        };
        if (state.checks['tier.small']?.ok === false) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const { response, body } = await post(smallTier(photo, { tasks: 'tagging' }));
      expect(response.status).toBe(503);
      expect(body.results.tagging).toMatchObject({ status: 'error', error: { code: 'MODEL_UNAVAILABLE' } });
    } finally {
      ollama.setModels([{ name: SMALL_MODEL }]);
      await untilReady();
    }
  });
});

describe('images by URL (imageUrl)', () => {
  let images: Server;
  let imagesUrl: string;
  let openGateway: string;

  beforeAll(async () => {
    images = createServer((request, response) => {
      if (request.url === '/photo.jpg') response.writeHead(200, { 'content-type': 'image/jpeg' }).end(photo);
      else if (request.url === '/moved') response.writeHead(302, { location: '/photo.jpg' }).end();
      else if (request.url === '/page.html')
        response.writeHead(200, { 'content-type': 'image/jpeg' }).end('<html>');
      else response.writeHead(404).end();
    });
    await new Promise<void>((resolve) => images.listen(0, '127.0.0.1', resolve));
    imagesUrl = `http://127.0.0.1:${(images.address() as AddressInfo).port}`;
    // The opt-in for on-premise image stores; the default gateway refuses private addresses.
    openGateway = (await stack.startGateway({ ARGUS_URL_ALLOW_PRIVATE: 'true' })).url;
  });

  afterAll(async () => {
    images.closeAllConnections();
    await new Promise((resolve) => images.close(resolve));
  });

  async function postJson(body: Record<string, unknown>, url: string) {
    const response = await fetch(`${url}/v1/analyze`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { response, body: (await response.json()) as AnalyzeResponse & Problem };
  }

  it('refuses a private address by default with URL_NOT_ALLOWED, before fetching anything', async () => {
    const { response, body } = await postJson(
      { imageUrl: `${imagesUrl}/photo.jpg`, tasks: ['ocr'] },
      gatewayUrl,
    );
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    expect(body).toMatchObject({
      code: 'URL_NOT_ALLOWED',
      detail: expect.stringContaining('loopback') as unknown,
    });
    for (const metadata of [
      'http://169.254.169.254/latest/meta-data/',
      'http://[fd00:ec2::254]/',
      'file:///etc/passwd',
    ]) {
      expect((await postJson({ imageUrl: metadata }, gatewayUrl)).body.code).toBe('URL_NOT_ALLOWED');
    }
  });

  it('fetches, follows a redirect and analyses the image when private addresses are allowed', async () => {
    const { response, body } = await postJson(
      { imageUrl: `${imagesUrl}/moved`, tasks: ['ocr'], tier: 'small' },
      openGateway,
    );
    expect(response.status).toBe(200);
    expect(body.results.ocr).toMatchObject({ status: 'ok', tier: 'small' });
    expect(body.image).toMatchObject({ width: 2048, height: 1365 });
    const form = new FormData();
    form.append('imageUrl', `${imagesUrl}/photo.jpg`);
    form.append('tasks', 'ocr');
    form.append('tier', 'small');
    expect((await post(form, openGateway)).response.status).toBe(200);
  });

  it('answers a missing image and bytes that are not an image with stable codes', async () => {
    const missing = await postJson({ imageUrl: `${imagesUrl}/gone.jpg` }, openGateway);
    expect(missing.response.status).toBe(502);
    expect(missing.body).toMatchObject({
      code: 'URL_FETCH_FAILED',
      detail: expect.stringContaining('HTTP 404') as unknown,
    });
    const html = await postJson({ imageUrl: `${imagesUrl}/page.html` }, openGateway);
    expect(html.response.status).toBe(415);
    expect(html.body.code).toBe('UNSUPPORTED_MEDIA_TYPE');
  });

  it('wants exactly one of imageBase64 and imageUrl', async () => {
    const both = await postJson({ imageBase64: 'eA==', imageUrl: `${imagesUrl}/photo.jpg` }, openGateway);
    expect(both.response.status).toBe(400);
    expect(both.body.errors).toEqual([
      { field: 'imageBase64', message: 'send exactly one of imageBase64 and imageUrl' },
    ]);
    expect((await postJson({ tasks: ['ocr'] }, openGateway)).response.status).toBe(400);
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
    const worker = (await (await fetch(`${await stack.workerUrl('ocr')}/readyz`)).json()) as {
      checks: Record<string, unknown>;
    };
    expect(worker.checks).toMatchObject({ 'tier.cpu': { ok: true }, 'tier.small': { ok: true } });
  });

  it('exposes per-image histograms with service and task labels in every worker', async () => {
    await post(smallTier(photo));
    for (const task of DEFAULT_TASKS) {
      const text = await (await fetch(`${await stack.workerUrl(task)}/metrics`)).text();
      expect(text).toMatch(
        new RegExp(
          `argus_image_duration_seconds_count\\{service="[a-z-]+",task="${task}",tier="small",model="qwen2.5vl:3b",outcome="ok"\\} [1-9]`,
        ),
      );
      expect(text).toMatch(
        /argus_inference_tokens_total\{tier="small",model="qwen2.5vl:3b",kind="input"\} [1-9]/,
      );
      expect(text).toMatch(
        /argus_inference_phase_seconds_count\{tier="small",model="qwen2.5vl:3b",phase="eval"\} [1-9]/,
      );
      expect(text).toContain('argus_stage_duration_seconds_bucket');
      expect(text).toMatch(/argus_nats_connected\{service="[a-z-]+"\} 1/);
      expect(text).toMatch(
        new RegExp(`argus_tier_up\\{task="${task}",tier="small",model="qwen2.5vl:3b"\\} 1`),
      );
      expect(text).toMatch(new RegExp(`argus_tier_breaker_open\\{task="${task}",tier="small"\\} 0`));
      expect(text).toMatch(/argus_ollama_loaded_models\{tier="small"\} \d/);
    }
    const gatewayMetrics = await (await fetch(`${gatewayUrl}/metrics`)).text();
    expect(gatewayMetrics).toMatch(
      /argus_nats_request_duration_seconds_count\{service="gateway",subject="argus\.v1\.ocr\.analyze",outcome="ok"\} [1-9]/,
    );
    expect(gatewayMetrics).toContain('argus_nats_connected{service="gateway"} 1');
    expect(gatewayMetrics).toContain('argus_stage_duration_seconds_count{service="gateway",stage="store"}');
    expect(gatewayMetrics).toContain(
      'argus_gateway_request_duration_seconds_count{route="/v1/analyze",status="200"}',
    );
  });

  it('says why it is not ready, and answers MODEL_UNAVAILABLE at once, when a worker is gone', async () => {
    await stack.stopWorker('ocr');
    const ready = await fetch(`${gatewayUrl}/readyz`);
    expect(ready.status).toBe(503);
    expect(JSON.stringify(await ready.json())).toContain('ocr worker did not answer');
    const started = Date.now();
    const { body } = await post(smallTier(photo, { tasks: 'ocr,moderation' }));
    expect(body.results.ocr).toMatchObject({
      status: 'error',
      error: { code: 'MODEL_UNAVAILABLE', message: 'no ocr worker is running' },
    });
    expect(body.results.moderation?.status).toBe('ok');
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('answers MODEL_UNAVAILABLE with Retry-After when Ollama is unreachable', async () => {
    await ollama.stop();
    const { response, body } = await post(smallTier(photo, { tasks: 'moderation' }));
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('5');
    expect(body.results.moderation).toMatchObject({ error: { code: 'MODEL_UNAVAILABLE' } });
    expect(body.detail).toMatch(/unreachable|unavailable/);
  });
});
