import { ArgusError, type TaskRequest } from '@argus/contracts';
import { loadWorkerConfig } from '@argus/config';
import {
  RoutingError,
  TierGuard,
  type EngineAnswer,
  type RouteRequest,
  type RoutedAnswer,
  type TierRoute,
} from '@argus/inference';
import { ArgusMetrics } from '@argus/telemetry';
import type { TaskRuntime } from './task-definition';
import { TaskPipeline, type ImageStoreReader, type Router } from './task-pipeline.service';

const request: TaskRequest = {
  requestId: 'r1',
  image: {
    bucket: 'argus-images',
    key: 'r1',
    sha256: 'a'.repeat(64),
    width: 3000,
    height: 2000,
    mime: 'image/jpeg',
  },
  routing: { tier: 'auto', fallback: false },
  options: { moderation: { policy: 'strict' } },
};

/** A task that resolves its options to what it was sent, and records what it observed. */
function fakeRuntime(overrides: Partial<TaskRuntime> = {}): TaskRuntime & { observed: unknown[] } {
  const observed: unknown[] = [];
  return {
    observed,
    engine: () => {
      throw new Error('not used: the router is a fake');
    },
    resolve: (options) => ({ resolved: options.moderation }),
    fingerprint: (options) => JSON.stringify(options),
    warmUpOptions: () => ({}),
    observe: (reply) => observed.push(reply),
    ...overrides,
  };
}

const answer: EngineAnswer = {
  result: {
    decision: 'allow',
    policy: 'default',
    triggeredBy: [],
    categories: [],
    reason: 'ok',
    confidence: 0.95,
  },
  confidence: 0.95,
  wantsReview: false,
  needsGpuTier: [],
};

function route(tier: 'cpu' | 'small', model: string): TierRoute {
  return {
    tier,
    confidenceThreshold: 0.5,
    guard: new TierGuard(tier, { concurrency: 1, queueLimit: 1 }),
    engine: {
      task: 'moderation',
      tier,
      kind: tier === 'cpu' ? 'cpu' : 'ollama',
      model,
      promptVersion: 'moderation-v1',
      fingerprint: model,
      run: () => Promise.resolve(answer),
    },
  };
}

function setup(
  options: { stored?: Uint8Array | null; route?: (request: RouteRequest) => Promise<RoutedAnswer> } = {},
) {
  const config = loadWorkerConfig('moderation', {});
  const routed: RouteRequest[] = [];
  const fetched: string[] = [];
  const modelCalls: Uint8Array[] = [];
  const images: ImageStoreReader = {
    get: (key) => {
      fetched.push(key);
      return Promise.resolve(options.stored === undefined ? Buffer.from('stored') : options.stored);
    },
  };
  const router: Router = {
    route: async (routeRequest) => {
      routed.push(routeRequest);
      if (options.route) return options.route(routeRequest);
      // As the real router does on a cache miss: read the image, then call the model with it.
      modelCalls.push(await routeRequest.image.bytes());
      return {
        answer,
        route: route('small', 'qwen2.5vl:3b'),
        cached: false,
        escalations: [{ from: 'cpu', to: 'small', reason: 'cannot_judge' }],
        degraded: false,
      };
    },
  };
  const metrics = new ArgusMetrics('moderation');
  const runtime = fakeRuntime();
  return {
    pipeline: new TaskPipeline(config, images, router, metrics, runtime),
    routed,
    fetched,
    modelCalls,
    metrics,
    runtime,
  };
}

