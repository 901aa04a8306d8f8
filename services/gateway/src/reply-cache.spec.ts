import { replyCacheKey, workerFingerprintKey, type TaskReply } from '@argus/contracts';
import { ReplyCache, type ReplyCacheStore } from './reply-cache';
import type { UploadDescription } from './upload-memo';

const image: UploadDescription = {
  sha256: 'c'.repeat(64),
  mime: 'image/jpeg',
  width: 640,
  height: 480,
  sourceFormat: 'jpeg',
  sourceBytes: 50_000,
  sourcePixels: 640 * 480,
};
const options = {
  routing: { tier: 'small', fallback: false } as const,
  options: {},
  tasks: ['moderation' as const],
};

const reply: TaskReply = {
  status: 'ok',
  engine: 'ollama',
  tier: 'small',
  model: 'qwen2.5vl:3b',
  durationMs: 700,
  cached: false,
  escalations: [],
  needsGpuTier: [],
  decision: 'allow',
  policy: 'default',
  triggeredBy: [],
  categories: [],
  reason: 'a mug',
  confidence: 0.9,
};

const keyFor = (fingerprint: string) =>
  replyCacheKey({ task: 'moderation', ...image, routing: options.routing, options: {}, fingerprint });

function store(entries: Map<string, unknown>): ReplyCacheStore & { reads: string[] } {
  const reads: string[] = [];
  return {
    reads,
    get: (key) => {
      reads.push(key);
      return Promise.resolve(entries.get(key));
    },
  };
}

describe('ReplyCache', () => {
  it("finds the reply kept under the workers' current fingerprint", async () => {
    const entries = new Map<string, unknown>([
      [workerFingerprintKey('moderation'), { fingerprint: 'f1', publishedAt: 1 }],
      [keyFor('f1'), reply],
    ]);
    await expect(new ReplyCache(store(entries)).lookup('moderation', image, options)).resolves.toEqual(reply);
  });

  it('misses once the workers publish another fingerprint, after the refresh interval', async () => {
    const entries = new Map<string, unknown>([
      [workerFingerprintKey('moderation'), { fingerprint: 'f1', publishedAt: 1 }],
      [keyFor('f1'), reply],
    ]);
    const reader = store(entries);
    const cache = new ReplyCache(reader, 30);
    await expect(cache.lookup('moderation', image, options)).resolves.toBeDefined();
    entries.set(workerFingerprintKey('moderation'), { fingerprint: 'f2', publishedAt: 2 });
    // Within the interval the fingerprint is not read again: one KV read per request, not two.
    await expect(cache.lookup('moderation', image, options)).resolves.toBeDefined();
    expect(reader.reads.filter((key) => key.startsWith('fingerprint.'))).toHaveLength(1);
    await new Promise((resolve) => setTimeout(resolve, 40));
    await expect(cache.lookup('moderation', image, options)).resolves.toBeUndefined();
  });

  it('misses without a fingerprint, on an entry that breaks the contract, an error reply, or a cache that is down', async () => {
    await expect(
      new ReplyCache(store(new Map())).lookup('moderation', image, options),
    ).resolves.toBeUndefined();
    const broken = new Map<string, unknown>([
      [workerFingerprintKey('moderation'), { fingerprint: 'f1', publishedAt: 1 }],
      [keyFor('f1'), { ...reply, decision: 'maybe' }],
    ]);
    await expect(new ReplyCache(store(broken)).lookup('moderation', image, options)).resolves.toBeUndefined();
    const failed = new Map<string, unknown>([
      [workerFingerprintKey('moderation'), { fingerprint: 'f1', publishedAt: 1 }],
      [keyFor('f1'), { ...reply, status: 'error', error: { code: 'MODEL_UNAVAILABLE', message: 'gone' } }],
    ]);
    await expect(new ReplyCache(store(failed)).lookup('moderation', image, options)).resolves.toBeUndefined();
    const down: ReplyCacheStore = { get: () => Promise.reject(new Error('no JetStream')) };
    await expect(new ReplyCache(down).lookup('moderation', image, options)).resolves.toBeUndefined();
  });
});
