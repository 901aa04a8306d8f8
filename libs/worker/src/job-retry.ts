import { ERROR_TABLE, type ErrorCode, type TaskError, type TaskReply } from '@argus/contracts';

export interface RetryPolicy {
  /** The first retry waits about this long; each further one twice as long. */
  baseMs: number;
  /** No retry waits longer than this. */
  maxMs: number;
}

/** What to do with a job message once the pipeline answered. */
export type JobOutcome =
  | { kind: 'store' }
  | { kind: 'retry'; delayMs: number; error: TaskError }
  | { kind: 'dead'; error: TaskError };

/**
 * Codes worth another delivery: the table's retryable ones (busy, unavailable) and timeouts, which a later attempt on
 * a less loaded backend may well beat. Everything else is the item's final answer.
 */
export function isRetryableCode(code: ErrorCode): boolean {
  return ERROR_TABLE[code].retryable || code === 'INFERENCE_TIMEOUT';
}

/** Exponential backoff with full jitter in its upper half: base·2^(n-1), capped, times 0.5–1. */
export function retryDelayMs(
  deliveryCount: number,
  policy: RetryPolicy,
  random: () => number = Math.random,
): number {
  const exponential = policy.baseMs * 2 ** Math.max(0, deliveryCount - 1);
  const capped = Math.min(policy.maxMs, exponential);
  return Math.round(capped * (0.5 + random() / 2));
}

/**
 * ok and final errors are stored; a retryable error is retried until the last delivery, which goes to the dead-letter
 * stream with that error as its reason.
 */
export function decideJobOutcome(
  reply: TaskReply,
  deliveryCount: number,
  maxDeliver: number,
  policy: RetryPolicy,
  random?: () => number,
): JobOutcome {
  if (reply.status === 'ok' || !isRetryableCode(reply.error.code)) return { kind: 'store' };
  if (deliveryCount >= maxDeliver) {
    return {
      kind: 'dead',
      error: {
        code: reply.error.code,
        message: `${reply.error.message} (gave up after ${deliveryCount} deliveries)`,
      },
    };
  }
  return { kind: 'retry', delayMs: retryDelayMs(deliveryCount, policy, random), error: reply.error };
}
