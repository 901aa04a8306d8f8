import { replyCacheKey, workerFingerprintKey, type TaskReply, type TaskRequest } from '@argus/contracts';
import type { CacheStore } from '@argus/inference';
import { ReplyCacheWriter, workerFingerprint } from './reply-cache';

const request: TaskRequest = {
  requestId: 'r1',
  image: {
    bucket: 'argus-images',
    key: 'r1',
    sha256: 'a'.repeat(64),
    width: 640,
    height: 480,
    mime: 'image/jpeg',
  },
  routing: { tier: 'auto', fallback: false },
  options: { moderation: { policy: 'strict' } },
};

const reply: TaskReply = {
  status: 'ok',
  engine: 'ollama',
  tier: 'small',
  model: 'qwen2.5vl:3b',
  durationMs: 812,
  cached: false,
  escalations: [],
  needsGpuTier: [],
  decision: 'allow',
  policy: 'strict',
  triggeredBy: [],
  categories: [],
  reason: 'a shoe',
  confidence: 0.9,
};

function memory(): CacheStore & { entries: Map<string, unknown> } {
  const entries = new Map<string, unknown>();
  return {
    entries,
    get: (key) => Promise.resolve(entries.get(key)),
    put: (key, value) => {
      entries.set(key, value);
      return Promise.resolve();
    },
  };
}

const routes = [
  { tier: 'cpu' as const, confidenceThreshold: 0.6, engine: { fingerprint: 'nsfw' } },
  { tier: 'small' as const, confidenceThreshold: 0.5, engine: { fingerprint: 'qwen2.5vl:3b|moderation-v4' } },
];

describe('workerFingerprint', () => {
  it('changes with the version, any engine, any threshold and the loaded files', () => {
    const base = workerFingerprint('0.9.0', routes, 'policies-1');
    expect(workerFingerprint('0.9.0', routes, 'policies-1')).toBe(base);
    expect(workerFingerprint('0.9.1', routes, 'policies-1')).not.toBe(base);
    expect(workerFingerprint('0.9.0', routes, 'policies-2')).not.toBe(base);
    expect(workerFingerprint('0.9.0', routes.slice(1), 'policies-1')).not.toBe(base);
    const otherModel = [routes[0], { ...routes[1], engine: { fingerprint: 'qwen2.5vl:7b|moderation-v4' } }];
    expect(workerFingerprint('0.9.0', otherModel, 'policies-1')).not.toBe(base);
    const otherThreshold = [routes[0], { ...routes[1], confidenceThreshold: 0.7 }];
    expect(workerFingerprint('0.9.0', otherThreshold, 'policies-1')).not.toBe(base);
  });
});

describe('ReplyCacheWriter', () => {
  it('publishes its fingerprint under the task', async () => {
    const store = memory();
    await new ReplyCacheWriter('moderation', store, 'f1').publish(1234);
    expect(store.entries.get(workerFingerprintKey('moderation'))).toEqual({
      fingerprint: 'f1',
      publishedAt: 1234,
    });
  });

  it('keeps an ok reply of a healthy route under the key the gateway computes', async () => {
    const store = memory();
    await new ReplyCacheWriter('moderation', store, 'f1').remember(
      request,
      { ...reply, cached: true },
      false,
    );
    const key = replyCacheKey({
      task: 'moderation',
      sha256: request.image.sha256,
      width: 640,
      height: 480,
      routing: request.routing,
      options: request.options,
      fingerprint: 'f1',
    });
    expect(store.entries.get(key)).toEqual({ ...reply, cached: false });
  });

  it('keeps no error reply and no reply reached while a tier was down or failing', async () => {
    const store = memory();
    const writer = new ReplyCacheWriter('moderation', store, 'f1');
    await writer.remember(request, reply, true);
    await writer.remember(
      request,
      {
        status: 'error',
        engine: 'none',
        tier: 'none',
        model: 'none',
        durationMs: 1,
        escalations: [],
        error: { code: 'UPSTREAM_BUSY', message: 'busy' },
      },
      false,
    );
    expect(store.entries.size).toBe(0);
  });

  it('never fails the reply when the cache is down', async () => {
    const down: CacheStore = {
      get: () => Promise.reject(new Error('down')),
      put: () => Promise.reject(new Error('down')),
    };
    await expect(
      new ReplyCacheWriter('moderation', down, 'f1').remember(request, reply, false),
    ).resolves.toBeUndefined();
  });
});
