import type { JobListQuery } from '@argus/contracts';
import type { JobHead } from '@argus/messaging';
import type { Caller } from './access-control';
import { InvalidRequestError } from './problem';

/** With keys on, a tenant sees only its own jobs and reviews; others get the same 404 as an unknown id. */
export function visibleTo(tenant: string | undefined, caller: Caller | undefined): boolean {
  return caller === undefined || tenant === caller.tenant;
}

/** Where a page of GET /v1/jobs ended: the last job's (createdAt, jobId), the keyset the order is on. */
interface JobPosition {
  createdAt: string;
  jobId: string;
}

/** Newest first; jobs created in the same millisecond by job id (descending), so the order is total. */
export function newestFirst(a: JobPosition, b: JobPosition): number {
  const byTime = timeOf(b) - timeOf(a);
  if (byTime !== 0) return byTime;
  return a.jobId < b.jobId ? 1 : a.jobId > b.jobId ? -1 : 0;
}

function timeOf(position: JobPosition): number {
  const time = Date.parse(position.createdAt);
  return Number.isNaN(time) ? 0 : time;
}

/** The opaque cursor: base64url of `[createdAt, jobId]`. Clients pass it back as is. */
export function encodeJobCursor(position: JobPosition): string {
  return Buffer.from(JSON.stringify([position.createdAt, position.jobId])).toString('base64url');
}

export function decodeJobCursor(cursor: string): JobPosition {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (
      Array.isArray(value) &&
      value.length === 2 &&
      typeof value[0] === 'string' &&
      typeof value[1] === 'string' &&
      !Number.isNaN(Date.parse(value[0]))
    ) {
      return { createdAt: value[0], jobId: value[1] };
    }
  } catch {
    // Falls through to the same error as a well-formed but meaningless cursor.
  }
  throw new InvalidRequestError([
    { field: 'cursor', message: 'not a cursor this API gave; pass nextCursor of the previous page as is' },
  ]);
}

/**
 * One page of the caller's jobs from the heads of all jobs: the tenant's only (all of them with keys off), newest
 * first, those after the cursor, at most `limit`; `nextCursor` when more follow.
 */
export function pageJobs(
  heads: readonly JobHead[],
  caller: Caller | undefined,
  query: JobListQuery,
): { page: JobHead[]; nextCursor?: string } {
  const after = query.cursor === undefined ? undefined : decodeJobCursor(query.cursor);
  const mine = heads
    .filter((head) => visibleTo(head.tenant, caller))
    .filter((head) => after === undefined || newestFirst(after, head) < 0)
    .sort(newestFirst);
  const page = mine.slice(0, query.limit);
  const last = page.at(-1);
  return mine.length > query.limit && last ? { page, nextCursor: encodeJobCursor(last) } : { page };
}
