import { z } from 'zod';

/**
 * Stable error codes and their HTTP status. Clients switch on `code`; the status is derived from this one table.
 * `retryable` codes are answered with Retry-After.
 */
export const ERROR_TABLE = {
  INVALID_REQUEST: { status: 400, retryable: false, title: 'The request is not valid' },
  URL_NOT_ALLOWED: { status: 400, retryable: false, title: 'The image URL may not be fetched' },
  UNAUTHORIZED: { status: 401, retryable: false, title: 'A valid API key is required' },
  FORBIDDEN: { status: 403, retryable: false, title: 'The API key may not do this' },
  NOT_FOUND: { status: 404, retryable: false, title: 'No such resource' },
  CONFLICT: { status: 409, retryable: false, title: 'The resource is not in a state that allows this' },
  IMAGE_TOO_LARGE: { status: 413, retryable: false, title: 'The image is too large' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, retryable: false, title: 'The image type is not supported' },
  IMAGE_DECODE_FAILED: { status: 422, retryable: false, title: 'The image could not be decoded' },
  RATE_LIMITED: { status: 429, retryable: true, title: 'Too many requests for this API key' },
  INTERNAL: { status: 500, retryable: false, title: 'Internal error' },
  INVALID_MODEL_OUTPUT: { status: 502, retryable: false, title: 'The model answered with invalid output' },
  URL_FETCH_FAILED: { status: 502, retryable: false, title: 'The image could not be fetched from its URL' },
  MODEL_UNAVAILABLE: { status: 503, retryable: true, title: 'The model is not available' },
  UPSTREAM_BUSY: { status: 503, retryable: true, title: 'The inference backend is busy' },
  SERVICE_UNAVAILABLE: {
    status: 503,
    retryable: true,
    title: 'Argus cannot reach its message bus or image store',
  },
  INFERENCE_TIMEOUT: { status: 504, retryable: false, title: 'Inference did not finish before the deadline' },
} as const;

export type ErrorCode = keyof typeof ERROR_TABLE;
export const ERROR_CODES = Object.keys(ERROR_TABLE) as [ErrorCode, ...ErrorCode[]];
export const errorCodeSchema = z.enum(ERROR_CODES);

/** Seconds a client should wait before retrying a retryable error. */
export const RETRY_AFTER_SECONDS = 5;

export const taskErrorSchema = z.object({
  code: errorCodeSchema,
  message: z.string(),
  /** When a retryable error knows better than the default when to come back (a full tier: 1 s). */
  retryAfterSeconds: z.number().int().positive().optional(),
});
export type TaskError = z.infer<typeof taskErrorSchema>;

/** An error that carries a stable code; thrown anywhere, mapped to HTTP or a NATS reply in one place each. */
export class ArgusError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'ArgusError';
  }

  static is(value: unknown): value is ArgusError {
    return value instanceof ArgusError;
  }

  toTaskError(): TaskError {
    const retryAfter = this.details?.retryAfterSeconds;
    return {
      code: this.code,
      message: this.message,
      ...(typeof retryAfter === 'number' && retryAfter > 0
        ? { retryAfterSeconds: Math.ceil(retryAfter) }
        : {}),
    };
  }
}

/** When several tasks fail, the answer takes the code a client can do the most with: retryable first. */
export function mostActionableCode(codes: readonly ErrorCode[]): ErrorCode {
  const priority: ErrorCode[] = [
    'MODEL_UNAVAILABLE',
    'UPSTREAM_BUSY',
    'SERVICE_UNAVAILABLE',
    'INFERENCE_TIMEOUT',
    'INVALID_MODEL_OUTPUT',
    'URL_FETCH_FAILED',
    'IMAGE_DECODE_FAILED',
    'IMAGE_TOO_LARGE',
    'UNSUPPORTED_MEDIA_TYPE',
    'URL_NOT_ALLOWED',
    'RATE_LIMITED',
    'FORBIDDEN',
    'UNAUTHORIZED',
    'INVALID_REQUEST',
    'NOT_FOUND',
    'CONFLICT',
    'INTERNAL',
  ];
  return priority.find((code) => codes.includes(code)) ?? 'INTERNAL';
}
