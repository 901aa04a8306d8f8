import type { NatsConnection, ObjectStore } from 'nats';
import { ArgusError, IMAGE_BUCKET } from '@argus/contracts';
import { KvBucket } from './kv-bucket';

function unavailable(action: 'store' | 'read', error: unknown): ArgusError {
  if (error instanceof ArgusError) return error;
  const reason = error instanceof Error ? error.message : String(error);
  return new ArgusError('SERVICE_UNAVAILABLE', `the image store could not ${action} the image: ${reason}`);
}

/** Room for a KV message's headers and subject under the server's max_payload. */
const HEADER_ROOM_BYTES = 16 * 1024;
/** Used until the connection reports the server's limit; NATS's own default. */
const DEFAULT_MAX_PAYLOAD = 1024 * 1024;
/**
 * Bound on each store operation. They take milliseconds when JetStream is healthy; while it recovers (just after a
 * NATS restart) a publish can wait out JetStream's 5 s default unanswered, which would eat a whole request deadline.
 * Failing sooner gives the caller a retryable 503 SERVICE_UNAVAILABLE instead.
 */
const STORE_TIMEOUT_MS = 1_500;
/** KV keys allow [-/_=.a-zA-Z0-9], no empty tokens; other keys (a caller's job item id) use the object store. */
const KV_KEY = /^[-_=a-zA-Z0-9]+(?:[./][-_=a-zA-Z0-9]+)*$/;

/**
 * The claim check: image bytes live in JetStream with a TTL and only a reference crosses NATS. An image that fits in
 * one message (most normalised photos, under max_payload: 1 MB by default) is one KV entry, `<bucket>-inline`: one
 * publish to store, one direct get to read. Larger ones go to the object store `<bucket>`, which chunks them and
 * checks a SHA-256 that nats.js computes in JavaScript on every put and get (10–14% of a busy gateway's or worker's
 * main thread in a profile, plus a round trip per chunk). Readers try the KV entry first, then the object store.
 */
export class ImageStore {
  private objects?: Promise<ObjectStore>;
  private readonly inline: KvBucket;
  private readonly others = new Map<string, ImageStore>();

  constructor(
    private readonly connection: NatsConnection,
    private readonly ttlSeconds: number,
    readonly bucket: string = IMAGE_BUCKET,
    private readonly description = 'Argus normalised images (claim check)',
  ) {
    this.inline = new KvBucket(connection, `${bucket}-inline`, {
      ttlSeconds,
      description: `${description}, one message each`,
      timeoutMs: STORE_TIMEOUT_MS,
    });
  }

  /** Reads that name `store`'s bucket go to it: e.g. job images, which live longer than the sync claim check. */
  alsoServe(store: ImageStore): this {
    this.others.set(store.bucket, store);
    return this;
  }

  private openObjects(): Promise<ObjectStore> {
    this.objects ??= this.connection
      .jetstream({ timeout: STORE_TIMEOUT_MS })
      .views.os(this.bucket, {
        ttl: this.ttlSeconds * 1e9,
        description: this.description,
      })
      .catch((error: unknown) => {
        this.objects = undefined;
        throw error;
      });
    return this.objects;
  }

  private fitsOneMessage(key: string, bytes: Uint8Array): boolean {
    const maxPayload = this.connection.info?.max_payload ?? DEFAULT_MAX_PAYLOAD;
    return bytes.length <= maxPayload - HEADER_ROOM_BYTES && KV_KEY.test(key);
  }

  /** SERVICE_UNAVAILABLE (503, retryable) when JetStream cannot take it, e.g. while NATS restarts. */
  async put(key: string, bytes: Uint8Array, mime: string): Promise<void> {
    try {
      if (this.fitsOneMessage(key, bytes)) {
        await (await this.inline.open()).put(key, bytes);
        return;
      }
      const store = await this.openObjects();
      await store.putBlob({ name: key, description: mime }, bytes);
    } catch (error) {
      throw unavailable('store', error);
    }
  }

  /**
   * Returns null when the image is gone (expired, deleted or never stored) or the bucket is not one this store knows;
   * SERVICE_UNAVAILABLE (retryable) when JetStream cannot answer, so a job item is retried rather than failed.
   */
  async get(key: string, bucket: string = this.bucket): Promise<Uint8Array | null> {
    if (bucket !== this.bucket) return (await this.others.get(bucket)?.get(key)) ?? null;
    try {
      if (KV_KEY.test(key)) {
        const entry = await (await this.inline.open()).get(key);
        if (entry?.operation === 'PUT') return entry.value;
      }
      const store = await this.openObjects();
      return await store.getBlob(key);
    } catch (error) {
      throw unavailable('read', error);
    }
  }

  /** Removes the image wherever it was put; the caller does not know its size, so both places are cleared. */
  async delete(key: string): Promise<void> {
    await Promise.all([
      KV_KEY.test(key) ? this.inline.open().then((kv) => kv.purge(key)) : undefined,
      this.openObjects().then((store) => store.delete(key)),
    ]);
  }

  /** Readiness: JetStream answers and both places can be opened. */
  async check(): Promise<void> {
    await Promise.all([this.inline.open(), this.openObjects()]);
  }
}
