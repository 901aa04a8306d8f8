import { openAsBlob } from 'node:fs';
import { jobCreatedSchema, jobStatusSchema, MAX_JOB_PAGE_SIZE } from '@argus/contracts';
import {
  formData,
  urlPath,
  type ApiPath,
  type ApiResponse,
  type JobCreated,
  type JobForm,
  type JobStatus,
  type JsonOf,
  type MethodOf,
  type Operation,
  type Problem,
  type RequestOf,
  type StatusOf,
  type Task,
  type Unchecked,
} from './gateway-api';
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

/** The gateway refused the API key: 401 (missing, unknown) or 403 (a scope it lacks). A setup problem, exit 2. */
export class GatewayAuthError extends GatewayRequestError {}

/** At most this long per wait on a 429, whatever Retry-After says. */
export const MAX_RETRY_AFTER_SECONDS = 60;
/** Consecutive 429s of one request that are waited out; the next one fails the request. */
export const MAX_RATE_LIMIT_WAITS = 10;

export interface GatewayClientOptions {
  /** Sent as `Authorization: Bearer <key>` on every request. */
  apiKey?: string;
  /** Waits out a 429; injectable for tests. Rejects when the signal aborts. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Told before each wait (for a line on stderr). */
  onRateLimited?: (waitSeconds: number, attempt: number) => void;
  maxRateLimitWaits?: number;
  maxRetryAfterSeconds?: number;
}

/** A timer that an abort ends early (rejecting with the signal's reason). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Seconds to wait for a 429's Retry-After (delta-seconds or an HTTP date), within 1 and `max`. 1 s when the header is
 * missing or unreadable, so a bare 429 is not retried in a tight loop.
 */
export function retryAfterSeconds(
  header: string | null,
  max = MAX_RETRY_AFTER_SECONDS,
  now = Date.now(),
): number {
  const value = header?.trim() ?? '';
  let seconds = 1;
  if (/^\d+$/.test(value)) seconds = Number(value);
  else if (value !== '' && !Number.isNaN(Date.parse(value)))
    seconds = Math.ceil((Date.parse(value) - now) / 1000);
  return Math.min(max, Math.max(1, seconds));
}

/** The job options the CLI passes on: the form fields of POST /v1/jobs, with the tasks as a list. */
export type JobOptions = Pick<JobForm, 'tier' | 'policy' | 'profile' | 'question' | 'language'> & {
  tasks?: Task[];
};

export type FetchFn = typeof fetch;

/** The CLI's view of the gateway's async job API (docs/jobs.md), over global fetch. */
export class GatewayClient {
  constructor(
    readonly baseUrl: string,
    private readonly fetchFn: FetchFn = fetch,
    private readonly options: GatewayClientOptions = {},
  ) {}

  /**
   * Resolves when the gateway answers on /healthz; throws GatewayUnreachableError when it does not answer, and
   * GatewayAuthError on a 401 (no key, or a key it does not know). A 403 is fine here: a key without the `ops` scope
   * may not read the probes, yet may submit jobs.
   */
  async ping(signal?: AbortSignal): Promise<void> {
    const response = await this.send('/healthz', 'get', {}, signal);
    if (hasStatus(response, 401)) {
      const text = await response.text();
      throw authError(problemError(401, parseJson(text), text));
    }
    await response.body?.cancel();
  }

  /** POST /v1/jobs as a multipart form: one file per item in field `images`, named by its item id. */
  async createJob(
    items: readonly PlannedItem[],
    options: JobOptions,
    signal?: AbortSignal,
  ): Promise<JobCreated> {
    const images: File[] = [];
    // The upload's filename is the item id; the File only names the file's lazily read Blob.
    for (const item of items) images.push(new File([await openAsBlob(item.file.path)], item.id));
    const response = await this.send(
      '/v1/jobs',
      'post',
      {
        form: {
          // Empty options are left out, so the gateway's defaults apply.
          tasks: options.tasks?.join(',') || undefined,
          tier: options.tier || undefined,
          policy: options.policy || undefined,
          profile: options.profile || undefined,
          question: options.question || undefined,
          language: options.language || undefined,
          images,
        },
      },
      signal,
    );
    return this.json(response, 202, (body) => jobCreatedSchema.parse(body));
  }

