// Async jobs under faults, with the stack started the way `npm start` starts it (scripts/start.mjs → one process per
// service, supervised), against a real nats-server with a file store that this test owns, so it can restart it.
// Images come from a local HTTP server; the Ollama stand-in runs in this process and is scripted per scenario.
//
// Every scenario asserts by counting: the job's counts and items (GET /v1/jobs/{id}?pageSize=1000), the results in KV
// `argus-job-results`, the dead letters in `ARGUS_DLQ`, the consumer's pending/ack-pending state and the chats the
// stand-in received. Every wait is a bounded poll on one of those counts, never a fixed sleep.
//
// Runtime: jobs use the single task `moderation` on the pinned `small` tier. Every unit then costs one model call and
// no CPU-engine work, so 200 items stay a few seconds of work on a 2-core machine, and one worker process (the
// moderation one) carries the whole batch, which makes "kill the worker mid-batch" unambiguous. Images are 320×240.
import { createHash } from 'node:crypto';
import {
  TASK_REPLY_SCHEMAS,
  type DeadLetter,
  type JobCreated,
  type JobStatus,
  type JobUnitResult,
} from '@argus/contracts';
import type { JobQueue, JobStore, NatsConnection } from '@argus/messaging';
import { uniquePhotoJpeg } from '../support/fixtures';
import { connectJobClients, servePhotos } from '../support/job-stack';
import { startNats, type NatsHarness } from '../support/nats-harness';
import { BUSY_ERROR, OllamaStandIn, type RecordedChat } from '../support/ollama-stand-in';
import { childPidsByHttpPort } from '../support/stack-processes';
import { startSpawnedStack, type SpawnedStack } from '../support/spawned-stack';

// Stack boot (up to 150 s on a loaded machine) plus the slowest scenario; each test has its own bound below.
jest.setTimeout(200_000);

const SMALL_MODEL = 'qwen2.5vl:3b';
const BATCH = 200;
/** Deliveries before a unit is dead-lettered: the default, so the faults below never use them all up. */
const MAX_DELIVER = 5;
/** Short, so a unit held by a killed worker comes back within seconds; the item budget stays well below it. A TTL
 * below the default duplicate window (2 h) is allowed: the streams cap the window at the TTL. */
const ACK_WAIT_MS = 4_000;
const BUDGET_MS = 2_000;
/** Small tier slots (the moderation worker pulls this many items at once). */
const CONCURRENCY = 4;
/** The job-layout settings the stack runs with; the test only reads through them (no ensure()). */
const JOB_SETTINGS = {
  ttlSeconds: 3600,
  maxDeliver: MAX_DELIVER,
  ackWaitMs: ACK_WAIT_MS,
  duplicateWindowSeconds: 7200,
};
/**
 * The always-busy item is recognised in the stand-in by its size, which the pipeline keeps: both sides are multiples
 * of 28 within qwen2.5vl's budget, so the worker sends it as it is (the batch's 320×240 photos go as 308×252).
 */
const POISON = { width: 336, height: 224 };

let nats: NatsHarness;
let ollama: OllamaStandIn;
let spawned: SpawnedStack;
let imagesUrl: string;
let connection: NatsConnection;
let store: JobStore;
let queue: JobQueue;
const photos = new Map<string, Buffer>();
/** What beforeAll started, undone in reverse order (also when it failed half-way). */
const cleanups: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  nats = await startNats({ mode: 'local' });
  cleanups.push(() => nats.stop());
  ollama = await OllamaStandIn.start({ models: [{ name: SMALL_MODEL }] });
  cleanups.push(() => ollama.stop());
  for (let i = 1; i <= BATCH; i++) photos.set(`/p${i}.jpg`, await uniquePhotoJpeg(320, 240));
  photos.set('/poison.jpg', await uniquePhotoJpeg(POISON.width, POISON.height));
  const images = await servePhotos(photos);
  cleanups.push(() => images.close());
  imagesUrl = images.url;
  spawned = await startSpawnedStack({
    NATS_URL: nats.url,
    OLLAMA_HOST: ollama.url,
    ARGUS_TIERS: 'small',
    ARGUS_TIER_SMALL_CONCURRENCY: String(CONCURRENCY),
    ARGUS_CACHE_TTL_SECONDS: '0',
    ARGUS_URL_ALLOW_PRIVATE: 'true',
    ARGUS_JOB_INTAKE_CONCURRENCY: '16',
    ARGUS_JOB_TTL_SECONDS: String(JOB_SETTINGS.ttlSeconds),
    ARGUS_JOB_MAX_DELIVER: String(MAX_DELIVER),
    ARGUS_JOB_ACK_WAIT_MS: String(ACK_WAIT_MS),
    ARGUS_JOB_BUDGET_MS: String(BUDGET_MS),
    // A killed worker's tier slots stay held until their leases expire; with this test's 2 s item budget the default
    // 15 s would send the restarted worker's items to the dead-letter stream (production budgets are minutes).
    ARGUS_SLOT_LEASE_TTL_MS: '1500',
    ARGUS_JOB_RETRY_BASE_MS: '100',
    ARGUS_JOB_RETRY_MAX_MS: '400',
    ARGUS_JOB_METRICS_INTERVAL_MS: '1000',
  });
  cleanups.push(() => spawned.stop());
  ({ connection, store, queue } = await connectJobClients(nats.url, 'job-faults-test', JOB_SETTINGS));
  cleanups.push(() => connection.drain());
});

