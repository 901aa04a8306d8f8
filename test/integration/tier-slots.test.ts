// Admission control against a real nats-server: the slots of one Ollama tier, shared by several processes (here,
// several NATS connections, each with its own KvTierSlots, as separate workers and pods have), never hand out more
// than their capacity, wake waiters when another process releases, and recover a dead holder's slot.
import { connect, type NatsConnection } from 'nats';
import { KvTierSlots, type TierSlotLease } from '@argus/messaging';
import { startNats, type NatsHarness } from '../support/nats-harness';

jest.setTimeout(60_000);

let nats: NatsHarness;
const connections: NatsConnection[] = [];
const pools: KvTierSlots[] = [];

beforeAll(async () => {
  nats = await startNats({ mode: 'local' });
});

afterEach(async () => {
  await Promise.all(pools.splice(0).map((pool) => pool.stop()));
  await Promise.all(connections.splice(0).map((connection) => connection.close().catch(() => undefined)));
});

afterAll(async () => {
  await nats.stop();
});

let tierCounter = 0;

/** One "process": its own connection and its own view of the tier's slots. */
async function startProcess(tier: string, capacity: number, leaseTtlMs = 15_000): Promise<KvTierSlots> {
  const connection = await connect({ servers: nats.url, reconnectTimeWait: 250, maxReconnectAttempts: -1 });
  connections.push(connection);
  const pool = new KvTierSlots(connection, { tier, capacity, leaseTtlMs });
  pools.push(pool);
  await pool.start();
  return pool;
}

function freshTier(): string {
  tierCounter += 1;
  return `t${tierCounter}`;
}

const never = new AbortController().signal;

describe('KvTierSlots', () => {
  it('hands out at most its capacity across processes and refuses the rest after the wait', async () => {
    const tier = freshTier();
    const [a, b] = [await startProcess(tier, 2), await startProcess(tier, 2)];
    const first = await a.acquire(0, never);
    const second = await b.acquire(0, never);
    expect(first).toBeDefined();
    expect(second).toBeDefined();
    expect(first?.slot).not.toBe(second?.slot);

    const started = Date.now();
    expect(await a.acquire(150, never)).toBeUndefined();
    expect(await b.acquire(0, never)).toBeUndefined();
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);

    await first?.release();
    const third = await b.acquire(500, never);
    expect(third?.slot).toBe(first?.slot);
  });

  it('wakes a waiter in one process when another process releases', async () => {
    const tier = freshTier();
    const [a, b] = [await startProcess(tier, 1), await startProcess(tier, 1)];
    const held = await a.acquire(0, never);
    const waiting = b.acquire(5_000, never);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const releasedAt = Date.now();
    await held?.release();
    const taken = await waiting;
    expect(taken).toBeDefined();
    // Woken by the watcher, not by the periodic re-check.
    expect(Date.now() - releasedAt).toBeLessThan(400);
  });

  it('gives a dead holder’s slot to another process once the lease is older than its ttl', async () => {
    const tier = freshTier();
    const dying = await startProcess(tier, 1, 1_200);
    const survivor = await startProcess(tier, 1, 1_200);
    expect(await dying.acquire(0, never)).toBeDefined();
    // The holder's process dies: no renewal, no release.
    await dying.stop();
    await connections[0].close();
    expect(await survivor.acquire(0, never)).toBeUndefined();
    const started = Date.now();
    const taken = await survivor.acquire(5_000, never);
    expect(taken).toBeDefined();
    expect(Date.now() - started).toBeGreaterThan(500);
  });

  it('keeps a live holder’s slot past the ttl by renewing it', async () => {
    const tier = freshTier();
    const holder = await startProcess(tier, 1, 1_200);
    const other = await startProcess(tier, 1, 1_200);
    const held = await holder.acquire(0, never);
    expect(await other.acquire(2_500, never)).toBeUndefined();
    await held?.release();
    // The other process learns of the release through its watcher, a moment later.
    expect(await other.acquire(500, never)).toBeDefined();
  });

  it('never has more than its capacity held under contention from three processes', async () => {
    const tier = freshTier();
    const capacity = 3;
    const processes = [
      await startProcess(tier, capacity),
      await startProcess(tier, capacity),
      await startProcess(tier, capacity),
    ];
    let held = 0;
    let maxHeld = 0;
    let served = 0;
    const callers = Array.from({ length: 30 }, async (_, index) => {
      const pool = processes[index % processes.length];
      const lease: TierSlotLease | undefined = await pool.acquire(20_000, never);
      if (!lease) throw new Error('no slot within 20 s');
      held += 1;
      maxHeld = Math.max(maxHeld, held);
      await new Promise((resolve) => setTimeout(resolve, 30));
      held -= 1;
      served += 1;
      await lease.release();
    });
    await Promise.all(callers);
    expect(served).toBe(30);
    expect(maxHeld).toBeLessThanOrEqual(capacity);
    expect(maxHeld).toBe(capacity);
  });

  it('gives back a slot released while NATS was down once it is up again, long before the lease expires', async () => {
    if (!nats.restart) throw new Error('the NATS harness cannot restart this server');
    const tier = freshTier();
    const [a, b] = [await startProcess(tier, 1, 30_000), await startProcess(tier, 1, 30_000)];
    const held = await a.acquire(0, never);
    expect(held).toBeDefined();
    const restarted = nats.restart({ downMs: 1_500 });
    await new Promise((resolve) => setTimeout(resolve, 300));
    // Released during the outage: the write fails and is retried.
    const released = held?.release();
    await restarted;
    await released;
    const started = Date.now();
    expect(await b.acquire(5_000, never)).toBeDefined();
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('stops waiting when the caller’s signal fires', async () => {
    const tier = freshTier();
    const pool = await startProcess(tier, 1);
    await pool.acquire(0, never);
    const started = Date.now();
    expect(await pool.acquire(10_000, AbortSignal.timeout(100))).toBeUndefined();
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});
