import { ArgusError, type Escalation, type RoutingOptions, type TierName } from '@argus/contracts';
import { ImageContext } from './image-context';
import type { CacheStore } from './result-cache';
import type { EngineAnswer, EngineRequest, TaskEngine } from './task-engine';
import { TierGuard } from './tier-guard';
import {
  ImageLoadError,
  RoutingError,
  TierRouter,
  type RouteRequest,
  type RouterObserver,
  type TierRoute,
} from './tier-router';

type Behaviour = (request: EngineRequest) => Promise<EngineAnswer>;

const answer = (overrides: Partial<EngineAnswer> = {}): EngineAnswer => ({
  result: {
    decision: 'allow',
    policy: 'default',
    triggeredBy: [],
    categories: [],
    reason: 'fine',
    confidence: 0.9,
  },
  confidence: 0.9,
  wantsReview: false,
  needsGpuTier: [],
  ...overrides,
});

class FakeEngine implements TaskEngine {
  readonly task = 'moderation' as const;
  readonly promptVersion = 'moderation-v1';
  calls = 0;
  constructor(
    readonly tier: TierName,
    public behaviour: Behaviour,
  ) {}
  get kind() {
    return this.tier === 'cpu' ? ('cpu' as const) : ('ollama' as const);
  }
  get model() {
    return `${this.tier}-model`;
  }
  get fingerprint() {
    return `${this.tier}-model|moderation-v1`;
  }
  run(request: EngineRequest): Promise<EngineAnswer> {
    this.calls += 1;
    return this.behaviour(request);
  }
}

class MemoryCache implements CacheStore {
  readonly entries = new Map<string, unknown>();
  get(key: string) {
    return Promise.resolve(this.entries.get(key));
  }
  put(key: string, value: unknown) {
    this.entries.set(key, structuredClone(value));
    return Promise.resolve();
  }
}

function setup(
  behaviours: Partial<Record<TierName, Behaviour>>,
  options: {
    unavailable?: TierName[];
    cache?: CacheStore;
    threshold?: number;
    guard?: Partial<ConstructorParameters<typeof TierGuard>[1]>;
  } = {},
) {
  const engines = new Map<TierName, FakeEngine>();
  const routes: TierRoute[] = (['cpu', 'small', 'medium', 'large'] as const)
    .filter((tier) => behaviours[tier])
    .map((tier) => {
      const engine = new FakeEngine(tier, behaviours[tier]!);
      engines.set(tier, engine);
      return {
        tier,
        engine,
        guard: new TierGuard(tier, {
          concurrency: 2,
          queueLimit: 2,
          retryInitialDelayMs: 5,
          breakerThreshold: 3,
          ...options.guard,
        }),
        confidenceThreshold: options.threshold ?? 0.6,
      };
    });
  const escalations: Escalation[] = [];
  const lookups: string[] = [];
  const engineCalls: Array<Parameters<RouterObserver['engineCall']>> = [];
  const observer: RouterObserver = {
    escalated: (_task, escalation) => escalations.push(escalation),
    cacheLookup: (_task, result) => lookups.push(result),
    engineCall: (...call) => {
      engineCalls.push(call);
    },
  };
  const unavailable = new Set(options.unavailable ?? []);
  const router = new TierRouter(
    'moderation',
    routes,
    { isAvailable: (tier) => !unavailable.has(tier), explain: () => 'model missing' },
    options.cache,
    observer,
  );
  const imageLoads: string[] = [];
  const route = (
    routing: Partial<RoutingOptions> = {},
    loadImage: () => Promise<Uint8Array> = () => Promise.resolve(Buffer.from('img')),
    options: Pick<RouteRequest, 'options' | 'optionsFingerprint'> = { options: {}, optionsFingerprint: '' },
  ) =>
    router.route({
      image: new ImageContext({ sha256: 'a'.repeat(64), width: 100, height: 100 }, () => {
        imageLoads.push('load');
        return loadImage();
      }),
      routing: { tier: 'auto', fallback: false, ...routing },
      signal: new AbortController().signal,
      deadlineAt: Date.now() + 10_000,
      ...options,
    });
  return { router, route, engines, escalations, lookups, imageLoads, engineCalls };
}

