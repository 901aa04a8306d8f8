import { readFileSync } from 'node:fs';
import { Logger } from '@nestjs/common';
import { findShippedFile } from '@argus/config';
import { type Task, type TierModelReport, type TierName } from '@argus/contracts';
import type { ImageProcessor } from '@argus/imaging';
import type { ArgusMetrics } from '@argus/telemetry';
import {
  FaceDetector,
  ImageContext,
  NsfwClassifier,
  OllamaClient,
  PaddleOcr,
  TesseractOcr,
  TierGuard,
  TierHealth,
  TierRouter,
  type CacheStore,
  type CpuReadiness,
  type CpuRuntimes,
  type EngineDependencies,
  type ResolvedCatalog,
  type RouterObserver,
  type TierRoute,
  type TierSlotSource,
} from '@argus/inference';
import { ReplyCacheWriter, workerFingerprint } from './reply-cache';
import type { CpuRuntimeName, TaskDefinition, TaskRuntime } from './task-definition';
import type { TierStateObserver } from './worker-metrics.observer';

/** Runtimes that need loading before they can answer; each worker loads only what its task's definition lists. */
class CpuEngines {
  private readonly created: Partial<CpuRuntimes> = {};
  private state: CpuReadiness = { ready: false, detail: 'warming up' };

  constructor(private readonly definition: Pick<TaskDefinition, 'cpuRuntimes' | 'cpuEngineDescription'>) {}

  get<Name extends CpuRuntimeName>(name: Name): CpuRuntimes[Name] {
    const runtime = this.created[name] ?? CPU_RUNTIME_FACTORIES[name]();
    this.created[name] = runtime;
    return runtime;
  }

  async warm(): Promise<void> {
    const started = performance.now();
    try {
      for (const name of this.definition.cpuRuntimes) await this.get(name).warm();
      const elapsed = Math.round(performance.now() - started);
      this.state = { ready: true, detail: `${this.definition.cpuEngineDescription} warm in ${elapsed} ms` };
    } catch (error) {
      this.state = {
        ready: false,
        detail: `CPU engine failed to load: ${error instanceof Error ? error.message : String(error)}`,
      };
      throw error;
    }
  }

  readiness(): CpuReadiness {
    return this.state;
  }

  async close(): Promise<void> {
    await Promise.all(Object.values(this.created).map((runtime) => runtime.close()));
  }
}

/** How each CPU runtime is created; loading happens in warm() or on first use. */
const CPU_RUNTIME_FACTORIES: { [Name in CpuRuntimeName]: () => CpuRuntimes[Name] } = {
  nsfw: () => new NsfwClassifier(),
  tesseract: () => new TesseractOcr(),
  paddle: () => new PaddleOcr(),
  faces: () => new FaceDetector(),
};

/**
 * Everything one worker needs to answer its task on every enabled tier: an Ollama client per tier, the CPU engines,
 * a guard (bulkhead, breaker, retries) per tier, the health monitor and the cascade router.
 */
export class WorkerInference {
  private readonly logger = new Logger('Inference');
  readonly task: Task;
  readonly router: TierRouter;
  readonly health: TierHealth;
  /** The task as this worker runs it: engines, option resolution, after-routing steps and counters. */
  readonly runtime: TaskRuntime;
  private readonly cpu: CpuEngines;
  private readonly ollamaByTier = new Map<TierName, OllamaClient>();
  private gaugeTimer?: NodeJS.Timeout;
  /** Absent when answers are not cached (ARGUS_CACHE_TTL_SECONDS=0). */
  readonly replies?: ReplyCacheWriter;

  constructor(
    definition: TaskDefinition,
    readonly catalog: ResolvedCatalog,
    private readonly processor: ImageProcessor,
    cache: CacheStore | undefined,
    private readonly observer: RouterObserver & TierStateObserver,
    metrics: ArgusMetrics,
    /** The shared slots of an Ollama tier (admission control across processes); absent, a worker limits only itself. */
    slotsFor?: (tier: TierName, capacity: number) => TierSlotSource,
  ) {
    this.task = definition.id;
    this.cpu = new CpuEngines(definition);
    const choices = catalog.forTask(this.task);
    for (const { tier, spec } of choices) {
      if (spec.engine === 'ollama') {
        this.ollamaByTier.set(
          tier,
          new OllamaClient({ host: spec.url, keepAlive: spec.keepAlive, numCtx: spec.contextLength }),
        );
      }
    }
    const runtimes: EngineDependencies = {
      processor,
      nsfw: () => this.cpu.get('nsfw'),
      tesseract: () => this.cpu.get('tesseract'),
      paddle: () => this.cpu.get('paddle'),
      faces: () => this.cpu.get('faces'),
      ollama: (name) => this.ollama(name),
    };
    this.runtime = definition.boot({ processor, runtimes, metrics });
    const routes: TierRoute[] = choices.map(({ tier, spec, model }) => ({
      tier,
      confidenceThreshold: model.confidenceThreshold,
      guard: new TierGuard(tier, {
        concurrency: spec.concurrency,
        queueLimit: spec.queueLimit,
        ...(spec.engine === 'ollama' && slotsFor ? { slots: slotsFor(tier, spec.concurrency) } : {}),
      }),
      engine: this.runtime.engine({
        task: this.task,
        tier,
        kind: spec.engine,
        model: model.model,
        input: model.input,
        numPredict: model.numPredict,
        contextLength: spec.contextLength,
        think: model.think,
      }),
    }));
    this.health = new TierHealth(
      choices.map(({ tier, spec, model }) => ({
        tier,
        kind: spec.engine,
        model: model.model,
        ollama: this.ollamaByTier.get(tier),
      })),
      () => this.cpu.readiness(),
    );
    this.router = new TierRouter(this.task, routes, this.health, cache, observer);
    if (cache) {
      this.replies = new ReplyCacheWriter(
        this.task,
        cache,
        workerFingerprint(argusVersion(), routes, this.runtime.configDigest),
      );
    }
  }

