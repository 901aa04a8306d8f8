// What follows a job's results, end to end in one process: signed webhooks (per decision and on completion) with
// retries and a delivery log, and the human review queue with its metric. Real nats-server, the Ollama stand-in on
// the small tier answering per image size, and a webhook receiver on 127.0.0.1. Every wait ends on a count.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { JobCreated, JobStatus, Problem, Review, ReviewList, WebhookEvent } from '@argus/contracts';
import { SIGNATURE_HEADER, verifySignature } from '@argus/url-intake';
import { uniquePhotoJpeg } from '../support/fixtures';
import { startInProcessStack, type InProcessStack } from '../support/in-process-stack';
import { startNats, type NatsHarness } from '../support/nats-harness';
import { OllamaStandIn, type ChatScript, type RecordedChat } from '../support/ollama-stand-in';

jest.setTimeout(120_000);

const SMALL_MODEL = 'qwen2.5vl:3b';
const SECRET = 'test-webhook-secret';

/**
 * The stand-in's moderation answer is chosen by the width of the image it receives, so each item's decision is known
 * up front. Those are the widths the worker sends: qwen2.5vl's rule rounds the uploads' 320, 336 and 352 px to
 * multiples of 28 (308, 336, 364).
 */
const ANSWERS: Record<number, { id: string; confidence: number } | undefined> = {
  308: { id: 'alcohol.beverages', confidence: 0.85 }, // default policy: review
  336: { id: 'violence.graphic', confidence: 0.97 }, // block
  364: undefined, // allow
};

function moderationAnswer(chat: RecordedChat): ChatScript | undefined {
  const width = chat.images[0]?.width ?? 0;
  if (!(width in ANSWERS)) return undefined;
  const hit = ANSWERS[width];
  return {
    content: JSON.stringify({
      categories: hit ? [{ ...hit, evidence: { rationale: `shows ${hit.id}` } }] : [],
      reason: hit ? `the photo shows ${hit.id}` : 'a product photo',
      confidence: 0.9,
    }),
  };
}

interface Received {
  event: WebhookEvent;
  headers: IncomingHttpHeaders;
  raw: string;
}

let nats: NatsHarness;
let ollama: OllamaStandIn;
let stack: InProcessStack;
let gatewayUrl: string;
let receiver: Server;
let receiverUrl: string;
const received: Received[] = [];
/** Answers the receiver gives, in order, before it answers 204 to everything. */
let scriptedAnswers: number[] = [];

beforeAll(async () => {
  nats = await startNats();
  ollama = await OllamaStandIn.start({ models: [{ name: SMALL_MODEL }] });
  ollama.script(moderationAnswer);
  receiver = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const status = scriptedAnswers.shift() ?? 204;
      const raw = Buffer.concat(chunks).toString('utf8');
      if (status < 300)
        received.push({ event: JSON.parse(raw) as WebhookEvent, headers: request.headers, raw });
      response.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks/argus`;
  stack = await startInProcessStack(nats.url, {
    OLLAMA_HOST: ollama.url,
    ARGUS_TIERS: 'small',
    ARGUS_CACHE_TTL_SECONDS: '0',
    ARGUS_URL_ALLOW_PRIVATE: 'true',
    ARGUS_WEBHOOK_SECRET: SECRET,
    ARGUS_WEBHOOK_RETRY_BASE_MS: '50',
    ARGUS_WEBHOOK_RETRY_MAX_MS: '200',
    ARGUS_JOB_COMPLETION_CHECK_MS: '50',
    ARGUS_PUBLIC_URL: 'https://argus.example.com',
  });
  gatewayUrl = stack.gatewayUrl;
});

afterAll(async () => {
  await stack.stop();
  await new Promise((resolve) => receiver.close(resolve));
  await ollama.stop();
  await nats.stop();
});

async function json<T>(response: Response): Promise<T> {
  return (await response.json()) as T;
}

async function submit(
  body: unknown,
  url = gatewayUrl,
): Promise<{ status: number; body: JobCreated & Pick<Problem, 'code' | 'errors'> }> {
  const response = await fetch(`${url}/v1/jobs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: await json(response) };
}