const ok =
  (overrides: Partial<EngineAnswer> = {}) =>
  () =>
    Promise.resolve(answer(overrides));
const fail = (code: 'MODEL_UNAVAILABLE' | 'UPSTREAM_BUSY' | 'INVALID_MODEL_OUTPUT', cause?: string) => () =>
  Promise.reject(new ArgusError(code, `${code} from engine`, cause ? { cause } : undefined));

describe('TierRouter engine calls', () => {
  it('reports the tokens a failed answer spent, from the error it carries', async () => {
    const spent = { inputTokens: 2000, outputTokens: 900, seconds: { load: 0, prompt: 1, eval: 6 } };
    const { route, engineCalls } = setup({
      small: () => Promise.reject(new ArgusError('INVALID_MODEL_OUTPUT', 'cut off twice', { usage: spent })),
    });
    await expect(route({ tier: 'small' })).rejects.toMatchObject({ code: 'INVALID_MODEL_OUTPUT' });
    expect(engineCalls).toHaveLength(1);
    expect(engineCalls[0]?.[1]).toBe('invalid_model_output');
    expect(engineCalls[0]?.[4]).toBeUndefined();
    expect(engineCalls[0]?.[5]).toEqual(spent);
  });
});

describe('TierRouter auto cascade', () => {
  it('stops at the cheapest tier whose answer is sure and complete', async () => {
    const { route, engines } = setup({ cpu: ok(), small: ok() });
    const routed = await route();
    expect(routed.route.tier).toBe('cpu');
    expect(routed.escalations).toEqual([]);
    expect(routed.degraded).toBe(false);
    expect(engines.get('small')!.calls).toBe(0);
  });

  it.each<[string, Partial<EngineAnswer>]>([
    ['low_confidence', { confidence: 0.3 }],
    ['review', { wantsReview: true }],
    ['cannot_judge', { needsGpuTier: ['violence'] }],
  ])('escalates on %s and records the hop', async (reason, overrides) => {
    const { route, escalations } = setup({ cpu: ok(overrides), small: ok() });
    const routed = await route();
    expect(routed.route.tier).toBe('small');
    expect(routed.escalations).toEqual([expect.objectContaining({ from: 'cpu', to: 'small', reason })]);
    expect(escalations).toHaveLength(1);
    // An escalation is the healthy path: the same request gets the same answer again.
    expect(routed.degraded).toBe(false);
  });

  it('climbs more than one tier and keeps the last answer when the top tier is unsure too', async () => {
    const { route } = setup({
      cpu: ok({ confidence: 0.1 }),
      small: ok({ confidence: 0.2 }),
      medium: ok({ confidence: 0.3 }),
    });
    const routed = await route();
    expect(routed.route.tier).toBe('medium');
    expect(routed.escalations.map((e) => `${e.from}->${e.to}`)).toEqual(['cpu->small', 'small->medium']);
  });

  it('skips unavailable tiers and answers from the CPU when no GPU tier is up, naming what it could not judge', async () => {
    const { route } = setup(
      { cpu: ok({ needsGpuTier: ['violence'] }), small: ok() },
      { unavailable: ['small'] },
    );
    const routed = await route();
    expect(routed.route.tier).toBe('cpu');
    expect(routed.answer.needsGpuTier).toEqual(['violence']);
    expect(routed.escalations).toEqual([]);
    // Not what the deployment answers once the GPU tier is back, so not kept as the request's reply.
    expect(routed.degraded).toBe(true);
  });

  it('routes around a failing tier and keeps the lower answer when the next one fails', async () => {
    const failing = setup({
      cpu: ok({ confidence: 0.2 }),
      small: fail('MODEL_UNAVAILABLE', 'missing'),
      medium: ok(),
    });
    const routed = await failing.route();
    expect(routed.route.tier).toBe('medium');
    expect(routed.escalations.map((e) => e.reason)).toEqual(['low_confidence', 'failed']);
    expect(routed.degraded).toBe(true);

    const lastFails = setup({ cpu: ok({ confidence: 0.2 }), small: fail('INVALID_MODEL_OUTPUT') });
    const kept = await lastFails.route();
    expect(kept.route.tier).toBe('cpu');
    expect(kept.escalations.map((e) => `${e.from}->${e.to}:${e.reason}`)).toEqual([
      'cpu->small:low_confidence',
    ]);
    expect(kept.degraded).toBe(true);
  });

  it('fails with the last error and the hops when every tier fails', async () => {
    const { route } = setup({ small: fail('INVALID_MODEL_OUTPUT'), medium: fail('INVALID_MODEL_OUTPUT') });
    const error = (await route().catch((e: unknown) => e)) as RoutingError;
    expect(error).toBeInstanceOf(RoutingError);
    expect(error.code).toBe('INVALID_MODEL_OUTPUT');
    expect(error.escalations).toEqual([
      expect.objectContaining({ from: 'small', to: 'medium', reason: 'failed' }),
    ]);
  });
});

