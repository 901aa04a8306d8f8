import type { NatsConnection, ObjectStore } from 'nats';
import { IMAGE_BUCKET } from '@argus/contracts';

/**
 * The claim check: image bytes live in a JetStream object store with a TTL and only a reference crosses NATS, which
 * keeps messages far below max_payload (1 MB by default).
 */
export class ImageStore {
  private store?: Promise<ObjectStore>;

  constructor(
    private readonly connection: NatsConnection,
    private readonly ttlSeconds: number,
    readonly bucket: string = IMAGE_BUCKET,
  ) {}

  private open(): Promise<ObjectStore> {
    this.store ??= this.connection
      .jetstream()
      .views.os(this.bucket, {
        ttl: this.ttlSeconds * 1e9,
        description: 'Argus normalised images (claim check)',
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

  /** Returns null when the object is gone (expired or never stored). */
  async get(key: string): Promise<Uint8Array | null> {
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
