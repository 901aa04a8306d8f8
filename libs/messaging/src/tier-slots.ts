import { hostname } from 'node:os';
import type { KV, KvEntry, NatsConnection, QueuedIterator } from 'nats';
import { TIER_SLOT_BUCKET } from '@argus/contracts';
import { KvBucket } from './kv-bucket';

/** One slot of a tier, held until released; renewed in the background so a live holder never looks stale. */
export interface TierSlotLease {
  /** Which slot (`<tier>.<n>`), for logs and span events. */
  readonly slot: string;
  /** Idempotent; a failed release is logged and left to the lease's expiry. */
  release(): Promise<void>;
}

export interface TierSlotsOptions {
  tier: string;
  /** Calls allowed in flight to the tier from every process together: parallel × replicas + spare. */
  capacity: number;
  /** A lease not renewed for this long belongs to a dead process and may be taken (holders renew at a third of it). */
  leaseTtlMs: number;
  /** Who holds a slot, as written into the lease (hostname/pid and the task). */
  holder?: string;
  onError?: (message: string) => void;
}

interface SlotState {
  revision: number;
  held: boolean;
  /** When the holder last wrote it, in ms since the epoch (the server's timestamp for remote writes). */
  writtenAt: number;
}

const FREE = new Uint8Array(0);
/** JetStream's "wrong last sequence": someone else wrote the key first. */
const WRONG_LAST_SEQUENCE = 10071;
// Waiting for a slot re-checks at least this often, so a slot whose holder died is found without any event.
const STALE_RECHECK_MS = 500;
const RELEASE_RETRY_MS = 500;

/**
 * A counting semaphore for one Ollama tier, shared by every worker process and pod through a JetStream KV bucket.
 * Ollama never refuses a request for a loaded model: it queues it on the runner's semaphore without limit
 * (server/sched.go useLoadedRunner, llm/server.go Completion), so only Argus can keep the calls in flight to what
 * the tier's GPUs serve. Each slot is one key (`<tier>.<n>`), taken and given back by compare-and-set on its
 * revision, so taking a free slot and releasing it cost one KV write each. A watcher keeps a local picture of every
 * slot, so a process only writes to slots it believes free and learns at once when another process releases one.
 * A crashed holder stops renewing its lease; after `leaseTtlMs` its slot counts as free again.
 */
export class KvTierSlots {
  private readonly bucket: KvBucket;
  private readonly slots = new Map<string, SlotState>();
  private readonly keys: string[];
  private readonly attempting = new Set<string>();
  private readonly wakers = new Set<() => void>();
  private readonly holderValue: Uint8Array;
  private ready?: Promise<KV>;
  private watcher?: QueuedIterator<KvEntry>;
  private held = 0;

  constructor(
    connection: NatsConnection,
    private readonly options: TierSlotsOptions,
  ) {
    if (!(options.capacity >= 1)) throw new Error(`tier ${options.tier}: slot capacity must be at least 1`);
    this.bucket = new KvBucket(connection, TIER_SLOT_BUCKET, {
      ttlSeconds: 0,
      description: 'Argus: calls in flight to each Ollama tier (admission control)',
      timeoutMs: 2_000,
    });
    this.keys = Array.from({ length: options.capacity }, (_, index) => `${options.tier}.${index}`);
    this.holderValue = new TextEncoder().encode(
      JSON.stringify({ holder: options.holder ?? `${hostname()}/${process.pid}` }),
    );
  }

  get capacity(): number {
    return this.options.capacity;
  }

  /** Slots this process holds now. */
  get inUse(): number {
    return this.held;
  }

  /** Slots every process together holds now, as far as this process's watcher knows. */
  get inUseEverywhere(): number {
    const now = Date.now();
    return this.keys.filter((key) => {
      const state = this.slots.get(key);
      return state !== undefined && state.held && !this.isStale(state, now);
    }).length;
  }

  /** Loads the bucket and the slots' state; call at boot so the first request does not pay for it. */
  async start(): Promise<void> {
    await this.open();
  }

  /** A slot, waiting at most `maxWaitMs` for one to come free; undefined when none did, or the signal fired. */
  async acquire(maxWaitMs: number, signal: AbortSignal): Promise<TierSlotLease | undefined> {
    const kv = await this.open();
    const giveUpAt = Date.now() + Math.max(0, maxWaitMs);
    let confirmed = false;
    for (;;) {
      const lease = await this.tryTake(kv);
      if (lease) return lease;
      const remaining = giveUpAt - Date.now();
      if (!confirmed || remaining <= 0) {
        // Before waiting, and again before refusing, read the slots from the server: the watcher's picture can lag
        // (a release a moment ago) or be stale (a watcher that missed events across a NATS restart).
        confirmed = true;
        await this.refresh(kv);
        const fresh = await this.tryTake(kv);
        if (fresh || remaining <= 0) return fresh;
      }
      if (signal.aborted) return undefined;
      await this.nextChange(Math.min(remaining, STALE_RECHECK_MS), signal);
    }
  }

  private async refresh(kv: KV): Promise<void> {
    await Promise.all(
      this.keys.map(async (key) => {
        const entry = await kv.get(key);
        if (entry === null) return;
        this.observe(key, {
          revision: entry.revision,
          held: entry.operation === 'PUT' && entry.value.length > 0,
          writtenAt: entry.created.getTime(),
        });
      }),
    );
  }

