import { Logger } from '@nestjs/common';
import { type Task, type TierModelReport, type TierName } from '@argus/contracts';
import type { ImageProcessor } from '@argus/imaging';
import {
  sideOcrLines,
  createTaskEngine,
  FaceDetector,
  NsfwClassifier,
  OllamaEngine,
  PaddleOcr,
  TesseractOcr,
  TierGuard,
  TierHealth,
  TierRouter,
  type CacheStore,
  type CpuReadiness,
  type ResolvedCatalog,
  type RouterObserver,
  type TierRoute,
  type TierSlotSource,
} from '@argus/inference';
import type { TierStateObserver } from './worker-metrics.observer';

const WARM_UP_POLICY = {
  name: 'warm-up',
  policy: { description: 'used only to warm the CPU engine', thresholds: {}, allowed: [], rules: [] },
};

/** Engines that need loading before they can answer; each worker warms only what its task uses. */
class CpuEngines {
  private nsfwClassifier?: NsfwClassifier;
  private tesseractOcr?: TesseractOcr;
  private paddleOcr?: PaddleOcr;
  private faceDetector?: FaceDetector;
  private state: CpuReadiness = { ready: false, detail: 'warming up' };

  constructor(private readonly task: Task) {}

  nsfw(): NsfwClassifier {
    this.nsfwClassifier ??= new NsfwClassifier();
    return this.nsfwClassifier;
  }

  tesseract(): TesseractOcr {
    this.tesseractOcr ??= new TesseractOcr();
    return this.tesseractOcr;
  }

  paddle(): PaddleOcr {
    this.paddleOcr ??= new PaddleOcr();
    return this.paddleOcr;
  }

  faces(): FaceDetector {
    this.faceDetector ??= new FaceDetector();
    return this.faceDetector;
  }

  async warm(): Promise<void> {
    const started = performance.now();
    try {
      if (this.task === 'moderation') await this.nsfw().warm();
      // Tagging reports the faces in every photo (people, and the no_person listing check).
      if (this.task === 'tagging') await this.faces().warm();
      // Moderation reads the image's text for contact details and tagging for text over the background, so every
      // task needs PaddleOCR. Their side reads are PaddleOCR's alone; tesseract, the OCR task's second reader, is
      // created on first use elsewhere, which happens only without PaddleOCR's models (about 70 MB a worker saved).
      await this.paddle().warm();
      if (this.task === 'ocr') await this.tesseract().warm();
      const engine = {
        moderation: 'nsfwjs MobileNetV2 (tfjs wasm) and PaddleOCR (onnxruntime)',
        tagging: 'sharp measurements, PaddleOCR (onnxruntime) and BlazeFace (tfjs wasm)',
        ocr: 'PaddleOCR PP-OCRv4 (onnxruntime) and tesseract eng LSTM',
      }[this.task];
      this.state = { ready: true, detail: `${engine} warm in ${Math.round(performance.now() - started)} ms` };
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
    await this.tesseractOcr?.close();
    await this.paddleOcr?.close();
    await this.faceDetector?.close();
  }
}

/**
 * Everything one worker needs to answer its task on every enabled tier: an Ollama client per tier, the CPU engines,
 * a guard (bulkhead, breaker, retries) per tier, the health monitor and the cascade router.
 */
export class WorkerInference {
  private readonly logger = new Logger('Inference');
  readonly router: TierRouter;
  readonly health: TierHealth;
  private readonly cpu: CpuEngines;
  private readonly ollamaByTier = new Map<TierName, OllamaEngine>();
  private gaugeTimer?: NodeJS.Timeout;

  constructor(
    readonly task: Task,
    readonly catalog: ResolvedCatalog,
    private readonly processor: ImageProcessor,
    cache: CacheStore | undefined,
    private readonly observer: RouterObserver & TierStateObserver,
    /** The shared slots of an Ollama tier (admission control across processes); absent, a worker limits only itself. */
    slotsFor?: (tier: TierName, capacity: number) => TierSlotSource,
  ) {
    this.cpu = new CpuEngines(task);
    const choices = catalog.forTask(task);
    for (const { tier, spec } of choices) {
      if (spec.engine === 'ollama') {
        this.ollamaByTier.set(
          tier,
          new OllamaEngine({ host: spec.url, keepAlive: spec.keepAlive, numCtx: spec.contextLength }),
        );
      }
    }
    const routes: TierRoute[] = choices.map(({ tier, spec, model }) => ({
      tier,
      confidenceThreshold: model.confidenceThreshold,
      guard: new TierGuard(tier, {
        concurrency: spec.concurrency,
        queueLimit: spec.queueLimit,
        ...(spec.engine === 'ollama' && slotsFor ? { slots: slotsFor(tier, spec.concurrency) } : {}),
      }),
      engine: createTaskEngine(
        {
          task,
          tier,
          kind: spec.engine,
          model: model.model,
          input: model.input,
          numPredict: model.numPredict,
          contextLength: spec.contextLength,
          think: model.think,
        },
        {
          processor,
          nsfw: () => this.cpu.nsfw(),
          tesseract: () => this.cpu.tesseract(),
          paddle: () => this.cpu.paddle(),
          faces: () => this.cpu.faces(),
          ollama: (name) => this.ollama(name),
        },
      ),
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
    this.router = new TierRouter(task, routes, this.health, cache, observer);
  }

  /**
   * Words the CPU OCR reads in an image (PaddleOCR, confident and plausible ones only), with boxes in the image's
   * pixels; undefined when the image was too busy to read within the side-job budget.
   */
  async readWords(
    image: Uint8Array,
  ): Promise<
    Array<{ text: string; box: { x: number; y: number; width: number; height: number } }> | undefined
  > {
    const deps = {
      processor: this.processor,
      tesseract: () => this.cpu.tesseract(),
      paddle: () => this.cpu.paddle(),
    };
    const lines = await sideOcrLines(image, deps);
    return lines?.flatMap((line) => line.words);
  }

  private ollama(tier: TierName): OllamaEngine {
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
    await this.publishTierState();
    this.gaugeTimer = setInterval(() => {
      void this.publishTierState();
    }, options.healthIntervalMs);
    this.gaugeTimer.unref();
    for (const route of this.router.routes) {
      this.logger.log(
        `${this.task} on ${route.tier}: ${route.engine.model} — ${this.health.describe(route.tier)}`,
      );
    }
  }

  /** One run of the CPU engine on a synthetic image: the first real request then finds every code path warm. */
  private async warmCpuRoute(): Promise<void> {
    const cpu = this.router.routes.find((route) => route.tier === 'cpu');
    if (!cpu || !this.health.isAvailable('cpu')) return;
    const started = performance.now();
    try {
      await cpu.engine.run({
        image: await this.processor.sample(),
        signal: AbortSignal.timeout(30_000),
        // Moderation answers under a policy; the warm-up's answer is thrown away, so any policy does.
        ...(this.task === 'moderation' ? { policy: WARM_UP_POLICY } : {}),
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
