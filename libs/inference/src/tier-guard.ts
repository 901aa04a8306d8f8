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
import { addSpanEvent } from '@argus/telemetry';

/**
 * The tier's slots shared by every process that calls it (KvTierSlots in @argus/messaging): Ollama queues a call for
 * a loaded model without limit instead of refusing it, so the cap on calls in flight has to be Argus's own.
 */
export interface TierSlotSource {
  readonly capacity: number;
  /** Slots this process holds now. */
  readonly inUse: number;
  acquire(
    maxWaitMs: number,
    signal: AbortSignal,
  ): Promise<{ readonly slot: string; release(): Promise<void> } | undefined>;
}

export interface TierGuardOptions {
  /** Calls this process runs at once when the tier has no shared slots (the in-process CPU tier). */
  concurrency: number;
  /** Calls allowed to wait for a local slot; one more is answered UPSTREAM_BUSY at once. */
  queueLimit: number;
  /** The tier's slots shared across processes (Ollama tiers); replaces the local bulkhead. */
  slots?: TierSlotSource;
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
  // A full tier was already waited for as long as the caller allows; Ollama's own 503 (its load queue) is retried.
  if (error.code === 'UPSTREAM_BUSY')
    return error.details?.cause !== 'queue_full' && error.details?.cause !== 'tier_full';
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
  private waitingForSlot = 0;

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
    const { slots } = this.options;
    if (slots) return { executing: slots.inUse, queued: this.waitingForSlot };
    return {
      executing: Math.max(1, this.options.concurrency) - this.bulkhead.executionSlots,
      queued: Math.max(0, this.options.queueLimit) - this.bulkhead.queueSlots,
    };
  }

  /**
   * @param deadlineAt epoch ms after which no retry is started
   * @param slotWaitMs how long to wait for one of the tier's shared slots before UPSTREAM_BUSY: short for a caller
   * waiting on HTTP, up to the deadline for a job item, which otherwise goes back to its queue
   */
  async execute<T>(
    work: (signal: AbortSignal) => Promise<T>,
    signal: AbortSignal,
    deadlineAt: number,
    slotWaitMs = 0,
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
      return await retryPolicy.execute(({ signal: attemptSignal }) => {
        const { slots } = this.options;
        if (slots) return this.withSharedSlot(slots, work, attemptSignal, deadlineAt, slotWaitMs);
        return this.breaker.execute(() =>
          this.bulkhead.execute(({ signal: slotSignal }) => work(slotSignal), attemptSignal),
        );
      }, signal);
    } catch (error) {
      throw this.translate(error, signal);
    }
  }

  private async withSharedSlot<T>(
    slots: TierSlotSource,
    work: (signal: AbortSignal) => Promise<T>,
    signal: AbortSignal,
    deadlineAt: number,
    slotWaitMs: number,
  ): Promise<T> {
    // An open breaker refuses before a slot is taken from callers that could use it.
    if (this.breakerState === 'open') throw new BrokenCircuitError();
    const wait = Math.max(0, Math.min(slotWaitMs, deadlineAt - Date.now()));
    const started = performance.now();
    this.waitingForSlot++;
    let lease: Awaited<ReturnType<TierSlotSource['acquire']>>;
    try {
      lease = await slots.acquire(wait, signal);
    } catch (error) {
      // The slots live in NATS KV: without it no call may start, and the tier itself is not to blame (no breaker).
      throw new ArgusError(
        'SERVICE_UNAVAILABLE',
        `the ${this.tier} tier's slots could not be read: ${error instanceof Error ? error.message : String(error)}`,
        { cause: 'slots_unavailable' },
      );
    } finally {
      this.waitingForSlot--;
    }
    const waitedMs = Math.round(performance.now() - started);
    if (!lease) {
      if (signal.aborted)
        throw new ArgusError(
          'INFERENCE_TIMEOUT',
          `the ${this.tier} tier had no free slot before the deadline`,
        );
      addSpanEvent('tier slot refused', { 'argus.tier': this.tier, 'argus.slot_wait_ms': waitedMs });
      throw new ArgusError(
        'UPSTREAM_BUSY',
        `all ${slots.capacity} slots of the ${this.tier} tier are in use (waited ${waitedMs} ms)`,
        { cause: 'tier_full', retryAfterSeconds: 1 },
      );
    }
    addSpanEvent('tier slot acquired', {
      'argus.tier': this.tier,
      'argus.slot': lease.slot,
      'argus.slot_wait_ms': waitedMs,
    });
    try {
      return await this.breaker.execute(() => work(signal));
    } finally {
      void lease.release();
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
