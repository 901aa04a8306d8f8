// Async jobs end to end in one process: the gateway publishes item × task messages to the JetStream work queues, the
// three workers pull them through their durable consumers and answer through the same pipeline as /v1/analyze, and
// results land once in KV. Real nats-server, the Ollama stand-in on the small tier, cache off so every unit reaches
// the model. Every wait is bounded and ends on a count (results, consumer state), never on a fixed sleep.
import {
  JOB_IMAGE_BUCKET,
  TASK_REPLY_SCHEMAS,
  DEFAULT_TASKS,
  jobUnitKey,
  type JobCreated,
  type JobStatus,
  type Problem,
  type Task,
} from '@argus/contracts';
import { loadWorkerConfig } from '@argus/config';
import { ImageProcessor } from '@argus/imaging';
import { loadModelCatalog } from '@argus/inference';
import { createWorkerApp } from '@argus/worker';
import { taskDefinition } from '../support/task-definitions';
import { ImageStore, type JobQueue, type JobStore, type NatsConnection } from '@argus/messaging';
import { uniquePhotoJpeg } from '../support/fixtures';
import { startInProcessStack, type InProcessStack } from '../support/in-process-stack';
import { connectJobClients, servePhotos, type PhotoServer } from '../support/job-stack';
import { startNats, type NatsHarness } from '../support/nats-harness';
import { BUSY_ERROR, OllamaStandIn } from '../support/ollama-stand-in';

jest.setTimeout(180_000);

const SMALL_MODEL = 'qwen2.5vl:3b';
const MAX_DELIVER = 3;
const JOB_SETTINGS = {
  ttlSeconds: 3600,
  maxDeliver: MAX_DELIVER,
  ackWaitMs: 60_000,
  duplicateWindowSeconds: 7200,
};

let nats: NatsHarness;

function stackEnv(): NodeJS.ProcessEnv {
  return {
    OLLAMA_HOST: ollama.url,
    ARGUS_TIERS: 'small',
    ARGUS_CACHE_TTL_SECONDS: '0',
    ARGUS_JOB_MAX_DELIVER: String(MAX_DELIVER),
    ARGUS_JOB_ACK_WAIT_MS: String(JOB_SETTINGS.ackWaitMs),
    // Well under the 60 s ack wait, and long enough that no unit misses it on a loaded 2-core machine: an item that
    // did (tagging's CPU side read queued behind three others) was retried, and its model call counted twice.
    ARGUS_JOB_BUDGET_MS: '20000',
    ARGUS_JOB_RETRY_BASE_MS: '50',
    ARGUS_JOB_RETRY_MAX_MS: '200',
    ARGUS_JOB_METRICS_INTERVAL_MS: '200',
  };
}

let ollama: OllamaStandIn;
let stack: InProcessStack;
let gatewayUrl: string;
let images: PhotoServer;
let imagesUrl: string;
let connection: NatsConnection;
let store: JobStore;
let queue: JobQueue;
const photos = new Map<string, Buffer>();

beforeAll(async () => {
  nats = await startNats();
  ollama = await OllamaStandIn.start({ models: [{ name: SMALL_MODEL }] });
  for (let i = 1; i <= 20; i++) photos.set(`/p${i}.jpg`, await uniquePhotoJpeg(640, 480));
  images = await servePhotos(photos);
  imagesUrl = images.url;
  stack = await startInProcessStack(nats.url, stackEnv());
  gatewayUrl = (await stack.startGateway({ ARGUS_URL_ALLOW_PRIVATE: 'true' })).url;
  ({ connection, store, queue } = await connectJobClients(nats.url, 'jobs-test', JOB_SETTINGS));
});

afterEach(() => {
  ollama.script(undefined);
  ollama.reset();
});

afterAll(async () => {
  await connection.drain();
  await stack.stop();
  await images.close();
  await ollama.stop();
  await nats.stop();
});

type Answer = JobCreated & Pick<Problem, 'code' | 'errors'>;