describe('TierRouter pinned tiers', () => {
  it('uses only the pinned tier, even when it is unsure', async () => {
    const { route, engines } = setup({ cpu: ok(), small: ok({ confidence: 0.1 }), medium: ok() });
    const routed = await route({ tier: 'small' });
    expect(routed.route.tier).toBe('small');
    expect(routed.degraded).toBe(false);
    expect(engines.get('cpu')!.calls + engines.get('medium')!.calls).toBe(0);
  });

  it('answers MODEL_UNAVAILABLE for an unavailable pinned tier, never silently downgrading', async () => {
    const { route, engines } = setup({ cpu: ok(), small: ok() }, { unavailable: ['small'] });
    await expect(route({ tier: 'small' })).rejects.toMatchObject({ code: 'MODEL_UNAVAILABLE' });
    await expect(route({ tier: 'large' })).rejects.toThrow(/not enabled/);
    expect(engines.get('cpu')!.calls).toBe(0);
  });

  it('falls back to another tier only when asked, and records why', async () => {
    const { route } = setup({ cpu: ok(), small: ok() }, { unavailable: ['small'] });
    const routed = await route({ tier: 'small', fallback: true });
    expect(routed.route.tier).toBe('cpu');
    expect(routed.degraded).toBe(true);
    expect(routed.escalations).toEqual([
      expect.objectContaining({ from: 'small', to: 'cpu', reason: 'unavailable' }),
    ]);
  });
});