async function until<T>(
  what: string,
  timeoutMs: number,
  probe: () => T | undefined | Promise<T | undefined>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

async function jobStatus(jobId: string): Promise<JobStatus> {
  return json<JobStatus>(await fetch(`${gatewayUrl}/v1/jobs/${jobId}?pageSize=1000`));
}

/** Two items per decision: review (320 px wide), block (336) and allow (352). */
async function sixItems() {
  const widths = [320, 320, 336, 336, 352, 352];
  return Promise.all(
    widths.map(async (width, index) => ({
      id: `w${width}-${index}`,
      imageBase64: (await uniquePhotoJpeg(width, 240)).toString('base64'),
    })),
  );
}

let jobId: string;

describe('webhooks', () => {
  it('posts item.decided for block and review items and job.completed once, signed, with a delivery log', async () => {
    // The first delivery of job.completed is refused with a 503: the retry must deliver it.
    const { status, body } = await submit({
      items: await sixItems(),
      tasks: ['moderation'],
      tier: 'small',
      callbackUrl: receiverUrl,
      notify: ['block', 'review'],
    });
    expect(status).toBe(202);
    jobId = body.jobId;
    const events = await until('5 webhooks', 60_000, () =>
      received.filter((entry) => entry.event.jobId === jobId).length >= 5
        ? received.filter((entry) => entry.event.jobId === jobId)
        : undefined,
    );
    const decided = events.filter((entry) => entry.event.type === 'item.decided');
    expect(
      decided
        .map(({ event }) => (event.type === 'item.decided' ? `${event.itemId}:${event.decision}` : ''))
        .sort(),
    ).toEqual(['w320-0:review', 'w320-1:review', 'w336-2:block', 'w336-3:block']);
    const completed = events.filter((entry) => entry.event.type === 'job.completed');
    expect(completed).toHaveLength(1);
    expect(completed[0]?.event).toMatchObject({
      id: `${jobId}.completed`,
      status: 'completed',
      counts: { total: 6, done: 6, failed: 0, dead: 0, cancelled: 0 },
      resultsUrl: `https://argus.example.com/v1/jobs/${jobId}`,
    });
    // Every body verifies against the secret, and fails against another one.
    for (const entry of events) {
      const signature = String(entry.headers[SIGNATURE_HEADER]);
      expect(signature).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
      expect(verifySignature(SECRET, entry.raw, signature)).toBe(true);
      expect(verifySignature('another-secret', entry.raw, signature)).toBe(false);
      expect(entry.headers['content-type']).toBe('application/json');
    }
    // Each event exactly once.
    expect(new Set(events.map(({ event }) => event.id)).size).toBe(events.length);

    const logged = await until('the delivery log', 10_000, async () => {
      const { webhooks } = await jobStatus(jobId);
      return webhooks && webhooks.length >= 5 ? webhooks : undefined;
    });
    expect(logged).toHaveLength(5);
    expect(logged.every((delivery) => delivery.delivered)).toBe(true);
    expect(logged.filter((delivery) => delivery.type === 'item.decided')).toHaveLength(4);
  });

  it('retries a refused delivery with backoff and logs every attempt', async () => {
    scriptedAnswers = [503, 500];
    const { status, body } = await submit({
      items: [{ id: 'only', imageBase64: (await uniquePhotoJpeg(352, 240)).toString('base64') }],
      tasks: ['moderation'],
      tier: 'small',
      callbackUrl: receiverUrl,
    });
    expect(status).toBe(202);
    const log = await until('a logged delivery', 30_000, async () => {
      const { webhooks } = await jobStatus(body.jobId);
      return webhooks?.length ? webhooks : undefined;
    });
    expect(log).toHaveLength(1);
    expect(log[0]).toMatchObject({ type: 'job.completed', delivered: true });
    expect(log[0]?.attempts.map((attempt) => attempt.status)).toEqual([503, 500, 204]);
    expect(received.filter((entry) => entry.event.jobId === body.jobId)).toHaveLength(1);
  });

  it('refuses callbackUrl on a gateway without a webhook secret, and notify without callbackUrl', async () => {
    const unsigned = await stack.startGateway({ ARGUS_WEBHOOK_SECRET: '' });
    const item = { imageBase64: (await uniquePhotoJpeg(352, 240)).toString('base64') };
    const noSecret = await submit({ items: [item], callbackUrl: receiverUrl }, unsigned.url);
    expect(noSecret.status).toBe(400);
    expect(noSecret.body).toMatchObject({ code: 'INVALID_REQUEST', errors: [{ field: 'callbackUrl' }] });
    const noCallback = await submit({ items: [item], notify: ['block'] });
    expect(noCallback.status).toBe(400);
    expect(noCallback.body.errors?.[0]?.field).toBe('notify');
  });
});

describe('review queue', () => {
  const reviews = (query: string) =>
    fetch(`${gatewayUrl}/v1/reviews?${query}`).then((response) => json<ReviewList>(response));

  it('holds the review items of the job, filtered by policy, category and age', async () => {
    const listed = await until('two reviews', 10_000, async () => {
      const list = await reviews(`jobId=${jobId}`);
      return list.reviews.length === 2 ? list : undefined;
    });
    expect(listed.reviews.map((review) => review.itemId).sort()).toEqual(['w320-0', 'w320-1']);
    // Oldest first: the longest wait on top.
    expect(listed.reviews.map((review) => review.createdAt)).toEqual(
      listed.reviews.map((review) => review.createdAt).sort(),
    );
    expect(listed.reviews.find((review) => review.itemId === 'w320-0')).toMatchObject({
      id: `${jobId}.w320-0`,
      reason: 'policy',
      status: 'pending',
      policy: 'default',
      modelDecision: 'review',
      categories: ['alcohol.beverages'],
      tier: 'small',
      model: SMALL_MODEL,
      imageUrl: `https://argus.example.com/v1/reviews/${jobId}.w320-0/image`,
    });
    expect((await reviews(`jobId=${jobId}&category=alcohol`)).reviews).toHaveLength(2);
    expect((await reviews(`jobId=${jobId}&category=violence`)).reviews).toHaveLength(0);
    expect((await reviews(`jobId=${jobId}&policy=strict`)).reviews).toHaveLength(0);
    expect((await reviews(`jobId=${jobId}&minAgeSeconds=3600`)).reviews).toHaveLength(0);
    expect((await reviews(`jobId=${jobId}&maxAgeSeconds=3600`)).reviews).toHaveLength(2);
    const bad = await fetch(`${gatewayUrl}/v1/reviews?status=maybe`);
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toContain('application/problem+json');
  });

  it('serves the stored image to the reviewer', async () => {
    const response = await fetch(`${gatewayUrl}/v1/reviews/${jobId}.w320-0/image`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('image/jpeg');
    const bytes = Buffer.from(await response.arrayBuffer());
    expect(bytes.subarray(0, 3)).toEqual(Buffer.from([0xff, 0xd8, 0xff]));
    const missing = await fetch(`${gatewayUrl}/v1/reviews/${jobId}.nope/image`);
    expect(missing.status).toBe(404);
  });

  it('records a resolution once, on the review, the item result and the outcome metric', async () => {
    const id = `${jobId}.w320-0`;
    const resolve = (body: unknown) =>
      fetch(`${gatewayUrl}/v1/reviews/${id}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const invalid = await resolve({ decision: 'review', reviewer: 'ana' });
    expect(invalid.status).toBe(400);
    expect((await json<Problem>(invalid)).errors?.[0]?.field).toBe('decision');

    const first = await resolve({ decision: 'block', reviewer: 'ana', note: 'spirits in a kids category' });
    expect(first.status).toBe(200);
    expect(await json<Review>(first)).toMatchObject({
      status: 'resolved',
      resolution: { decision: 'block', reviewer: 'ana', note: 'spirits in a kids category' },
    });
    const second = await resolve({ decision: 'allow', reviewer: 'bo' });
    expect(second.status).toBe(409);
    expect(await json<Problem>(second)).toMatchObject({ code: 'CONFLICT' });

    const item = (await jobStatus(jobId)).items.find((entry) => entry.id === 'w320-0');
    expect(item?.review).toMatchObject({ decision: 'block', reviewer: 'ana' });
    expect(item?.results.moderation).toMatchObject({ decision: 'review' });
    expect((await reviews(`jobId=${jobId}`)).reviews.map((review) => review.itemId)).toEqual(['w320-1']);
    expect((await reviews(`jobId=${jobId}&status=resolved`)).reviews.map((review) => review.itemId)).toEqual([
      'w320-0',
    ]);

    const metrics = await (await fetch(`${gatewayUrl}/metrics`)).text();
    expect(metrics).toMatch(
      /argus_review_outcomes_total\{category="alcohol.beverages",model_decision="review",human_decision="block",tier="small"\} 1/,
    );
    expect(metrics).toMatch(
      /argus_webhook_deliveries_total\{type="job.completed",outcome="delivered"\} [1-9]/,
    );
  });

  it('answers 404 for an unknown review', async () => {
    const response = await fetch(`${gatewayUrl}/v1/reviews/nope.nope`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ decision: 'allow', reviewer: 'ana' }),
    });
    expect(response.status).toBe(404);
    expect(await json<Problem>(response)).toMatchObject({ code: 'NOT_FOUND' });
  });
});
