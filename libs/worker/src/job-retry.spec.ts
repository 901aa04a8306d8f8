import type { TaskReply } from '@argus/contracts';
import { decideJobOutcome, isRetryableCode, retryDelayMs } from './job-retry';

const policy = { baseMs: 1_000, maxMs: 10_000 };
const meta = {
  engine: 'ollama' as const,
  tier: 'small' as const,
  model: 'm',
  durationMs: 1,
  escalations: [],
};

function failed(
  code: 'UPSTREAM_BUSY' | 'INFERENCE_TIMEOUT' | 'INVALID_MODEL_OUTPUT' | 'MODEL_UNAVAILABLE',
): TaskReply {
  return { ...meta, status: 'error', error: { code, message: 'nope' } };
}

describe('job retry decision', () => {
  it('treats busy, unavailable and timeouts as retryable and bad output or bad input as final', () => {
    expect(isRetryableCode('UPSTREAM_BUSY')).toBe(true);
    expect(isRetryableCode('MODEL_UNAVAILABLE')).toBe(true);
    expect(isRetryableCode('INFERENCE_TIMEOUT')).toBe(true);
    expect(isRetryableCode('INVALID_MODEL_OUTPUT')).toBe(false);
    expect(isRetryableCode('IMAGE_DECODE_FAILED')).toBe(false);
  });

  it('stores ok replies and final errors', () => {
    const ok = { ...meta, status: 'ok', cached: false, needsGpuTier: [] } as unknown as TaskReply;
    expect(decideJobOutcome(ok, 1, 5, policy)).toEqual({ kind: 'store' });
    expect(decideJobOutcome(failed('INVALID_MODEL_OUTPUT'), 5, 5, policy)).toEqual({ kind: 'store' });
  });

  it('retries a retryable error with a growing delay until the last delivery, then gives up', () => {
    const first = decideJobOutcome(failed('UPSTREAM_BUSY'), 1, 5, policy, () => 1);
    const third = decideJobOutcome(failed('UPSTREAM_BUSY'), 3, 5, policy, () => 1);
    expect(first).toMatchObject({ kind: 'retry', delayMs: 1_000 });
    expect(third).toMatchObject({ kind: 'retry', delayMs: 4_000 });
    const last = decideJobOutcome(failed('INFERENCE_TIMEOUT'), 5, 5, policy);
    expect(last).toMatchObject({ kind: 'dead', error: { code: 'INFERENCE_TIMEOUT' } });
    if (last.kind === 'dead') expect(last.error.message).toContain('after 5 deliveries');
  });

  it('caps the delay and jitters it into the upper half', () => {
    expect(retryDelayMs(20, policy, () => 1)).toBe(10_000);
    expect(retryDelayMs(20, policy, () => 0)).toBe(5_000);
    expect(retryDelayMs(1, policy, () => 0.5)).toBe(750);
  });
});