describe('TaskPipeline', () => {
  it('routes the stored image and replies with the result and how it was reached', async () => {
    const { pipeline, routed, metrics, runtime } = setup();
    const reply = await pipeline.handle(request, undefined, 5_000);
    expect(reply).toMatchObject({
      status: 'ok',
      engine: 'ollama',
      tier: 'small',
      model: 'qwen2.5vl:3b',
      cached: false,
      escalations: [{ from: 'cpu', to: 'small', reason: 'cannot_judge' }],
      needsGpuTier: [],
      decision: 'allow',
      confidence: 0.95,
    });
    expect(routed[0]).toMatchObject({
      routing: request.routing,
      // The task's options reach the router as the task resolved them, untouched, with the task's fingerprint.
      options: { resolved: { policy: 'strict' } },
      optionsFingerprint: JSON.stringify({ resolved: { policy: 'strict' } }),
    });
    expect(routed[0].image.facts).toMatchObject({ sha256: request.image.sha256, width: 3000, height: 2000 });
    // The task's own counters see the reply.
    expect(runtime.observed).toEqual([expect.objectContaining({ status: 'ok', decision: 'allow' })]);
    expect(routed[0].deadlineAt - Date.now()).toBeLessThanOrEqual(5_000);
    const exposition = (await metrics.exposition()).body;
    expect(exposition).toContain(
      'argus_image_duration_seconds_count{service="moderation",task="moderation",tier="small",model="qwen2.5vl:3b",outcome="ok"} 1',
    );
    for (const stage of ['fetch', 'inference']) {
      expect(exposition).toContain(
        `argus_stage_duration_seconds_count{service="moderation",stage="${stage}"} 1`,
      );
    }
  });

  it('replies with the error code, the tier that failed and the hops taken', async () => {
    const { pipeline, metrics } = setup({
      route: () =>
        Promise.reject(
          new RoutingError(
            new ArgusError('UPSTREAM_BUSY', 'queue full'),
            [{ from: 'cpu', to: 'small', reason: 'cannot_judge' }],
            route('small', 'qwen2.5vl:3b'),
          ),
        ),
    });
    await expect(pipeline.handle(request, undefined, 5_000)).resolves.toMatchObject({
      status: 'error',
      tier: 'small',
      engine: 'ollama',
      escalations: [{ from: 'cpu', to: 'small' }],
      error: { code: 'UPSTREAM_BUSY', message: 'queue full' },
    });
    expect((await metrics.exposition()).body).toContain(
      'tier="small",model="qwen2.5vl:3b",outcome="upstream_busy"',
    );
  });

  it('rejects a request that breaks the contract and an image that is gone, without a model call', async () => {
    const { pipeline, routed, fetched, modelCalls } = setup({ stored: null });
    await expect(pipeline.handle({ requestId: 'x' }, undefined, 5_000)).resolves.toMatchObject({
      error: { code: 'INVALID_REQUEST' },
      tier: 'none',
    });
    await expect(pipeline.handle(request, undefined, 5_000)).resolves.toMatchObject({
      error: { code: 'INVALID_REQUEST' },
    });
    expect(routed).toHaveLength(1);
    expect(fetched).toEqual([request.image.key]);
    expect(modelCalls).toHaveLength(0);
  });

  it('hands the parsed reply and whether the route was degraded to the reply cache', async () => {
    const remembered: Array<{ request: TaskRequest; status: string; degraded: boolean }> = [];
    const router: Router = {
      route: () =>
        Promise.resolve({
          answer,
          route: route('small', 'qwen2.5vl:3b'),
          cached: false,
          escalations: [],
          degraded: true,
        }),
    };
    const pipeline = new TaskPipeline(
      loadWorkerConfig('moderation', {}),
      { get: () => Promise.resolve(Buffer.from('stored')) },
      router,
      new ArgusMetrics('moderation'),
      fakeRuntime(),
      {
        remember: (sent, reply, degraded) => {
          remembered.push({ request: sent, status: reply.status, degraded });
          return Promise.resolve();
        },
      },
    );
    await pipeline.handle(request, undefined, 5_000);
    expect(remembered).toEqual([{ request, status: 'ok', degraded: true }]);
  });

  it('reads the image once, and only when the router needs it', async () => {
    const cachedAnswer = {
      answer,
      route: route('small', 'qwen2.5vl:3b'),
      cached: true,
      escalations: [],
      degraded: false,
    };
    const hit = setup({ route: () => Promise.resolve(cachedAnswer) });
    await expect(hit.pipeline.handle(request, undefined, 5_000)).resolves.toMatchObject({ cached: true });
    expect(hit.fetched).toEqual([]);
    const twice = setup({
      route: async ({ image }) => {
        await Promise.all([image.bytes(), image.bytes()]);
        return cachedAnswer;
      },
    });
    await twice.pipeline.handle(request, undefined, 5_000);
    expect(twice.fetched).toEqual([request.image.key]);
  });

  it('declines a cache-only request at once when its postprocessor measures the pixels', async () => {
    const { routed, fetched } = setup();
    const config = loadWorkerConfig('tagging', {});
    const measuring = fakeRuntime({ postprocess: { readsImage: true, run: () => Promise.resolve({}) } });
    const images: ImageStoreReader = { get: () => Promise.resolve(Buffer.from('stored')) };
    const router: Router = {
      route: (routeRequest) => {
        routed.push(routeRequest);
        return Promise.reject(new Error('routed'));
      },
    };
    const pipeline = new TaskPipeline(config, images, router, new ArgusMetrics('tagging'), measuring);
    await expect(pipeline.handle({ ...request, cacheOnly: true }, undefined, 5_000)).resolves.toMatchObject({
      error: { code: 'NOT_FOUND' },
    });
    expect(routed).toEqual([]);
    expect(fetched).toEqual([]);
  });

  it('answers a cache-only miss NOT_FOUND without reading the image or recording an image processed', async () => {
    const { pipeline, fetched, modelCalls, metrics } = setup();
    await expect(pipeline.handle({ ...request, cacheOnly: true }, undefined, 5_000)).resolves.toMatchObject({
      status: 'error',
      error: { code: 'NOT_FOUND' },
    });
    expect(fetched).toEqual([]);
    expect(modelCalls).toEqual([]);
    expect((await metrics.exposition()).body).not.toContain('argus_image_duration_seconds_count');
  });

  it('answers a missing job image as retryable SERVICE_UNAVAILABLE, so the job item is retried', async () => {
    const { pipeline } = setup({ stored: null });
    const jobRequest = { ...request, image: { ...request.image, bucket: 'argus-job-images' } };
    await expect(pipeline.handle(jobRequest, undefined, 5_000)).resolves.toMatchObject({
      error: { code: 'SERVICE_UNAVAILABLE' },
    });
  });

  it('gives the router a signal that fires just before the caller deadline', async () => {
    const { pipeline } = setup({
      route: ({ signal }) =>
        new Promise((_resolve, reject) => {
          signal.addEventListener('abort', () => {
            reject(new ArgusError('INFERENCE_TIMEOUT', 'deadline'));
          });
        }),
    });
    const started = Date.now();
    await expect(pipeline.handle(request, undefined, 400)).resolves.toMatchObject({
      error: { code: 'INFERENCE_TIMEOUT' },
    });
    expect(Date.now() - started).toBeLessThan(400);
  });

  it("answers a task's unknown option (a policy it does not have) as INVALID_REQUEST without routing", async () => {
    const { routed } = setup();
    const config = loadWorkerConfig('moderation', {});
    const images: ImageStoreReader = { get: () => Promise.resolve(Buffer.from('stored')) };
    const router: Router = { route: () => Promise.reject(new Error('routed')) };
    const strict = fakeRuntime({
      resolve: () => {
        throw new ArgusError('INVALID_REQUEST', 'unknown moderation policy "nope"');
      },
    });
    const pipeline = new TaskPipeline(config, images, router, new ArgusMetrics('moderation'), strict);
    await expect(pipeline.handle(request, undefined, 5_000)).resolves.toMatchObject({
      error: { code: 'INVALID_REQUEST', message: 'unknown moderation policy "nope"' },
    });
    expect(routed).toEqual([]);
  });

  it('hides unexpected failures behind INTERNAL', async () => {
    const { pipeline } = setup({ route: () => Promise.reject(new Error('socket exploded')) });
    const reply = await pipeline.handle(request, undefined, 5_000);
    expect(reply).toMatchObject({ status: 'error', error: { code: 'INTERNAL' } });
    expect(JSON.stringify(reply)).not.toContain('socket exploded');
  });
});
