import type { NatsConnection, ObjectStore } from 'nats';
import { IMAGE_BUCKET } from '@argus/contracts';

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

  async put(key: string, bytes: Uint8Array, mime: string): Promise<void> {
    const store = await this.open();
    await store.putBlob({ name: key, description: mime }, bytes);
  }

  /** Returns null when the object is gone (expired or never stored) or the bucket is not one this store knows. */
  async get(key: string, bucket: string = this.bucket): Promise<Uint8Array | null> {
    if (bucket !== this.bucket) return (await this.others.get(bucket)?.get(key)) ?? null;
    const store = await this.open();
    return store.getBlob(key);
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
