import { jobListQuerySchema, jobListSchema, type JobMeta, type JobUnitResult } from '@argus/contracts';
import { keepLast, type JobHead } from '@argus/messaging';
import type { Caller } from './access-control';
import { decodeJobCursor, encodeJobCursor, newestFirst, pageJobs } from './job-list';
import { summariseJob, summariseJobListing } from './job-status';
import { InvalidRequestError } from './problem';

const caller = (tenant: string): Caller => ({ keyId: `${tenant}-key`, tenant, scopes: ['jobs'] });
const query = (raw: Record<string, unknown> = {}) => jobListQuerySchema.parse(raw);

/** Jobs of two tenants, a minute apart, plus two created in the same millisecond, in no particular order. */
const heads: JobHead[] = [
  { jobId: 'a-2', createdAt: '2026-12-06T10:02:00.000Z', tenant: 'shop-a' },
  { jobId: 'b-1', createdAt: '2026-12-06T10:01:30.000Z', tenant: 'shop-b' },
  { jobId: 'a-1', createdAt: '2026-12-06T10:01:00.000Z', tenant: 'shop-a' },
  { jobId: 'a-4', createdAt: '2026-12-06T10:04:00.000Z', tenant: 'shop-a' },
  { jobId: 'a-3x', createdAt: '2026-12-06T10:03:00.000Z', tenant: 'shop-a' },
  { jobId: 'a-3y', createdAt: '2026-12-06T10:03:00.000Z', tenant: 'shop-a' },
  { jobId: 'open', createdAt: '2026-12-06T10:05:00.000Z' },
];

/** Every page from the first, following nextCursor. */
function walk(all: readonly JobHead[], who: Caller | undefined, limit: number): string[][] {
  const pages: string[][] = [];
  let cursor: string | undefined;
  do {
    const { page, nextCursor } = pageJobs(all, who, query({ limit, ...(cursor ? { cursor } : {}) }));
    pages.push(page.map((head) => head.jobId));
    cursor = nextCursor;
  } while (cursor !== undefined && pages.length < 100);
  return pages;
}

describe('job listing', () => {
  it("lists only the caller's tenant's jobs, newest first, same-millisecond jobs in a fixed order", () => {
    expect(pageJobs(heads, caller('shop-a'), query()).page.map((head) => head.jobId)).toEqual([
      'a-4',
      'a-3y',
      'a-3x',
      'a-2',
      'a-1',
    ]);
    expect(pageJobs(heads, caller('shop-b'), query()).page.map((head) => head.jobId)).toEqual(['b-1']);
    expect(pageJobs(heads, caller('shop-c'), query())).toEqual({ page: [] });
    // A job made while keys were off has no tenant: no key's tenant sees it, but with keys off everything is one tenant.
    expect(pageJobs(heads, undefined, query()).page.map((head) => head.jobId)).toEqual([
      'open',
      'a-4',
      'a-3y',
      'a-3x',
      'a-2',
      'b-1',
      'a-1',
    ]);
  });

  it('walks every job exactly once by cursor, a cursor only when more follow', () => {
    expect(walk(heads, caller('shop-a'), 2)).toEqual([['a-4', 'a-3y'], ['a-3x', 'a-2'], ['a-1']]);
    expect(walk(heads, caller('shop-a'), 5)).toEqual([['a-4', 'a-3y', 'a-3x', 'a-2', 'a-1']]);
    expect(walk(heads, undefined, 1).flat()).toEqual([...heads].sort(newestFirst).map((head) => head.jobId));
    // The cut falls between two jobs of the same millisecond: the second is on the next page, not lost.
    expect(walk(heads, caller('shop-a'), 1)).toEqual([['a-4'], ['a-3y'], ['a-3x'], ['a-2'], ['a-1']]);
  });

  it('keeps its place when jobs are created between pages', () => {
    const first = pageJobs(heads, caller('shop-a'), query({ limit: 2 }));
    const newer: JobHead = { jobId: 'a-5', createdAt: '2026-12-06T10:09:00.000Z', tenant: 'shop-a' };
    const second = pageJobs(
      [newer, ...heads],
      caller('shop-a'),
      query({ limit: 2, cursor: first.nextCursor }),
    );
    expect(second.page.map((head) => head.jobId)).toEqual(['a-3x', 'a-2']);
  });

  it('bounds the limit and refuses a cursor it did not give', () => {
    expect(query().limit).toBe(20);
    expect(jobListQuerySchema.safeParse({ limit: '51' }).success).toBe(false);
    expect(jobListQuerySchema.safeParse({ limit: '0' }).success).toBe(false);
    for (const cursor of ['nonsense', Buffer.from('["x","y"]').toString('base64url'), 'W10']) {
      expect(() => pageJobs(heads, undefined, query({ cursor }))).toThrow(InvalidRequestError);
    }
    const position = { createdAt: '2026-12-06T10:03:00.000Z', jobId: 'a-3x' };
    expect(decodeJobCursor(encodeJobCursor(position))).toEqual(position);
  });

  it('summarises a listed job the way GET /v1/jobs/:id does, without its items', () => {
    const meta: JobMeta = {
      jobId: 'job-1',
      createdAt: '2026-11-26T10:00:00.000Z',
      tasks: ['moderation', 'ocr'],
      itemIds: ['a', 'b', 'c'],
      cancelledAt: '2026-11-26T10:00:05.000Z',
    };
    const finishedAt = '2026-11-26T10:00:01.000Z';
    const results = new Map<string, JobUnitResult>([
      ['a.moderation', { state: 'done', finishedAt }],
      ['a.ocr', { state: 'done', finishedAt }],
      ['b.moderation', { state: 'failed', finishedAt }],
    ]);
    const full = summariseJob(meta, results, { page: 1, pageSize: 100 });
    const listed = summariseJobListing(meta, results);
    expect(listed).toEqual({
      jobId: full.jobId,
      status: 'cancelled',
      createdAt: full.createdAt,
      tasks: full.tasks,
      counts: full.counts,
      percent: full.percent,
      itemCount: 3,
      cancelledAt: meta.cancelledAt,
    });
    expect(jobListSchema.parse({ jobs: [listed], truncated: false }).jobs[0]).toEqual(listed);
  });
});

describe('the job scan', () => {
  const keys = (count: number): string[] => Array.from({ length: count }, (_, index) => `k${index + 1}`);

  it('keeps the last keys (the most recently written) and counts all of them, so truncation shows', async () => {
    expect(await keepLast(keys(3), 5)).toEqual({ kept: ['k1', 'k2', 'k3'], total: 3 });
    expect(await keepLast(keys(5), 5)).toEqual({ kept: ['k1', 'k2', 'k3', 'k4', 'k5'], total: 5 });
    expect(await keepLast(keys(12), 5)).toEqual({ kept: ['k8', 'k9', 'k10', 'k11', 'k12'], total: 12 });
    expect(await keepLast(keys(2), 0)).toEqual({ kept: [], total: 2 });
  });
});
