import { JSONCodec, type KV, type NatsConnection } from 'nats';
import { KvBucket } from './kv-bucket';

/** Default bucket for cached task answers. */
export const RESULT_BUCKET = 'argus-results';

const codec = JSONCodec();

/**
 * Cached task answers in JetStream KV with a TTL. The bucket is created on first use, so a fresh NATS needs no
 * setup. Implements the router's CacheStore shape (get/put) without importing it, to keep libs independent.
 */
export class ResultStore {
  private readonly kvBucket: KvBucket;

  constructor(
    connection: NatsConnection,
    ttlSeconds: number,
    readonly bucket: string = RESULT_BUCKET,
  ) {
    this.kvBucket = new KvBucket(connection, bucket, {
      ttlSeconds,
      description: 'Argus cached task answers',
    });
  }

  private open(): Promise<KV> {
    return this.kvBucket.open();
  }

  /** Creates the bucket if needed; called at start so the first request does not pay for it. */
  async check(): Promise<void> {
    await this.open();
  }

  async get(key: string): Promise<unknown> {
    const entry = await (await this.open()).get(key);
    if (!entry || entry.operation !== 'PUT' || entry.value.length === 0) return undefined;
    return codec.decode(entry.value);
  }

  async put(key: string, value: unknown): Promise<void> {
    await (await this.open()).put(key, codec.encode(value));
  }
}
