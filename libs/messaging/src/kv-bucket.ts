import type { KV, NatsConnection } from 'nats';

/**
 * A JetStream KV bucket opened on first use and created if missing, so a fresh NATS needs no setup. Concurrent callers
 * share the one open; a failed open is forgotten so that the next call tries again instead of failing forever.
 */
export class KvBucket {
  private kv?: Promise<KV>;

  constructor(
    private readonly connection: NatsConnection,
    readonly name: string,
    private readonly options: {
      ttlSeconds: number;
      description: string;
      /** Bound on every operation (JetStream's default is 5 s). */
      timeoutMs?: number;
    },
  ) {}

  open(): Promise<KV> {
    const { timeoutMs } = this.options;
    this.kv ??= this.connection
      .jetstream(timeoutMs === undefined ? undefined : { timeout: timeoutMs })
      .views.kv(this.name, {
        ttl: this.options.ttlSeconds * 1000,
        history: 1,
        description: this.options.description,
      })
      .catch((error: unknown) => {
        this.kv = undefined;
        throw error;
      });
    return this.kv;
  }
}