  stop(): Promise<void> {
    this.watcher?.stop();
    this.watcher = undefined;
    this.ready = undefined;
    for (const wake of this.wakers) wake();
    return Promise.resolve();
  }

  private open(): Promise<KV> {
    this.ready ??= this.bucket
      .open()
      .then(async (kv) => {
        let initialised!: () => void;
        const loaded = new Promise<void>((resolve) => {
          initialised = resolve;
        });
        this.watcher = await kv.watch({ key: `${this.options.tier}.*`, initializedFn: initialised });
        void this.follow(this.watcher);
        await loaded;
        return kv;
      })
      .catch((error: unknown) => {
        this.ready = undefined;
        throw error;
      });
    return this.ready;
  }

  private async follow(watcher: QueuedIterator<KvEntry>): Promise<void> {
    try {
      for await (const entry of watcher) {
        this.observe(entry.key, {
          revision: entry.revision,
          held: entry.operation === 'PUT' && entry.value.length > 0,
          writtenAt: entry.created.getTime(),
        });
      }
    } catch (error) {
      this.options.onError?.(`tier ${this.options.tier} slot watcher ended: ${describe(error)}`);
    }
    // A lost watcher is rebuilt by the next acquire.
    if (this.watcher === watcher) {
      this.watcher = undefined;
      this.ready = undefined;
    }
  }

  /** Keeps the newest state of a slot (our own writes and the watcher's echo of them can arrive in either order). */
  private observe(key: string, state: SlotState): void {
    const known = this.slots.get(key);
    if (known !== undefined && known.revision >= state.revision) return;
    this.slots.set(key, state);
    if (!state.held) for (const wake of this.wakers) wake();
  }

  private isStale(state: SlotState, now: number): boolean {
    return state.held && now - state.writtenAt > this.options.leaseTtlMs;
  }

  private async tryTake(kv: KV): Promise<TierSlotLease | undefined> {
    const now = Date.now();
    // Start at a random slot so processes that wake together spread out instead of all writing slot 0.
    const offset = Math.floor(Math.random() * this.keys.length);
    for (let i = 0; i < this.keys.length; i++) {
      const key = this.keys[(offset + i) % this.keys.length];
      const state = this.slots.get(key);
      if (this.attempting.has(key)) continue;
      if (state !== undefined && state.held && !this.isStale(state, now)) continue;
      this.attempting.add(key);
      try {
        const revision =
          state === undefined
            ? await kv.create(key, this.holderValue)
            : await kv.update(key, this.holderValue, state.revision);
        this.observe(key, { revision, held: true, writtenAt: Date.now() });
        return this.lease(kv, key, revision);
      } catch (error) {
        if (!isConflict(error)) throw error;
        // Another process took it; the watcher brings its state.
      } finally {
        this.attempting.delete(key);
      }
    }
    return undefined;
  }

  private lease(kv: KV, key: string, takenRevision: number): TierSlotLease {
    this.held++;
    let revision = takenRevision;
    // Renewals and the release run one after another, each with the revision the previous one wrote: a release that
    // overlapped a renewal would otherwise carry a stale revision, fail, and leave the slot held until its ttl.
    let writes: Promise<unknown> = Promise.resolve();
    let released: Promise<void> | undefined;
    const write = (value: Uint8Array, held: boolean): Promise<void> => {
      const next = writes.then(async () => {
        revision = await kv.update(key, value, revision);
        this.observe(key, { revision, held, writtenAt: Date.now() });
      });
      writes = next.catch(() => undefined);
      return next;
    };
    const renew = setInterval(() => {
      write(this.holderValue, true).catch((error: unknown) => {
        this.options.onError?.(`renewing slot ${key} failed: ${describe(error)}`);
      });
    }, this.options.leaseTtlMs / 3);
    renew.unref();
    return {
      slot: key,
      release: () => {
        released ??= (async () => {
          clearInterval(renew);
          this.held--;
          // Retried while the lease could still be live (NATS restarting, say): a release that is lost outright keeps
          // the slot from every process until the lease expires.
          const giveUpAt = Date.now() + this.options.leaseTtlMs;
          for (let attempt = 0; ; attempt++) {
            try {
              await write(FREE, false);
              return;
            } catch (error) {
              // Taken over after a stall longer than the lease: the slot is someone else's now.
              if (isConflict(error)) return;
              if (Date.now() + RELEASE_RETRY_MS > giveUpAt) {
                this.options.onError?.(`releasing slot ${key} failed: ${describe(error)}`);
                return;
              }
              if (attempt === 0)
                this.options.onError?.(`releasing slot ${key} failed, retrying: ${describe(error)}`);
              await new Promise((resolve) => setTimeout(resolve, RELEASE_RETRY_MS));
            }
          }
        })();
        return released;
      },
    };
  }

  private nextChange(timeoutMs: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.wakers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      signal.addEventListener('abort', done, { once: true });
      this.wakers.add(done);
    });
  }
}

function isConflict(error: unknown): boolean {
  const apiError = (error as { api_error?: { err_code?: number } } | undefined)?.api_error;
  if (apiError?.err_code === WRONG_LAST_SEQUENCE) return true;
  const message = error instanceof Error ? error.message : String(error);
  return /wrong last sequence/i.test(message);
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
