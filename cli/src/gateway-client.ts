import { openAsBlob } from 'node:fs';
import {
  jobCreatedSchema,
  jobStatusSchema,
  MAX_JOB_PAGE_SIZE,
  type JobCreated,
  type JobStatus,
  type Task,
  type TierChoice,
} from '@argus/contracts';
import type { PlannedItem } from './job-plan';

/** The gateway could not be reached at all (refused, DNS, reset before an answer). */
export class GatewayUnreachableError extends Error {
  constructor(
    readonly url: string,
    cause: unknown,
  ) {
    super(`cannot reach the Argus gateway at ${url} (${describeCause(cause)})`);
  }
}

/** The gateway answered, but not with what was asked for (a problem+json, an unexpected body). */
export class GatewayRequestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface JobOptions {
  tasks?: Task[];
  tier?: TierChoice;
  policy?: string;
  profile?: string;
}

export type FetchFn = typeof fetch;

/** The CLI's view of the gateway's async job API (docs/jobs.md), over global fetch. */
export class GatewayClient {
  constructor(
    readonly baseUrl: string,
    private readonly fetchFn: FetchFn = fetch,
  ) {}

  /** Resolves when the gateway answers anything on /healthz; throws GatewayUnreachableError otherwise. */
  async ping(signal?: AbortSignal): Promise<void> {
    const response = await this.request('/healthz', { signal });
    await response.body?.cancel();
  }

  /** POST /v1/jobs as a multipart form: one file per item in field `images`, named by its item id. */
  async createJob(
    items: readonly PlannedItem[],
    options: JobOptions,
    signal?: AbortSignal,
  ): Promise<JobCreated> {
    const form = new FormData();
    if (options.tasks) form.append('tasks', options.tasks.join(','));
    if (options.tier) form.append('tier', options.tier);
    if (options.policy) form.append('policy', options.policy);
    if (options.profile) form.append('profile', options.profile);
    for (const item of items) form.append('images', await openAsBlob(item.file.path), item.id);
    const response = await this.request('/v1/jobs', { method: 'POST', body: form, signal });
    return jobCreatedSchema.parse(await this.json(response, 202));
  }

  /** GET /v1/jobs/{id}: one page of items plus the job's counts. */
  async status(jobId: string, page = 1, pageSize = 1, signal?: AbortSignal): Promise<JobStatus> {
    const query = new URLSearchParams({ page: String(page), pageSize: String(pageSize) });
    const response = await this.request(`/v1/jobs/${encodeURIComponent(jobId)}?${query.toString()}`, {
      signal,
    });
    return jobStatusSchema.parse(await this.json(response, 200));
  }

  /** Every page of a job's items, MAX_JOB_PAGE_SIZE at a time; the last status with all items. */
  async allItems(jobId: string, signal?: AbortSignal): Promise<JobStatus> {
    const first = await this.status(jobId, 1, MAX_JOB_PAGE_SIZE, signal);
    const items = [...first.items];
    const pages = Math.ceil(first.page.totalItems / MAX_JOB_PAGE_SIZE);
    for (let page = 2; page <= pages; page++) {
      items.push(...(await this.status(jobId, page, MAX_JOB_PAGE_SIZE, signal)).items);
    }
    return { ...first, items };
  }

  private async request(path: string, init: RequestInit): Promise<Response> {
    try {
      return await this.fetchFn(`${this.baseUrl}${path}`, init);
    } catch (error) {
      if (init.signal?.aborted) throw error;
      throw new GatewayUnreachableError(this.baseUrl, error);
    }
  }

  private async json(response: Response, expected: number): Promise<unknown> {
    const text = await response.text();
    let body: unknown;
    try {
      body = JSON.parse(text) as unknown;
    } catch {
      body = undefined;
    }
    if (response.status === expected && body !== undefined) return body;
    throw problemError(response.status, body, text);
  }
}

function problemError(status: number, body: unknown, text: string): GatewayRequestError {
  const problem = (typeof body === 'object' && body !== null ? body : {}) as {
    code?: unknown;
    detail?: unknown;
    title?: unknown;
    errors?: unknown;
  };
  const code = typeof problem.code === 'string' ? problem.code : `HTTP_${status}`;
  const detail =
    typeof problem.detail === 'string'
      ? problem.detail
      : typeof problem.title === 'string'
        ? problem.title
        : text.slice(0, 200) || `HTTP ${status}`;
  const fields = Array.isArray(problem.errors)
    ? (problem.errors as Array<{ field?: unknown; message?: unknown }>)
        .map((error) => `${String(error.field)}: ${String(error.message)}`)
        .join('; ')
    : '';
  return new GatewayRequestError(status, code, fields ? `${detail} (${fields})` : detail);
}

function describeCause(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } } | undefined)?.cause;
  if (typeof cause?.code === 'string') return cause.code;
  if (typeof cause?.message === 'string') return cause.message;
  return error instanceof Error ? error.message : String(error);
}
