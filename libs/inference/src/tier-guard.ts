import {
  BrokenCircuitError,
  BulkheadRejectedError,
  bulkhead,
  circuitBreaker,
  CircuitState,
  ConsecutiveBreaker,
  ExponentialBackoff,
  handleWhen,
  retry,
  type BulkheadPolicy,
  type CircuitBreakerPolicy,
} from 'cockatiel';
import { ArgusError, type TierName } from '@argus/contracts';

export interface TierGuardOptions {
  /** Parallel slots × replicas of the tier's Ollama: more only piles up 503s. */
  concurrency: number;
  /** Calls allowed to wait for a slot; one more is answered UPSTREAM_BUSY at once. */
  queueLimit: number;
  /** Consecutive tier failures that open the breaker. */
  breakerThreshold?: number;
  breakerHalfOpenAfterMs?: number;
  /** Retries after the first attempt, on busy and connection errors, within the deadline. */
  retries?: number;
  retryInitialDelayMs?: number;
}

export type BreakerState = 'closed' | 'open' | 'half-open';

/** A failure that says the tier itself is unwell (unreachable, crashing, hanging), as opposed to a bad input. */
export function isTierFailure(error: unknown): boolean {
  if (!(error instanceof ArgusError)) return false;
  if (error.code === 'INFERENCE_TIMEOUT') return true;
  return error.code === 'MODEL_UNAVAILABLE' && error.details?.cause !== 'missing';
}

function isRetryable(error: unknown): boolean {
  if (!(error instanceof ArgusError)) return false;
  if (error.code === 'UPSTREAM_BUSY') return error.details?.cause !== 'queue_full';
  return (
    error.code === 'MODEL_UNAVAILABLE' &&
    (error.details?.cause === 'unreachable' || error.details?.cause === 'server_error')
  );
}

/**
 * Resilience for one tier inside one worker: a bulkhead (concurrency with a bounded wait queue), a circuit breaker
 * that lets `auto` route around a sick tier, and jittered retries on busy and connection errors that never run past
 * the request's deadline. Built on cockatiel.
 */
export class TierGuard {
  private readonly bulkhead: BulkheadPolicy;
  private readonly breaker: CircuitBreakerPolicy;

  constructor(
    readonly tier: TierName,
    private readonly options: TierGuardOptions,
  ) {
    this.bulkhead = bulkhead(Math.max(1, options.concurrency), Math.max(0, options.queueLimit));
    this.breaker = circuitBreaker(handleWhen(isTierFailure), {
      halfOpenAfter: options.breakerHalfOpenAfterMs ?? 15_000,
      breaker: new ConsecutiveBreaker(options.breakerThreshold ?? 5),
    });
  }

  get breakerState(): BreakerState {
    switch (this.breaker.state) {
      case CircuitState.Open:
      case CircuitState.Isolated:
        return 'open';
      case CircuitState.HalfOpen:
        return 'half-open';
      case CircuitState.Closed:
        return 'closed';
    }
  }

  /** Slots and queue places in use, for the inflight gauge. */
  get load(): { executing: number; queued: number } {
    return {
      executing: Math.max(1, this.options.concurrency) - this.bulkhead.executionSlots,
      queued: Math.max(0, this.options.queueLimit) - this.bulkhead.queueSlots,
    };
  }

  /** @param deadlineAt epoch ms after which no retry is started */
  async execute<T>(
    work: (signal: AbortSignal) => Promise<T>,
    signal: AbortSignal,
    deadlineAt: number,
  ): Promise<T> {
    const retries = this.options.retries ?? 2;
    const initialDelay = this.options.retryInitialDelayMs ?? 200;
    const withinDeadline = handleWhen(
      (error) => isRetryable(error) && Date.now() + initialDelay * 2 < deadlineAt,
    );
    const retryPolicy = retry(withinDeadline, {
      maxAttempts: retries,
      backoff: new ExponentialBackoff({ initialDelay, maxDelay: 2_000 }),
    });
    try {
      return await retryPolicy.execute(
        ({ signal: attemptSignal }) =>
          this.breaker.execute(() =>
            this.bulkhead.execute(({ signal: slotSignal }) => work(slotSignal), attemptSignal),
          ),
        signal,
      );
    } catch (error) {
      throw this.translate(error, signal);
    }
  }

  private translate(error: unknown, signal: AbortSignal): unknown {
    if (error instanceof BulkheadRejectedError) {
      return new ArgusError(
        'UPSTREAM_BUSY',
        `the ${this.tier} tier is at its concurrency limit and its queue is full`,
        {
          cause: 'queue_full',
        },
      );
    }
    if (error instanceof BrokenCircuitError) {
      return new ArgusError(
        'MODEL_UNAVAILABLE',
        `the ${this.tier} tier's circuit breaker is open after repeated failures`,
        {
          cause: 'breaker_open',
        },
      );
    }
    if (signal.aborted && !(error instanceof ArgusError)) {
      return new ArgusError('INFERENCE_TIMEOUT', `the ${this.tier} tier did not answer before the deadline`);
    }
    return error;
  }
}