  private ollama(tier: TierName): OllamaClient {
    const engine = this.ollamaByTier.get(tier);
    if (!engine) throw new Error(`no Ollama client for the ${tier} tier`);
    return engine;
  }

  /** Loads the CPU engines, optionally pulls missing models, then starts watching the tiers. */
  async start(options: { pullModels: boolean; healthIntervalMs: number }): Promise<void> {
    for (const warning of this.catalog.warnings) this.logger.warn(warning);
    await Promise.all([this.cpu.warm().catch(() => undefined), this.health.refresh()]);
    await this.warmCpuRoute();
    if (options.pullModels) await this.pullMissing();
    await this.health.refresh();
    this.health.start(options.healthIntervalMs);
    await Promise.all([this.publishTierState(), this.publishFingerprint()]);
    this.gaugeTimer = setInterval(() => {
      void this.publishTierState();
      void this.publishFingerprint();
    }, options.healthIntervalMs);
    this.gaugeTimer.unref();
    for (const route of this.router.routes) {
      this.logger.log(
        `${this.task} on ${route.tier}: ${route.engine.model} — ${this.health.explain(route.tier)}`,
      );
    }
  }

  /** One run of the CPU engine on a synthetic image: the first real request then finds every code path warm. */
  private async warmCpuRoute(): Promise<void> {
    const cpu = this.router.routes.find((route) => route.tier === 'cpu');
    if (!cpu || !this.health.isAvailable('cpu')) return;
    const started = performance.now();
    try {
      const image = await this.processor.sample();
      await cpu.engine.run({
        image,
        context: ImageContext.of(image),
        signal: AbortSignal.timeout(30_000),
        options: this.runtime.warmUpOptions(),
      });
      this.logger.log(
        `${this.task} CPU engine warmed with a sample image in ${Math.round(performance.now() - started)} ms`,
      );
    } catch (error) {
      this.logger.warn(
        `warming the ${this.task} CPU engine failed: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }

  private async pullMissing(): Promise<void> {
    for (const route of this.router.routes) {
      const ollama = this.ollamaByTier.get(route.tier);
      if (!ollama || this.health.status(route.tier).status !== 'missing') continue;
      this.logger.log(`pulling ${route.engine.model} for the ${route.tier} tier…`);
      try {
        await ollama.pull(
          route.engine.model,
          (line) => {
            this.logger.log(`pull ${route.engine.model}: ${line}`);
          },
          AbortSignal.timeout(3_600_000),
        );
      } catch (error) {
        this.logger.error(
          `pulling ${route.engine.model} failed: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
    }
  }

  /** Per tier: model, status, breaker, VRAM estimate and, from /api/ps, whether it is loaded and its VRAM. */
  async report(): Promise<TierModelReport[]> {
    return Promise.all(
      this.catalog.forTask(this.task).map(async ({ tier, spec, model }) => {
        const route = this.router.routes.find((candidate) => candidate.tier === tier);
        const health = this.health.status(tier);
        const loaded = await this.loaded(tier, model.model);
        return {
          tier,
          engine: spec.engine,
          url: spec.url ?? null,
          model: model.model,
          status: health.status,
          detail: health.detail,
          loaded: spec.engine === 'cpu' ? health.status === 'ready' : loaded !== undefined,
          sizeVram: loaded?.sizeVram ?? null,
          vramEstimateGiB: model.vramEstimateGiB ?? null,
          vramBudgetGiB: spec.vramBudgetGiB ?? null,
          concurrency: spec.concurrency,
          promptVersion: model.promptVersion,
          breaker: route?.guard.breakerState ?? 'closed',
        };
      }),
    );
  }

  private async loaded(tier: TierName, model: string): Promise<{ sizeVram: number } | undefined> {
    const ollama = this.ollamaByTier.get(tier);
    if (!ollama || this.health.status(tier).status === 'unreachable') return undefined;
    try {
      return (await ollama.loadedModels()).find((entry) => entry.model === model);
    } catch {
      return undefined;
    }
  }

  private async publishFingerprint(): Promise<void> {
    await this.replies?.publish().catch((error: unknown) => {
      this.logger.warn(
        `could not publish the reply-cache fingerprint: ${error instanceof Error ? error.message : String(error)}`,
      );
    });
  }

  /** Tier availability, breaker state and, per Ollama tier, the loaded models and their VRAM, as gauges. */
  private async publishTierState(): Promise<void> {
    for (const route of this.router.routes) {
      this.observer.tierState(
        this.task,
        route.tier,
        route.engine.model,
        this.health.isAvailable(route.tier),
        route.guard.breakerState !== 'closed',
      );
    }
    await Promise.all(
      [...this.ollamaByTier].map(async ([tier, ollama]) => {
        const models =
          this.health.status(tier).status === 'unreachable'
            ? undefined
            : await ollama.loadedModels().catch(() => undefined);
        this.observer.ollamaLoaded(tier, models);
      }),
    );
  }

  async close(): Promise<void> {
    if (this.gaugeTimer) clearInterval(this.gaugeTimer);
    this.health.stop();
    await this.cpu.close();
  }
}

/** The package's version, part of the worker's fingerprint: new code may answer the same request differently. */
function argusVersion(): string {
  try {
    const manifest = JSON.parse(
      readFileSync(findShippedFile('package.json', 'the Argus package'), 'utf8'),
    ) as {
      version?: string;
    };
    return manifest.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}
