import { HttpException } from '@nestjs/common';
import {
  ArgusError,
  ERROR_TABLE,
  RETRY_AFTER_SECONDS,
  type AnalyzeResults,
  type ErrorCode,
  type Problem,
} from '@argus/contracts';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** Every task failed; the answer is a problem whose code is the most actionable one, with each task's error. */
export class AnalyzeFailedError extends ArgusError {
  constructor(
    code: ErrorCode,
    message: string,
    readonly results: AnalyzeResults,
    details?: Record<string, unknown>,
  ) {
    super(code, message, details);
  }
}

export interface FieldError {
  field: string;
  message: string;
}

export class InvalidRequestError extends ArgusError {
  constructor(readonly errors: FieldError[]) {
    super('INVALID_REQUEST', errors.map((error) => `${error.field}: ${error.message}`).join('; '));
  }
}

export interface ProblemResponse {
  status: number;
  headers: Record<string, string>;
  body: Problem;
}

/** Fastify's own error codes for requests it rejects before a handler runs. */
const FASTIFY_CODES: Partial<Record<string, ErrorCode>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'IMAGE_TOO_LARGE',
  FST_REQ_FILE_TOO_LARGE: 'IMAGE_TOO_LARGE',
  FST_PARTS_LIMIT: 'INVALID_REQUEST',
  FST_FILES_LIMIT: 'INVALID_REQUEST',
  FST_FIELDS_LIMIT: 'INVALID_REQUEST',
  FST_PROTO_VIOLATION: 'INVALID_REQUEST',
  FST_INVALID_MULTIPART_CONTENT_TYPE: 'INVALID_REQUEST',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'INVALID_REQUEST',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'INVALID_REQUEST',
  FST_ERR_CTP_EMPTY_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
};

const FRIENDLY_MESSAGES: Partial<Record<string, string>> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE:
    'send multipart/form-data (field "image"), application/json or a raw image/* body',
  FST_FILES_LIMIT: 'send exactly one file, in field "image"',
};

/** One mapping from anything thrown to RFC 9457 problem details with a stable code. */
export function toProblem(error: unknown, traceId: string, instance?: string): ProblemResponse {
  const { code, detail } = classify(error);
  const entry = ERROR_TABLE[code];
  const headers: Record<string, string> = { 'content-type': PROBLEM_CONTENT_TYPE };
  if (entry.retryable) headers['retry-after'] = String(retryAfterOf(error) ?? RETRY_AFTER_SECONDS);
  if (code === 'UNAUTHORIZED') headers['www-authenticate'] = 'Bearer realm="argus"';
  const body: Problem = {
    type: `urn:argus:error:${code.toLowerCase().replace(/_/g, '-')}`,
    title: entry.title,
    status: entry.status,
    detail,
    code,
    traceId,
    ...(instance ? { instance } : {}),
    ...(error instanceof InvalidRequestError ? { errors: error.errors } : {}),
    ...(error instanceof AnalyzeFailedError ? { results: error.results } : {}),
  };
  return { status: entry.status, headers, body };
}

/** An error that knows when to come back (a rate limit's window) says so; others get the default. */
function retryAfterOf(error: unknown): number | undefined {
  if (!(error instanceof ArgusError)) return undefined;
  const seconds = error.details?.retryAfterSeconds;
  return typeof seconds === 'number' && seconds > 0 ? Math.ceil(seconds) : undefined;
}

function classify(error: unknown): { code: ErrorCode; detail: string } {
  if (error instanceof ArgusError) return { code: error.code, detail: error.message };
  const fastifyCode = (error as { code?: unknown }).code;
  if (typeof fastifyCode === 'string') {
    const mapped = FASTIFY_CODES[fastifyCode];
    if (mapped) return { code: mapped, detail: FRIENDLY_MESSAGES[fastifyCode] ?? (error as Error).message };
    if (fastifyCode.startsWith('FST_ERR_CTP_') || fastifyCode === 'FST_ERR_VALIDATION') {
      return { code: 'INVALID_REQUEST', detail: (error as Error).message };
    }
  }
  if (error instanceof SyntaxError) return { code: 'INVALID_REQUEST', detail: 'the body is not valid JSON' };
  if (error instanceof HttpException) {
    const status = error.getStatus();
    if (status === 404) return { code: 'NOT_FOUND', detail: error.message };
    if (status === 413) return { code: 'IMAGE_TOO_LARGE', detail: error.message };
    if (status === 415) return { code: 'UNSUPPORTED_MEDIA_TYPE', detail: error.message };
    if (status < 500) return { code: 'INVALID_REQUEST', detail: error.message };
  }
  const statusCode = (error as { statusCode?: unknown }).statusCode;
  if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) {
    return {
      code: statusCode === 413 ? 'IMAGE_TOO_LARGE' : 'INVALID_REQUEST',
      detail: (error as Error).message,
    };
  }
  return { code: 'INTERNAL', detail: 'an unexpected error occurred; the trace id identifies it in the logs' };
}
