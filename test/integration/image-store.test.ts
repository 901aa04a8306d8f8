// The claim check against a real nats-server: where an image goes by size and key, that every reader finds it, and
// that delete and expiry leave nothing behind.
import { randomBytes, randomUUID } from 'node:crypto';
import { connect, type NatsConnection } from 'nats';
import { IMAGE_BUCKET, JOB_IMAGE_BUCKET } from '@argus/contracts';
import { ImageStore } from '@argus/messaging';
import { startNats, type NatsHarness } from '../support/nats-harness';

jest.setTimeout(60_000);

let nats: NatsHarness;
let connection: NatsConnection;

beforeAll(async () => {
  nats = await startNats();
  connection = await connect({ servers: nats.url });
});

afterAll(async () => {
  await connection.close();
  await nats.stop();
});

/** Which of the two places holds `key`: the one-message KV bucket, the chunked object store, or both or neither. */
async function whereIs(bucket: string, key: string): Promise<string[]> {
  const js = connection.jetstream();
  const places: string[] = [];
  const entry = await (await js.views.kv(`${bucket}-inline`)).get(key);
  if (entry?.operation === 'PUT') places.push('kv');
  const info = await (await js.views.os(bucket)).info(key);
  // A deleted object keeps its meta entry, marked deleted.
  if (info && !info.deleted) places.push('object store');
  return places;
}

describe('ImageStore', () => {
  it('keeps an image that fits one message as one KV entry, and a larger one in the object store', async () => {
    const store = new ImageStore(connection, 3600);
    const small = randomBytes(300 * 1024);
    const large = randomBytes(3 * 1024 * 1024);
    const [smallKey, largeKey] = [randomUUID(), randomUUID()];
    await store.put(smallKey, small, 'image/jpeg');
    await store.put(largeKey, large, 'image/png');
    expect(await whereIs(IMAGE_BUCKET, smallKey)).toEqual(['kv']);
    expect(await whereIs(IMAGE_BUCKET, largeKey)).toEqual(['object store']);
    expect(Buffer.from((await store.get(smallKey))!).equals(small)).toBe(true);
    expect(Buffer.from((await store.get(largeKey))!).equals(large)).toBe(true);
  });

  it('puts a key KV cannot hold (a caller’s item id) in the object store, and reads it back', async () => {
    const store = new ImageStore(connection, 3600, JOB_IMAGE_BUCKET, 'job images');
    const key = 'job-1.item with spaces/ü';
    const bytes = randomBytes(10 * 1024);
    await store.put(key, bytes, 'image/jpeg');
    expect(Buffer.from((await store.get(key))!).equals(bytes)).toBe(true);
    const sync = new ImageStore(connection, 3600).alsoServe(store);
    expect(Buffer.from((await sync.get(key, JOB_IMAGE_BUCKET))!).equals(bytes)).toBe(true);
    expect(await sync.get(key, 'some-other-bucket')).toBeNull();
  });

  it('deletes wherever the image was, and answers null for a missing or deleted image', async () => {
    const store = new ImageStore(connection, 3600);
    const [smallKey, largeKey] = [randomUUID(), randomUUID()];
    await store.put(smallKey, randomBytes(1024), 'image/jpeg');
    await store.put(largeKey, randomBytes(2 * 1024 * 1024), 'image/jpeg');
    await store.delete(smallKey);
    await store.delete(largeKey);
    expect(await whereIs(IMAGE_BUCKET, smallKey)).toEqual([]);
    expect(await whereIs(IMAGE_BUCKET, largeKey)).toEqual([]);
    expect(await store.get(smallKey)).toBeNull();
    expect(await store.get(largeKey)).toBeNull();
    expect(await store.get(randomUUID())).toBeNull();
  });

  it('lets both places expire after the TTL', async () => {
    const store = new ImageStore(connection, 1, 'argus-images-ttl-test');
    const [smallKey, largeKey] = [randomUUID(), randomUUID()];
    await store.put(smallKey, randomBytes(1024), 'image/jpeg');
    await store.put(largeKey, randomBytes(2 * 1024 * 1024), 'image/jpeg');
    const deadline = Date.now() + 15_000;
    while ((await store.get(smallKey)) !== null || (await store.get(largeKey)) !== null) {
      if (Date.now() > deadline) throw new Error('the images did not expire within 15 s of a 1 s TTL');
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  });
});