afterEach(() => {
  ollama.script(undefined);
  ollama.reset();
});

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `probe` until it returns a value (bounded); errors count as "not yet" (NATS may be restarting). */
async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    await pause(200);
  }
  const reason = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
  throw new Error(`${what} within ${timeoutMs} ms${reason}\n${spawned.output().slice(-3000)}`);
}

async function submit(items: { id: string; imageUrl: string }[]): Promise<JobCreated> {
  const response = await fetch(`${spawned.gatewayUrl}/v1/jobs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ items, tasks: ['moderation'], tier: 'small' }),
    signal: AbortSignal.timeout(60_000),
  });
  expect(response.status).toBe(202);
  const created = (await response.json()) as JobCreated;
  expect(created.items.map((item) => item.status)).toEqual(items.map(() => 'queued'));
  return created;
}

/** The job's status, or undefined while the gateway cannot answer (e.g. during the NATS outage). */
async function status(jobId: string): Promise<JobStatus | undefined> {
  const response = await fetch(`${spawned.gatewayUrl}/v1/jobs/${jobId}?pageSize=1000`, {
    signal: AbortSignal.timeout(10_000),
  });
  return response.status === 200 ? ((await response.json()) as JobStatus) : undefined;
}

/** Waits until at least `ended` items of the job have ended. */
function untilEnded(jobId: string, ended: number, timeoutMs: number): Promise<JobStatus> {
  return until(`job ${jobId} did not reach ${ended} ended items`, timeoutMs, async () => {
    const current = await status(jobId);
    return current && current.counts.total - current.counts.pending >= ended ? current : undefined;
  });
}

function untilCompleted(jobId: string, timeoutMs: number): Promise<JobStatus> {
  let last: JobStatus | undefined;
  return until(
    `job ${jobId} did not complete (last counts ${JSON.stringify(last?.counts)})`,
    timeoutMs,
    async () => {
      last = (await status(jobId)) ?? last;
      return last?.status === 'completed' ? last : undefined;
    },
  );
}

/** Waits until the moderation consumer holds nothing: every message acked or terminated, none left to redeliver. */
function untilDrained(timeoutMs = 20_000): Promise<true> {
  return until('the moderation consumer did not drain', timeoutMs, async () => {
    const stats = await queue.consumerStats('moderation');
    return stats.pending === 0 && stats.ackPending === 0 ? true : undefined;
  });
}

async function deadLetters(jobId: string): Promise<DeadLetter[]> {
  return (await queue.readDeadLetters('moderation')).filter((letter) => letter.jobId === jobId);
}

/** Item id → the one stored result of its moderation unit; fails on a key that is not one of the job's units. */
async function resultsByItem(jobId: string, itemIds: string[]): Promise<Map<string, JobUnitResult>> {
  const results = await store.listResults(jobId);
  const expected = new Set(itemIds.map((id) => `${id}.moderation`));
  expect([...results.keys()].filter((key) => !expected.has(key))).toEqual([]);
  return new Map([...results].map(([key, result]) => [key.slice(0, -'.moderation'.length), result]));
}

/** What the stand-in saw of an image, so chats can be counted per distinct image (every item's image is unique). */
/** Chats that carried an image: a worker's model warm-up (an empty chat) is not an item's call. */
const imageChats = () => ollama.chats.filter((chat) => chat.images.length > 0);

const imageHash = (chat: RecordedChat) =>
  createHash('sha256')
    .update(chat.messages.flatMap((message) => message.images ?? []).join(','))
    .digest('hex');

const items = (paths: string[], prefix: string) =>
  paths.map((path, index) => ({ id: `${prefix}-${index + 1}`, imageUrl: `${imagesUrl}${path}` }));

(process.platform === 'linux' ? describe : describe.skip)('async jobs under faults (spawned stack)', () => {
  it('completes a batch of 200 images from a local HTTP server exactly once through a worker kill -9 and a NATS restart', async () => {
    const started = Date.now();
    // Each chat holds its slot 100 ms, so the batch lasts long enough (≥ 200 × 100 ms / 4 slots) to hit it mid-way.
    ollama.script(() => ({ delayMs: 100 }));
    const batch = items(
      [...photos.keys()].filter((path) => path !== '/poison.jpg'),
      'sku',
    );
    expect(batch).toHaveLength(BATCH);
    const created = await submit(batch);
    const { jobId } = created;

    // 1. kill -9 the moderation worker once a fifth of the batch is done; the supervisor restarts it.
    await untilEnded(jobId, BATCH / 5, 60_000);
    const port = Number(new URL(spawned.workerUrls.moderation).port);
    const victim = childPidsByHttpPort(spawned.process.pid).get(port);
    expect(victim).toEqual(expect.any(Number));
    process.kill(victim!, 'SIGKILL');
    const endedAtKill = (await status(jobId))?.counts;
    expect(endedAtKill?.pending).toBeGreaterThan(0);
    await spawned.waitForOutput(
      /\[argus\] moderation exited with code 137 \(SIGKILL\); restarting in/,
      10_000,
    );
    await spawned.waitForOutput(/\[argus\] moderation restarted \(pid \d+, restart 1\)/, 10_000);

    // 2. Restart nats-server (same port, same file store, 2 s down) once the new worker has made progress.
    const beforeRestart = await untilEnded(
      jobId,
      Math.max(BATCH / 2, (endedAtKill ? endedAtKill.total - endedAtKill.pending : 0) + 20),
      90_000,
    );
    expect(beforeRestart.counts.pending).toBeGreaterThan(0);
    await nats.restart!({ downMs: 2_000 });

    const done = await untilCompleted(jobId, 120_000);
    await untilDrained();
    process.stdout.write(
      `job-faults: ${BATCH} items through kill -9 (at ${JSON.stringify(endedAtKill)}) and a NATS restart ` +
        `(at ${beforeRestart.counts.total - beforeRestart.counts.pending} ended) in ` +
        `${((Date.now() - started) / 1000).toFixed(1)} s; ${imageChats().length} chats\n`,
    );

    // Every item ended exactly once, done, with the sync reply.
    // The items that did not end done, with their errors, so a failure says why.
    const notDone = done.items
      .filter((item) => item.status !== 'done')
      .map((item) => ({ id: item.id, status: item.status, errors: item.errors }));
    expect({ counts: done.counts, notDone }).toEqual({
      counts: { total: BATCH, done: BATCH, failed: 0, dead: 0, cancelled: 0, pending: 0 },
      notDone: [],
    });
    expect(done.percent).toBe(100);
    expect(done.items.map((item) => item.id).sort()).toEqual(batch.map((item) => item.id).sort());
    for (const item of done.items) {
      expect(item).toMatchObject({ status: 'done', errors: [] });
      expect(TASK_REPLY_SCHEMAS.moderation.parse(item.results.moderation)).toMatchObject({
        status: 'ok',
        tier: 'small',
        model: SMALL_MODEL,
      });
    }
    // KV: exactly one result per item × task, all done.
    const results = await resultsByItem(
      jobId,
      batch.map((item) => item.id),
    );
    expect(results.size).toBe(BATCH);
    expect([...results.values()].filter((result) => result.state !== 'done')).toEqual([]);
    // The kill landed mid-item: at least one unit was answered only on a redelivery.
    expect([...results.values()].some((result) => (result.deliveries ?? 0) > 1)).toBe(true);
    expect(await deadLetters(jobId)).toEqual([]);
    // The model saw every item at least once; repeats are bounded by what was in flight at the two faults.
    const chats = imageChats();
    expect(new Set(chats.map(imageHash)).size).toBe(BATCH);
    expect(chats.length).toBeGreaterThanOrEqual(BATCH);
    expect(chats.length).toBeLessThanOrEqual(BATCH + 4 * CONCURRENCY);
  }, 190_000);

  it('completes every item through an Ollama that answers 503 to 30% of chats', async () => {
    // Deterministic: calls 1–3 of every 10 are busy. The tier guard retries some inside the item's budget; an item
    // still busy after that is nakked and redelivered.
    let calls = 0;
    const refused = new Set<RecordedChat>();
    ollama.script((chat) => {
      calls += 1;
      if (calls % 10 < 1 || calls % 10 > 3) return undefined;
      refused.add(chat);
      return { status: 503, error: BUSY_ERROR };
    });
    const paths = [...photos.keys()].slice(0, 60);
    const batch = items(paths, 'busy');
    const { jobId } = await submit(batch);
    const done = await untilCompleted(jobId, 60_000);
    await untilDrained();

    expect(done.counts).toEqual({ total: 60, done: 60, failed: 0, dead: 0, cancelled: 0, pending: 0 });
    const results = await resultsByItem(
      jobId,
      batch.map((item) => item.id),
    );
    expect(results.size).toBe(60);
    expect([...results.values()].every((result) => result.state === 'done')).toBe(true);
    expect(await deadLetters(jobId)).toEqual([]);
    // 30 % of the chats were refused and retried; exactly one answered chat per item.
    const chats = imageChats();
    const answered = chats.filter((chat) => !refused.has(chat));
    expect(refused.size).toBeGreaterThan(0);
    expect(chats.length).toBeGreaterThan(60);
    expect(answered).toHaveLength(60);
    expect(new Set(answered.map(imageHash)).size).toBe(60);
    const deliveries = [...results.values()].map((result) => result.deliveries ?? 0);
    process.stdout.write(
      `job-faults: 60 items, ${chats.length} chats (${refused.size} answered 503), deliveries per unit ` +
        `${JSON.stringify(countBy(deliveries))}\n`,
    );
  }, 90_000);

  it('dead-letters an item that is always busy after every delivery, once, with its reason, and completes the rest', async () => {
    ollama.script((chat) =>
      chat.images[0]?.width === POISON.width && chat.images[0]?.height === POISON.height
        ? { status: 503, error: BUSY_ERROR }
        : undefined,
    );
    const batch = [
      ...items([...photos.keys()].slice(100, 120), 'ok'),
      { id: 'poisoned', imageUrl: `${imagesUrl}/poison.jpg` },
    ];
    const submittedAt = Date.now();
    const { jobId } = await submit(batch);
    const done = await untilCompleted(jobId, 60_000);
    await untilDrained();
    const poisonAt = imageChats()
      .filter((chat) => chat.images[0]?.width === POISON.width)
      .map((chat) => chat.receivedAt.getTime() - submittedAt);
    process.stdout.write(
      `job-faults: 20 items + 1 always busy ended in ${Date.now() - submittedAt} ms; its chats at ${poisonAt.join(', ')} ms\n`,
    );

    expect(done.counts).toEqual({ total: 21, done: 20, failed: 0, dead: 1, cancelled: 0, pending: 0 });
    const poisoned = done.items.find((item) => item.id === 'poisoned');
    expect(poisoned?.status).toBe('dead');
    expect(poisoned?.errors).toEqual([
      expect.objectContaining({ task: 'moderation', state: 'dead', code: 'UPSTREAM_BUSY' }),
    ]);
    expect(poisoned?.errors[0]?.message).toContain(`after ${MAX_DELIVER} deliveries`);
    for (const item of done.items.filter((candidate) => candidate.id !== 'poisoned')) {
      expect(item).toMatchObject({ status: 'done', errors: [] });
    }

    const results = await resultsByItem(
      jobId,
      batch.map((item) => item.id),
    );
    expect(results.size).toBe(21);
    expect(results.get('poisoned')).toMatchObject({
      state: 'dead',
      deliveries: MAX_DELIVER,
      error: { code: 'UPSTREAM_BUSY' },
    });
    expect([...results].filter(([id, result]) => id !== 'poisoned' && result.state !== 'done')).toEqual([]);

    // Exactly one dead letter, for that unit, with its reason and the original message.
    const letters = await deadLetters(jobId);
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({
      itemId: 'poisoned',
      task: 'moderation',
      deliveries: MAX_DELIVER,
      reason: { code: 'UPSTREAM_BUSY' },
      original: { jobId, itemId: 'poisoned', task: 'moderation' },
    });
    // Every delivery reached the model (the tier guard may retry within one), and every good item was answered once.
    const poisonChats = imageChats().filter((chat) => chat.images[0]?.width === POISON.width);
    expect(poisonChats.length).toBeGreaterThanOrEqual(MAX_DELIVER);
    expect(imageChats().length - poisonChats.length).toBe(20);
  }, 90_000);
});

function countBy(values: number[]): Record<string, number> {
  const counts = new Map<number, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return Object.fromEntries(counts);
}
