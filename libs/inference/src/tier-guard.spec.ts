import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { ArgusError } from '@argus/contracts';
import { inSpan } from '@argus/telemetry';
import { TierGuard, type TierSlotSource } from './tier-guard';

/** Slots that answer from a script: a lease while `free` > 0, none otherwise; records each wait asked for. */
class ScriptedSlots implements TierSlotSource {
  readonly capacity = 2;
  inUse = 0;
  readonly waits: number[] = [];
  released = 0;

  constructor(private free: number) {}

  acquire(maxWaitMs: number): Promise<{ slot: string; release(): Promise<void> } | undefined> {
    this.waits.push(maxWaitMs);
    if (this.free <= 0) return Promise.resolve(undefined);
    this.free -= 1;
    this.inUse += 1;
    return Promise.resolve({
      slot: 'small.0',
      release: () => {
        this.free += 1;
        this.inUse -= 1;
        this.released += 1;
        return Promise.resolve();
      },
    });
  }
}

const never = new AbortController().signal;
const farDeadline = () => Date.now() + 60_000;

describe('TierGuard with shared slots', () => {
  it('runs the call under a slot and gives it back after success and after failure', async () => {
    const slots = new ScriptedSlots(1);
    const guard = new TierGuard('small', { concurrency: 2, queueLimit: 0, slots, retries: 0 });
    await expect(guard.execute(() => Promise.resolve('ok'), never, farDeadline(), 250)).resolves.toBe('ok');
    await expect(
      guard.execute(
        () => Promise.reject(new ArgusError('INVALID_MODEL_OUTPUT', 'bad')),
        never,
        farDeadline(),
        250,
      ),
    ).rejects.toMatchObject({ code: 'INVALID_MODEL_OUTPUT' });
    expect(slots.released).toBe(2);
    expect(slots.inUse).toBe(0);
  });

  it('answers UPSTREAM_BUSY with a Retry-After at once when no slot comes free, without retrying', async () => {
    const slots = new ScriptedSlots(0);
    const guard = new TierGuard('small', { concurrency: 2, queueLimit: 0, slots, retries: 2 });
    const work = jest.fn(() => Promise.resolve('never'));
    const error: unknown = await guard
      .execute(work, never, farDeadline(), 250)
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ArgusError);
    expect(error).toMatchObject({
      code: 'UPSTREAM_BUSY',
      details: { cause: 'tier_full', retryAfterSeconds: 1 },
    });
    expect((error as Error).message).toMatch(/all 2 slots of the small tier are in use/);
    expect(work).not.toHaveBeenCalled();
    expect(slots.waits).toEqual([250]);
  });

  it('never waits for a slot past the deadline', async () => {
    const slots = new ScriptedSlots(0);
    const guard = new TierGuard('small', { concurrency: 2, queueLimit: 0, slots, retries: 0 });
    await guard.execute(() => Promise.resolve(1), never, Date.now() + 100, 30_000).catch(() => undefined);
    expect(slots.waits[0]).toBeLessThanOrEqual(100);
  });

  it('takes no slot while its breaker is open', async () => {
    const slots = new ScriptedSlots(5);
    const guard = new TierGuard('small', {
      concurrency: 2,
      queueLimit: 0,
      slots,
      retries: 0,
      breakerThreshold: 1,
    });
    const failing = () =>
      Promise.reject(new ArgusError('MODEL_UNAVAILABLE', 'down', { cause: 'unreachable' }));
    await guard.execute(failing, never, farDeadline(), 250).catch(() => undefined);
    expect(guard.breakerState).toBe('open');
    const before = slots.waits.length;
    await expect(guard.execute(() => Promise.resolve(1), never, farDeadline(), 250)).rejects.toMatchObject({
      code: 'MODEL_UNAVAILABLE',
      details: { cause: 'breaker_open' },
    });
    expect(slots.waits.length).toBe(before);
  });

  it('reports the slots this process holds and the calls waiting for one as its load', async () => {
    const slots = new ScriptedSlots(1);
    const guard = new TierGuard('small', { concurrency: 2, queueLimit: 0, slots, retries: 0 });
    let finish!: () => void;
    const running = guard.execute(
      () =>
        new Promise<void>((resolve) => {
          finish = resolve;
        }),
      never,
      farDeadline(),
      250,
    );
    await new Promise((resolve) => setImmediate(resolve));
    expect(guard.load).toEqual({ executing: 1, queued: 0 });
    finish();
    await running;
    expect(guard.load).toEqual({ executing: 0, queued: 0 });
  });

  describe('on the trace', () => {
    const exporter = new InMemorySpanExporter();
    beforeAll(() => {
      context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
      trace.setGlobalTracerProvider(
        new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }),
      );
    });
    afterAll(() => {
      trace.disable();
      context.disable();
    });

    it('marks the wait for a slot as a span event, taken or refused', async () => {
      const guard = new TierGuard('small', {
        concurrency: 2,
        queueLimit: 0,
        slots: new ScriptedSlots(1),
        retries: 0,
      });
      await inSpan('task', {}, () => guard.execute(() => Promise.resolve(1), never, farDeadline(), 250));
      const full = new TierGuard('small', {
        concurrency: 2,
        queueLimit: 0,
        slots: new ScriptedSlots(0),
        retries: 0,
      });
      await inSpan('task', {}, () => full.execute(() => Promise.resolve(1), never, farDeadline(), 250)).catch(
        () => undefined,
      );
      const events = exporter
        .getFinishedSpans()
        .flatMap((span) => span.events)
        .filter((event) => event.name.startsWith('tier slot'));
      expect(events.map((event) => event.name)).toEqual(['tier slot acquired', 'tier slot refused']);
      expect(events[0].attributes).toMatchObject({ 'argus.tier': 'small', 'argus.slot': 'small.0' });
      expect(typeof events[0].attributes?.['argus.slot_wait_ms']).toBe('number');
    });
  });
});