describe('TierRouter with the result cache', () => {
  it('answers a repeat from the cache without calling the engine', async () => {
    const cache = new MemoryCache();
    const { route, engines, lookups } = setup({ small: ok() }, { cache });
    expect((await route()).cached).toBe(false);
    const second = await route();
    expect(second.cached).toBe(true);
    expect(second.answer.result).toEqual(answer().result);
    expect(engines.get('small')!.calls).toBe(1);
    expect(lookups).toEqual(['miss', 'hit']);
    expect([...cache.entries.keys()][0]).toMatch(/^moderation\.small\.a{64}\.[0-9a-f]{16}$/);
  });

  it("keys the answer by the caller's options fingerprint, and hands the engine the options and the image", async () => {
    const cache = new MemoryCache();
    const seen: EngineRequest[] = [];
    const { route, engines } = setup(
      {
        small: (request) => {
          seen.push(request);
          return Promise.resolve(answer());
        },
      },
      { cache },
    );
    const strict = { options: { policy: 'strict' }, optionsFingerprint: 'strict-policy' };
    await route({}, undefined, strict);
    expect(seen[0]?.options).toEqual({ policy: 'strict' });
    expect(Buffer.from(seen[0].image).toString()).toBe('img');
    expect(seen[0]?.context.facts).toEqual({ sha256: 'a'.repeat(64), width: 100, height: 100 });
    expect((await route({}, undefined, strict)).cached).toBe(true);
    expect((await route()).cached).toBe(false);
    expect(engines.get('small')!.calls).toBe(2);
    expect(cache.entries.size).toBe(2);
  });

  it('keeps working when the cache is down', async () => {
    const broken: CacheStore = {
      get: () => Promise.reject(new Error('kv down')),
      put: () => Promise.reject(new Error('kv down')),
    };
    const { route, lookups } = setup({ small: ok() }, { cache: broken });
    expect((await route()).route.tier).toBe('small');
    expect(lookups).toEqual(['error']);
  });

  it('never reads the image for a cached answer', async () => {
    const cache = new MemoryCache();
    const { route, imageLoads } = setup({ small: ok() }, { cache });
    await route();
    expect(imageLoads).toHaveLength(1);
    const cacheOnly = () => Promise.reject(new ImageLoadError('NOT_FOUND', 'cache only'));
    expect((await route({}, cacheOnly)).cached).toBe(true);
    expect(imageLoads).toHaveLength(1);
  });

  it('stops at an image that cannot be read: no other tier, and no cheaper answer in its place', async () => {
    const cache = new MemoryCache();
    const { route, engines } = setup({ cpu: ok({ confidence: 0.3 }), small: ok() }, { cache });
    await route({ tier: 'cpu' });
    const cacheOnly = () => Promise.reject(new ImageLoadError('NOT_FOUND', 'no cached answer'));
    const routed = route({}, cacheOnly);
    await expect(routed).rejects.toBeInstanceOf(RoutingError);
    await expect(routed).rejects.toMatchObject({
      code: 'NOT_FOUND',
      escalations: [expect.objectContaining({ from: 'cpu', to: 'small', reason: 'low_confidence' })],
    });
    expect(engines.get('small')!.calls).toBe(0);
    await expect(route({ tier: 'small', fallback: true }, cacheOnly)).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    expect(engines.get('cpu')!.calls).toBe(1);
  });
});

describe('TierGuard inside the router', () => {
  it('retries a busy tier with backoff and then succeeds', async () => {
    let calls = 0;
    const { route } = setup({
      small: () =>
        ++calls < 2 ? Promise.reject(new ArgusError('UPSTREAM_BUSY', 'busy')) : Promise.resolve(answer()),
    });
    expect((await route()).route.tier).toBe('small');
    expect(calls).toBe(2);
  });

  it('opens the breaker after repeated tier failures, then auto routes around the tier', async () => {
    const { route, router, engines } = setup(
      { small: fail('MODEL_UNAVAILABLE', 'unreachable'), medium: ok() },
      { guard: { retries: 0, breakerThreshold: 2 } },
    );
    await route();
    await route();
    expect(router.breakerStates().small).toBe('open');
    const callsBefore = engines.get('small')!.calls;
    const routed = await route();
    expect(routed.route.tier).toBe('medium');
    expect(engines.get('small')!.calls).toBe(callsBefore);
    await expect(route({ tier: 'small' })).rejects.toThrow(/circuit breaker is open/);
  });

  it('answers UPSTREAM_BUSY at once when slots and queue are full', async () => {
    const release: Array<() => void> = [];
    const { route } = setup(
      {
        small: () =>
          new Promise((resolve) =>
            release.push(() => {
              resolve(answer());
            }),
          ),
      },
      { guard: { concurrency: 1, queueLimit: 1 } },
    );
    const first = route({ tier: 'small' });
    const second = route({ tier: 'small' });
    await new Promise((resolve) => setTimeout(resolve, 10));
    await expect(route({ tier: 'small' })).rejects.toMatchObject({ code: 'UPSTREAM_BUSY' });
    release.shift()!();
    await first;
    await new Promise((resolve) => setTimeout(resolve, 10));
    release.shift()!();
    await second;
  });
});