  /** GET /v1/jobs/{id}: one page of items plus the job's counts. */
  async status(jobId: string, page = 1, pageSize = 1, signal?: AbortSignal): Promise<JobStatus> {
    const response = await this.send(
      '/v1/jobs/{id}',
      'get',
      { path: { id: jobId }, query: { page, pageSize } },
      signal,
    );
    return this.json(response, 200, (body) => jobStatusSchema.parse(body));
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

  /**
   * One request of an operation of docs/openapi.json: its path template filled in, its query and form as the document
   * declares them. The response is marked with the operation, so that `json` reads only the statuses and bodies the
   * document declares for it.
   */
  private async send<P extends ApiPath, M extends MethodOf<P>>(
    path: P,
    method: M,
    request: RequestOf<Operation<P, M>>,
    signal?: AbortSignal,
  ): Promise<ApiResponse<Operation<P, M>>> {
    const { form, ...params } = request as {
      form?: Parameters<typeof formData>[0];
      path?: Record<string, string | number>;
      query?: Record<string, string | number | boolean | undefined>;
    };
    return this.request(urlPath(path, params), {
      method: method.toUpperCase(),
      ...(form ? { body: formData(form) } : {}),
      signal,
    });
  }

  /** One request with the API key; a 429 is waited out (Retry-After, bounded) and sent again. */
  private async request(path: string, init: RequestInit): Promise<Response> {
    const maxWaits = this.options.maxRateLimitWaits ?? MAX_RATE_LIMIT_WAITS;
    const wait = this.options.sleep ?? sleep;
    const headers = new Headers(init.headers);
    if (this.options.apiKey) headers.set('authorization', `Bearer ${this.options.apiKey}`);
    for (let waits = 0; ; waits++) {
      let response: Response;
      try {
        // A FormData body is serialised again on every call, so a retried upload sends the whole form.
        response = await this.fetchFn(`${this.baseUrl}${path}`, { ...init, headers });
      } catch (error) {
        if (init.signal?.aborted) throw error;
        throw new GatewayUnreachableError(this.baseUrl, error);
      }
      if (response.status !== 429 || waits >= maxWaits) return response;
      const seconds = retryAfterSeconds(
        response.headers.get('retry-after'),
        this.options.maxRetryAfterSeconds ?? MAX_RETRY_AFTER_SECONDS,
      );
      await response.body?.cancel();
      this.options.onRateLimited?.(seconds, waits + 1);
      await wait(seconds * 1000, init.signal ?? undefined);
    }
  }

  /**
   * The JSON body of a response with the status `expected`, validated by `parse` (the contracts' schema, whose output
   * must be what the document declares); any other status is the problem+json it carries, thrown.
   */
  private async json<Op, S extends StatusOf<Op>>(
    response: ApiResponse<Op>,
    expected: S,
    parse: (body: unknown) => JsonOf<Op, S>,
  ): Promise<JsonOf<Op, S>> {
    const text = await response.text();
    const body = parseJson(text);
    if (response.status === expected && body !== undefined) return parse(body);
    const error = problemError(response.status, body, text);
    throw response.status === 401 || response.status === 403 ? authError(error) : error;
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function authError(error: GatewayRequestError): GatewayAuthError {
  return new GatewayAuthError(error.status, error.code, error.message);
}

/** Whether a response has a status the document declares for its operation. */
function hasStatus<Op>(response: ApiResponse<Op>, status: StatusOf<Op>): boolean {
  return response.status === status;
}

/** The error of a non-2xx answer: from its problem+json when it has one (a proxy may answer otherwise). */
function problemError(status: number, body: unknown, text: string): GatewayRequestError {
  const problem: Unchecked<Problem> = typeof body === 'object' && body !== null ? body : {};
  const code = typeof problem.code === 'string' ? problem.code : `HTTP_${status}`;
  const detail =
    typeof problem.detail === 'string'
      ? problem.detail
      : typeof problem.title === 'string'
        ? problem.title
        : text.slice(0, 200) || `HTTP ${status}`;
  const fields = Array.isArray(problem.errors)
    ? (problem.errors as Array<Unchecked<NonNullable<Problem['errors']>[number]>>)
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
