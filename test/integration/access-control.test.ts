// API keys on a real gateway: 401/403/429 as problem+json before any body is read, per-key rate limits with
// Retry-After, a key's default policy, tenants that cannot see each other's jobs and reviews, and probes and
// metrics open or closed by config. Real NATS and the Ollama stand-in behind the workers.
import type { AnalyzeResponse, JobCreated, Problem } from '@argus/contracts';
import { hashApiKey } from '@argus/config';
import { uniquePhotoJpeg } from '../support/fixtures';
import { startInProcessStack, type InProcessStack } from '../support/in-process-stack';
import { startNats, type NatsHarness } from '../support/nats-harness';
import { OllamaStandIn } from '../support/ollama-stand-in';

jest.setTimeout(120_000);

const SMALL_MODEL = 'qwen2.5vl:3b';
const KEYS = {
  shopA: 'argus_shop-a-test-key',
  shopB: 'argus_shop-b-test-key',
  reviewer: 'argus_reviewer-test-key',
  tight: 'argus_tight-test-key',
};
const KEYS_FILE = `
version: 1
keys:
  - { id: shop-a, hash: ${hashApiKey(KEYS.shopA)}, tenant: shop-a, policy: strict, scopes: [analyze, jobs, reviews] }
  - { id: shop-b, hash: ${hashApiKey(KEYS.shopB)}, tenant: shop-b }
  - { id: reviewer, hash: ${hashApiKey(KEYS.reviewer)}, tenant: shop-a, scopes: [reviews] }
  - { id: tight, hash: ${hashApiKey(KEYS.tight)}, tenant: shop-b, rateLimit: { requests: 3, perSeconds: 60 } }
`;

let nats: NatsHarness;
let ollama: OllamaStandIn;
let stack: InProcessStack;
let gateway: string;
let closedOps: string;
let photo: Buffer;

beforeAll(async () => {
  nats = await startNats();
  ollama = await OllamaStandIn.start({ models: [{ name: SMALL_MODEL }] });
  stack = await startInProcessStack(nats.url, { OLLAMA_HOST: ollama.url, ARGUS_TIERS: 'small' });
  gateway = (await stack.startGateway({ ARGUS_API_KEYS: KEYS_FILE })).url;
  closedOps = (await stack.startGateway({ ARGUS_API_KEYS: KEYS_FILE, ARGUS_AUTH_OPS: 'key' })).url;
  photo = await uniquePhotoJpeg(320, 240);
});

afterAll(async () => {
  await stack.stop();
  await ollama.stop();
  await nats.stop();
});

function analyze(key: string | undefined, url = gateway, body: Uint8Array = new Uint8Array(photo)) {
  return fetch(`${url}/v1/analyze?tasks=moderation&tier=small`, {
    method: 'POST',
    headers: { 'content-type': 'image/jpeg', ...(key ? { authorization: `Bearer ${key}` } : {}) },
    body,
  });
}

async function problem(response: Response): Promise<Problem> {
  expect(response.headers.get('content-type')).toContain('application/problem+json');
  return (await response.json()) as Problem;
}

describe('API keys', () => {
  it('answers 401 problem+json with WWW-Authenticate without a key, or with an unknown one', async () => {
    const missing = await analyze(undefined);
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toBe('Bearer realm="argus"');
    expect(await problem(missing)).toMatchObject({ code: 'UNAUTHORIZED', status: 401 });
    const unknown = await analyze('argus_not-a-key');
    expect(unknown.status).toBe(401);
    expect((await problem(unknown)).detail).toMatch(/not known/);
  });

  it('refuses a large upload without a key before reading it', async () => {
    const started = performance.now();
    const response = await analyze(undefined, gateway, new Uint8Array(8 * 1024 * 1024));
    expect(response.status).toBe(401);
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it('accepts a key as Bearer or X-API-Key, and applies its default policy', async () => {
    const response = await analyze(KEYS.shopA);
    expect(response.status).toBe(200);
    const body = (await response.json()) as AnalyzeResponse;
    expect(body.results.moderation).toMatchObject({ status: 'ok', policy: 'strict' });
    expect(response.headers.get('ratelimit-limit')).toBe('600');
    const viaHeader = await fetch(`${gateway}/v1/models`, { headers: { 'x-api-key': KEYS.shopB } });
    expect(viaHeader.status).toBe(200);
  });

  it('answers 403 for a route outside the key’s scopes', async () => {
    const response = await analyze(KEYS.reviewer);
    expect(response.status).toBe(403);
    expect(await problem(response)).toMatchObject({ code: 'FORBIDDEN' });
  });

  it('answers 429 with Retry-After once a key spends its rate, and other keys carry on', async () => {
    const statuses: number[] = [];
    let limited: Response | undefined;
    for (let i = 0; i < 4; i++) {
      const response = await fetch(`${gateway}/v1/models`, {
        headers: { authorization: `Bearer ${KEYS.tight}` },
      });
      statuses.push(response.status);
      if (response.status === 429) limited = response;
      else await response.arrayBuffer();
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    const retryAfter = Number(limited?.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(await problem(limited!)).toMatchObject({ code: 'RATE_LIMITED', status: 429 });
    const other = await fetch(`${gateway}/v1/models`, { headers: { authorization: `Bearer ${KEYS.shopB}` } });
    expect(other.status).toBe(200);
  });

  it('keeps each tenant’s jobs and reviews to itself', async () => {
    const created = await fetch(`${gateway}/v1/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${KEYS.shopA}` },
      body: JSON.stringify({
        items: [{ imageBase64: photo.toString('base64') }],
        tasks: ['moderation'],
        tier: 'small',
      }),
    });
    expect(created.status).toBe(202);
    const { jobId } = (await created.json()) as JobCreated;
    const as = (key: string) => ({ headers: { authorization: `Bearer ${key}` } });
    expect((await fetch(`${gateway}/v1/jobs/${jobId}`, as(KEYS.shopA))).status).toBe(200);
    const foreign = await fetch(`${gateway}/v1/jobs/${jobId}`, as(KEYS.shopB));
    expect(foreign.status).toBe(404);
    expect(await problem(foreign)).toMatchObject({ code: 'NOT_FOUND' });
    const cancel = await fetch(`${gateway}/v1/jobs/${jobId}`, { method: 'DELETE', ...as(KEYS.shopB) });
    expect(cancel.status).toBe(404);
    const reviews = await fetch(`${gateway}/v1/reviews?status=all`, as(KEYS.reviewer));
    expect(reviews.status).toBe(200);
  });

  it('leaves probes and metrics open by default, and closes them with ARGUS_AUTH_OPS=key', async () => {
    expect((await fetch(`${gateway}/metrics`)).status).toBe(200);
    expect((await fetch(`${gateway}/healthz`)).status).toBe(200);
    expect((await fetch(`${closedOps}/metrics`)).status).toBe(401);
    expect(
      (await fetch(`${closedOps}/healthz`, { headers: { authorization: `Bearer ${KEYS.shopA}` } })).status,
    ).toBe(403);
  });
});
