import type { NatsConnection, ObjectStore } from 'nats';
import { ArgusError, IMAGE_BUCKET } from '@argus/contracts';

function unavailable(action: 'store' | 'read', error: unknown): ArgusError {
  if (error instanceof ArgusError) return error;
  const reason = error instanceof Error ? error.message : String(error);
  return new ArgusError('SERVICE_UNAVAILABLE', `the image store could not ${action} the image: ${reason}`);
}

/**
 * The claim check: image bytes live in a JetStream object store with a TTL and only a reference crosses NATS, which
 * keeps messages far below max_payload (1 MB by default).
 */
export class ImageStore {
  private store?: Promise<ObjectStore>;
  private readonly others = new Map<string, ImageStore>();

  constructor(
    private readonly connection: NatsConnection,
    private readonly ttlSeconds: number,
    readonly bucket: string = IMAGE_BUCKET,
    private readonly description = 'Argus normalised images (claim check)',
  ) {}

  /** Reads that name `store`'s bucket go to it: e.g. job images, which live longer than the sync claim check. */
  alsoServe(store: ImageStore): this {
    this.others.set(store.bucket, store);
    return this;
  }

  private open(): Promise<ObjectStore> {
    this.store ??= this.connection
      .jetstream()
      .views.os(this.bucket, {
        ttl: this.ttlSeconds * 1e9,
        description: this.description,
      })
      .catch((error: unknown) => {
        this.store = undefined;
        throw error;
      });
    return this.store;
  }

  /** SERVICE_UNAVAILABLE (503, retryable) when JetStream cannot take it, e.g. while NATS restarts. */
  async put(key: string, bytes: Uint8Array, mime: string): Promise<void> {
    try {
      const store = await this.open();
      await store.putBlob({ name: key, description: mime }, bytes);
    } catch (error) {
      throw unavailable('store', error);
    }
  }

  /**
   * Returns null when the object is gone (expired or never stored) or the bucket is not one this store knows;
   * SERVICE_UNAVAILABLE (retryable) when JetStream cannot answer, so a job item is retried rather than failed.
   */
  async get(key: string, bucket: string = this.bucket): Promise<Uint8Array | null> {
    if (bucket !== this.bucket) return (await this.others.get(bucket)?.get(key)) ?? null;
    try {
      const store = await this.open();
      return await store.getBlob(key);
    } catch (error) {
      throw unavailable('read', error);
    }
  }

  async delete(key: string): Promise<void> {
    const store = await this.open();
    await store.delete(key);
  }

  /** Readiness: JetStream answers and the bucket can be opened. */
  async check(): Promise<void> {
    await this.open();
  }
}
