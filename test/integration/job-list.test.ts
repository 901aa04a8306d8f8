// GET /v1/jobs on a real gateway with API keys of two tenants: each tenant lists only its own jobs, newest first, and
// following nextCursor walks every one of them exactly once; a cancelled job says so; a cursor the API did not give is
// a 400; with keys off (one tenant) the list holds every job. Real NATS and the Ollama stand-in behind the workers.
import type { JobCreated, JobList, JobSummary, Problem } from '@argus/contracts';
import { hashApiKey } from '@argus/config';
import { uniquePhotoJpeg } from '../support/fixtures';
import { startInProcessStack, type InProcessStack } from '../support/in-process-stack';
import { startNats, type NatsHarness } from '../support/nats-harness';
import { OllamaStandIn } from '../support/ollama-stand-in';

jest.setTimeout(120_000);

const KEYS = { shopA: 'argus_list-shop-a-key', shopB: 'argus_list-shop-b-key' };
const KEYS_FILE = `
version: 1
keys:
  - { id: shop-a, hash: ${hashApiKey(KEYS.shopA)}, tenant: shop-a, scopes: [jobs] }
  - { id: shop-b, hash: ${hashApiKey(KEYS.shopB)}, tenant: shop-b, scopes: [jobs] }
`;

let nats: NatsHarness;
let ollama: OllamaStandIn;
let stack: InProcessStack;
let gateway: string;
let photo: Buffer;
/** Job ids in the order they were created, per tenant. */
const created: Record<'shopA' | 'shopB', string[]> = { shopA: [], shopB: [] };

const as = (key: string) => ({ headers: { authorization: `Bearer ${key}` } });

async function createJob(tenant: keyof typeof KEYS, items: number): Promise<string> {
  const response = await fetch(`${gateway}/v1/jobs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${KEYS[tenant]}` },
    body: JSON.stringify({
      // One real photo, the rest bytes that are no image (failed at intake): progress without waiting for the model.
      items: Array.from({ length: items }, (_, index) => ({
        imageBase64: index === 0 ? photo.toString('base64') : 'bm90IGFuIGltYWdl',
      })),
      tasks: ['moderation'],
      tier: 'small',
    }),
  });
  expect(response.status).toBe(202);
  const { jobId } = (await response.json()) as JobCreated;
  created[tenant].push(jobId);
  return jobId;
}

async function list(url: string, key: string | undefined, params: string): Promise<JobList> {
  const response = await fetch(`${url}/v1/jobs?${params}`, key ? as(key) : {});
  expect(response.status).toBe(200);
  return (await response.json()) as JobList;
}

/** Every page from the first, following nextCursor. */
async function walk(key: string, limit: number): Promise<JobSummary[][]> {
  const pages: JobSummary[][] = [];
  let cursor: string | undefined;
  do {
    const page = await list(
      gateway,
      key,
      `limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
    );
    expect(page.truncated).toBe(false);
    pages.push(page.jobs);
    cursor = page.nextCursor;
  } while (cursor !== undefined && pages.length < 20);
  return pages;
}

beforeAll(async () => {
  nats = await startNats();
  ollama = await OllamaStandIn.start({ models: [{ name: 'qwen2.5vl:3b' }] });
  stack = await startInProcessStack(nats.url, { OLLAMA_HOST: ollama.url, ARGUS_TIERS: 'small' });
  gateway = (await stack.startGateway({ ARGUS_API_KEYS: KEYS_FILE })).url;
  photo = await uniquePhotoJpeg(320, 240);
  // Interleaved, one at a time, so creation order is the order of createdAt.
  for (let round = 0; round < 5; round++) {
    await createJob('shopA', round + 1);
    if (round < 3) await createJob('shopB', 2);
  }
});

afterAll(async () => {
  await stack.stop();
  await ollama.stop();
  await nats.stop();
});

describe('GET /v1/jobs', () => {
  it("lists each tenant's own jobs only, newest first, with their progress", async () => {
    const a = await list(gateway, KEYS.shopA, 'limit=50');
    expect(a.jobs.map((job) => job.jobId)).toEqual([...created.shopA].reverse());
    expect(a.nextCursor).toBeUndefined();
    expect(a.truncated).toBe(false);
    const b = await list(gateway, KEYS.shopB, 'limit=50');
    expect(b.jobs.map((job) => job.jobId)).toEqual([...created.shopB].reverse());
    const newest = a.jobs[0];
    expect(newest).toMatchObject({ tasks: ['moderation'], itemCount: 5 });
    expect(newest.counts.total).toBe(5);
    // Four items were no image: failed at intake, before any worker.
    expect(newest.counts.failed).toBe(4);
    const times = a.jobs.map((job) => Date.parse(job.createdAt));
    expect(times).toEqual([...times].sort((x, y) => y - x));
  });

  it('walks every job exactly once by cursor', async () => {
    for (const [tenant, limit] of [
      ['shopA', 2],
      ['shopB', 1],
      ['shopA', 5],
    ] as const) {
      const pages = await walk(KEYS[tenant], limit);
      expect(pages.every((page) => page.length <= limit)).toBe(true);
      expect(pages.flat().map((job) => job.jobId)).toEqual([...created[tenant]].reverse());
    }
    expect((await walk(KEYS.shopA, 2)).length).toBe(3);
  });

  it('shows a cancelled job as cancelled, and only its owner may cancel it', async () => {
    const jobId = created.shopB[0];
    expect((await fetch(`${gateway}/v1/jobs/${jobId}`, { method: 'DELETE', ...as(KEYS.shopA) })).status).toBe(
      404,
    );
    expect((await fetch(`${gateway}/v1/jobs/${jobId}`, { method: 'DELETE', ...as(KEYS.shopB) })).status).toBe(
      202,
    );
    const listed = (await list(gateway, KEYS.shopB, 'limit=50')).jobs.find((job) => job.jobId === jobId);
    expect(listed).toMatchObject({ status: 'cancelled', cancelledAt: expect.any(String) as string });
  });

  it('refuses a cursor it did not give and a limit over the maximum', async () => {
    for (const params of ['cursor=nonsense', 'limit=51', 'limit=0']) {
      const response = await fetch(`${gateway}/v1/jobs?${params}`, as(KEYS.shopA));
      expect(response.status).toBe(400);
      expect(((await response.json()) as Problem).code).toBe('INVALID_REQUEST');
    }
  });

  it('with keys off, everything is one tenant: the list holds every job', async () => {
    const open = await list(stack.gatewayUrl, undefined, 'limit=50');
    expect(open.jobs.map((job) => job.jobId).sort()).toEqual([...created.shopA, ...created.shopB].sort());
  });
});