async function submit(body: unknown): Promise<{ response: Response; body: Answer }> {
  const response = await fetch(`${gatewayUrl}/v1/jobs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { response, body: (await response.json()) as Answer };
}

async function status(jobId: string, query = ''): Promise<JobStatus> {
  const response = await fetch(`${gatewayUrl}/v1/jobs/${jobId}${query}`);
  expect(response.status).toBe(200);
  return (await response.json()) as JobStatus;
}

/** Polls until every item × task has ended (bounded); returns the last status. */
async function untilEnded(jobId: string, timeoutMs = 60_000, query = '?pageSize=1000'): Promise<JobStatus> {
  const deadline = Date.now() + timeoutMs;
  let last: JobStatus | undefined;
  while (Date.now() < deadline) {
    last = await status(jobId, query);
    if (last.percent === 100) return last;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`job ${jobId} did not end within ${timeoutMs} ms: ${JSON.stringify(last?.counts)}`);
}

/** Waits (bounded) until the task's consumer holds nothing: every message acked or terminated. */
async function untilDrained(task: Task, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const stats = await queue.consumerStats(task);
    if (stats.pending === 0 && stats.ackPending === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const stats = await queue.consumerStats(task);
  throw new Error(`the ${task} consumer did not drain within ${timeoutMs} ms: ${JSON.stringify(stats)}`);
}

const base64 = (bytes: Buffer) => bytes.toString('base64');

describe('POST /v1/jobs', () => {
  it('runs 20 URL items and 2 base64 items through all three tasks, once each, with the sync contract', async () => {
    const started = performance.now();
    const items = [
      ...[...photos.keys()].map((path, index) => ({
        id: `url-${index + 1}`,
        imageUrl: `${imagesUrl}${path}`,
      })),
      { imageBase64: base64(await uniquePhotoJpeg(800, 600)) },
      { imageBase64: base64(await uniquePhotoJpeg(700, 500)) },
    ];
    const { response, body } = await submit({ items, tier: 'small' });
    expect(response.status).toBe(202);
    expect(response.headers.get('location')).toBe(`/v1/jobs/${body.jobId}`);
    expect(body.items.map((item) => item.status)).toEqual(items.map(() => 'queued'));
    expect(body.items.slice(-2).map((item) => item.id)).toEqual(['item-21', 'item-22']);

    // Bounded generously: 66 units share two cores with the CPU engines' warm-up on a loaded machine.
    const done = await untilEnded(body.jobId, 150_000);
    const seconds = (performance.now() - started) / 1000;
    process.stdout.write(`jobs.test: 22 items x 3 tasks completed in ${seconds.toFixed(2)} s\n`);
    const sum = (task: Task) =>
      done.items.reduce(
        (total, item) => total + ((item.results[task] as { durationMs?: number }).durationMs ?? 0),
        0,
      );
    process.stdout.write(
      `jobs.test: model-side time per task (sum of durationMs): ${DEFAULT_TASKS.map((task) => `${task} ${Math.round(sum(task))} ms`).join(', ')}\n`,
    );
    expect(done.status).toBe('completed');
    expect(done.counts).toEqual({ total: 22, done: 22, failed: 0, dead: 0, cancelled: 0, pending: 0 });
    for (const item of done.items) {
      expect(item.errors).toEqual([]);
      for (const task of DEFAULT_TASKS) {
        const reply = TASK_REPLY_SCHEMAS[task].parse(item.results[task]);
        expect(reply).toMatchObject({ status: 'ok', tier: 'small', model: SMALL_MODEL, engine: 'ollama' });
      }
    }
    // Exactly one result and one model call per item × task.
    expect((await store.listResults(body.jobId)).size).toBe(22 * 3);
    expect(ollama.chats).toHaveLength(22 * 3);
  });

  it('takes a multipart form with several files in "images", each named by its filename', async () => {
    const form = new FormData();
    form.append('tasks', 'moderation');
    form.append('tier', 'small');
    for (const name of ['front.jpg', 'back side.jpg']) {
      form.append(
        'images',
        new Blob([new Uint8Array(await uniquePhotoJpeg(320, 240))], { type: 'image/jpeg' }),
        name,
      );
    }
    const response = await fetch(`${gatewayUrl}/v1/jobs`, { method: 'POST', body: form });
    expect(response.status).toBe(202);
    const created = (await response.json()) as JobCreated;
    expect(created.items.map((item) => item.id)).toEqual(['front.jpg', 'back_side.jpg']);
    const done = await untilEnded(created.jobId);
    expect(done.counts.done).toBe(2);
    expect(done.tasks).toEqual(['moderation']);
  });

  it('records an item that cannot be fetched or decoded as failed with its code, and completes the rest', async () => {
    const { response, body } = await submit({
      tasks: ['moderation', 'ocr'],
      tier: 'small',
      items: [
        { id: 'good', imageUrl: `${imagesUrl}/p1.jpg` },
        { id: 'missing', imageUrl: `${imagesUrl}/nope.jpg` },
        { id: 'garbage', imageBase64: base64(Buffer.from('not an image at all')) },
      ],
    });
    expect(response.status).toBe(202);
    expect(body.items.map((item) => [item.id, item.status])).toEqual([
      ['good', 'queued'],
      ['missing', 'failed'],
      ['garbage', 'failed'],
    ]);
    const done = await untilEnded(body.jobId);
    expect(done.status).toBe('completed');
    expect(done.counts).toMatchObject({ total: 3, done: 1, failed: 2, pending: 0 });
    const byId = new Map(done.items.map((item) => [item.id, item]));
    expect(byId.get('missing')?.errors.map((error) => error.code)).toEqual([
      'URL_FETCH_FAILED',
      'URL_FETCH_FAILED',
    ]);
    expect(byId.get('garbage')?.errors[0]?.code).toMatch(/UNSUPPORTED_MEDIA_TYPE|IMAGE_DECODE_FAILED/);
  });

  it('answers 400 naming the field for an invalid body, and 404 problem+json for an unknown job', async () => {
    const invalid = await submit({ items: [{ id: 'a' }], tasks: ['moderation'] });
    expect(invalid.response.status).toBe(400);
    expect(invalid.response.headers.get('content-type')).toContain('application/problem+json');
    expect(invalid.body.errors?.map((error) => error.field)).toContain('items.0.imageUrl');
    const badId = await submit({ items: [{ id: 'a b', imageUrl: 'http://x' }] });
    expect(badId.body.errors?.map((error) => error.field)).toContain('items.0.id');
    const empty = await submit({ items: [] });
    expect(empty.body.errors?.map((error) => error.field)).toContain('items');

    for (const method of ['GET', 'DELETE']) {
      const response = await fetch(`${gatewayUrl}/v1/jobs/00000000-0000-4000-8000-000000000000`, { method });
      expect(response.status).toBe(404);
      expect(response.headers.get('content-type')).toContain('application/problem+json');
      expect(((await response.json()) as Problem).code).toBe('NOT_FOUND');
    }
  });
});

describe('delivery guarantees', () => {
  it('dedupes a republished unit by Nats-Msg-Id and never answers a redelivered unit twice', async () => {
    const jobId = `dedupe-${Date.now()}`;
    const itemId = 'only';
    const image = await new ImageProcessor().normalise(await uniquePhotoJpeg(400, 300), {
      maxBytes: 10_000_000,
      maxPixels: 40_000_000,
      maxLongSide: 2048,
    });
    const key = `${jobId}.${itemId}`;
    await new ImageStore(connection, 3600, JOB_IMAGE_BUCKET).put(key, image.data, image.mime);
    await store.putJob({
      jobId,
      createdAt: new Date().toISOString(),
      tasks: ['moderation'],
      itemIds: [itemId],
    });
    const message = {
      jobId,
      itemId,
      task: 'moderation' as const,
      request: {
        requestId: key,
        routing: { tier: 'small' as const, fallback: false },
        options: {},
        image: {
          bucket: JOB_IMAGE_BUCKET,
          key,
          sha256: image.sha256,
          width: image.width,
          height: image.height,
          mime: image.mime,
        },
      },
    };
    const unit = jobUnitKey(jobId, itemId, 'moderation');
    expect(await queue.publish(message, unit)).toBe(false);
    expect(await queue.publish(message, unit)).toBe(true);
    await untilDrained('moderation');
    // The same unit again under another id, as a redelivery after a lost ack would look: acked without work.
    expect(await queue.publish(message, `${unit}.again`)).toBe(false);
    await untilDrained('moderation');
    expect(ollama.chats).toHaveLength(1);
    const results = await store.listResults(jobId);
    expect([...results.keys()]).toEqual([`${itemId}.moderation`]);
    expect(results.get(`${itemId}.moderation`)?.state).toBe('done');
  });

  it('completes every item through busy answers, and dead-letters an item that is always busy with its reason', async () => {
    // 336×224 has sides that are multiples of 28, so the worker sends it at that size and the stand-in knows it.
    const poisoned = await uniquePhotoJpeg(336, 224);
    let calls = 0;
    ollama.script((chat) => {
      if (chat.images[0]?.width === 336) return { status: 503, error: BUSY_ERROR };
      calls += 1;
      return calls % 3 === 0 ? { status: 503, error: BUSY_ERROR } : undefined;
    });
    const items = await Promise.all(
      Array.from({ length: 6 }, async (_, index) => ({
        id: `ok-${index}`,
        imageBase64: base64(await uniquePhotoJpeg(500, 400)),
      })),
    );
    const { body } = await submit({
      tasks: ['moderation'],
      tier: 'small',
      items: [...items, { id: 'poisoned', imageBase64: base64(poisoned) }],
    });
    const done = await untilEnded(body.jobId);
    expect(done.status).toBe('completed');
    expect(done.counts).toEqual({ total: 7, done: 6, failed: 0, dead: 1, cancelled: 0, pending: 0 });
    const dead = done.items.find((item) => item.id === 'poisoned');
    expect(dead?.errors).toEqual([
      expect.objectContaining({ task: 'moderation', state: 'dead', code: 'UPSTREAM_BUSY' }),
    ]);
    expect(dead?.errors[0]?.message).toContain(`after ${MAX_DELIVER} deliveries`);
    expect(
      ollama.rejected + ollama.chats.filter((chat) => chat.images[0]?.width === 336).length,
    ).toBeGreaterThan(0);

    const letters = (await queue.readDeadLetters('moderation')).filter(
      (letter) => letter.jobId === body.jobId,
    );
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({
      itemId: 'poisoned',
      task: 'moderation',
      deliveries: MAX_DELIVER,
      reason: { code: 'UPSTREAM_BUSY' },
      original: { jobId: body.jobId, itemId: 'poisoned', task: 'moderation' },
    });
    await untilDrained('moderation');
  });

  it('cancels: items not yet answered end cancelled and the job ends', async () => {
    ollama.script(() => ({ delayMs: 300 }));
    // More items than a worker takes at once (the sum of its tier concurrencies, 14 with the shipped catalog), so
    // some are still queued when the DELETE lands.
    const count = 40;
    const items = await Promise.all(
      Array.from({ length: count }, async (_, index) => ({
        id: `c-${index}`,
        imageBase64: base64(await uniquePhotoJpeg(300, 200)),
      })),
    );
    const { body } = await submit({ tasks: ['moderation'], tier: 'small', items });
    const response = await fetch(`${gatewayUrl}/v1/jobs/${body.jobId}`, { method: 'DELETE' });
    expect(response.status).toBe(202);
    expect(((await response.json()) as JobStatus).status).toBe('cancelled');
    const ended = await untilEnded(body.jobId);
    expect(ended.status).toBe('cancelled');
    expect(ended.counts.pending).toBe(0);
    expect(ended.counts.cancelled).toBeGreaterThan(0);
    expect(ended.counts.done + ended.counts.cancelled).toBe(count);
    expect(ollama.chats.length).toBe(ended.counts.done);
  });
});

describe('job metrics', () => {
  it("exposes the consumer and dead-letter gauges on a worker's /metrics", async () => {
    const url = await stack.workerUrl('moderation');
    const deadline = Date.now() + 10_000;
    let text = '';
    while (Date.now() < deadline) {
      text = await (await fetch(`${url}/metrics`)).text();
      if (/argus_dead_letter_messages\{task="moderation"\} [1-9]/.test(text)) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(text).toMatch(
      /argus_jetstream_consumer_pending\{stream="ARGUS_MODERATION",consumer="argus-moderation"\} \d+/,
    );
    expect(text).toMatch(
      /argus_jetstream_consumer_ack_pending\{stream="ARGUS_MODERATION",consumer="argus-moderation"\} \d+/,
    );
    expect(text).toMatch(
      /argus_jetstream_consumer_redelivered\{stream="ARGUS_MODERATION",consumer="argus-moderation"\} \d+/,
    );
    expect(text).toMatch(/argus_dead_letter_messages\{task="moderation"\} [1-9]/);
  });
});

describe('worker shutdown', () => {
  it('finishes the items in flight and holds none when stopped; a new worker completes the job exactly once', async () => {
    ollama.script(() => ({ delayMs: 150 }));
    const items = await Promise.all(
      Array.from({ length: 10 }, async (_, index) => ({
        id: `s-${index}`,
        imageBase64: base64(await uniquePhotoJpeg(300, 200)),
      })),
    );
    const { body } = await submit({ tasks: ['ocr'], tier: 'small', items });
    const deadline = Date.now() + 20_000;
    while ((await store.listResults(body.jobId)).size === 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await stack.stopWorker('ocr');
    // Stopped cleanly: nothing is left delivered-but-unacked waiting for the ack timeout.
    expect((await queue.consumerStats('ocr')).ackPending).toBe(0);
    const answered = (await store.listResults(body.jobId)).size;
    expect(answered).toBeLessThan(10);

    const env = { NATS_URL: nats.url, HTTP_PORT: '0', LOG_LEVEL: 'error', ...stackEnv() };
    const worker = await createWorkerApp(
      taskDefinition('ocr'),
      loadWorkerConfig('ocr', env),
      loadModelCatalog(env),
    );
    try {
      const done = await untilEnded(body.jobId);
      expect(done.counts).toMatchObject({ total: 10, done: 10, pending: 0 });
      expect((await store.listResults(body.jobId)).size).toBe(10);
      expect(ollama.chats).toHaveLength(10);
    } finally {
      await worker.close();
    }
  });
});
