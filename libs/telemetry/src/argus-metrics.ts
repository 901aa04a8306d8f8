import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { BYTES_BUCKETS, LATENCY_BUCKETS_SECONDS, METRIC, PIXEL_BUCKETS, type Stage } from './metric-names';

/**
 * The metrics catalog of one process, on its own Registry (one per process, one per test), so tests never see
 * each other's samples. Business code never touches prom-client; it calls these typed recorders.
 */
export class ArgusMetrics {
  readonly registry = new Registry();

  readonly imageDuration = new Histogram({
    name: METRIC.imageDuration,
    help: 'Time per image from receipt to reply, in each service',
    labelNames: ['service', 'task', 'tier', 'model', 'outcome'] as const,
    buckets: LATENCY_BUCKETS_SECONDS,
    registers: [this.registry],
  });

  readonly stageDuration = new Histogram({
    name: METRIC.stageDuration,
    help: 'Time spent in one processing stage',
    labelNames: ['service', 'stage'] as const,
    buckets: LATENCY_BUCKETS_SECONDS,
    registers: [this.registry],
  });

  readonly inferenceDuration = new Histogram({
    name: METRIC.inferenceDuration,
    help: 'Time of one inference engine call',
    labelNames: ['engine', 'tier', 'model', 'outcome'] as const,
    buckets: LATENCY_BUCKETS_SECONDS,
    registers: [this.registry],
  });

  readonly gatewayRequestDuration = new Histogram({
    name: METRIC.gatewayRequestDuration,
    help: 'Gateway HTTP request duration by route and status',
    labelNames: ['route', 'status'] as const,
    buckets: LATENCY_BUCKETS_SECONDS,
    registers: [this.registry],
  });

  readonly imageInputBytes = new Histogram({
    name: METRIC.imageInputBytes,
    help: 'Size of uploaded images in bytes',
    buckets: BYTES_BUCKETS,
    registers: [this.registry],
  });

  readonly imageInputPixels = new Histogram({
    name: METRIC.imageInputPixels,
    help: 'Pixel count of uploaded images, before the long-side cap',
    buckets: PIXEL_BUCKETS,
    registers: [this.registry],
  });

  readonly inferenceTokens = new Counter({
    name: METRIC.inferenceTokens,
    help: 'Tokens processed by inference, from the engine own counts',
    labelNames: ['tier', 'model', 'kind'] as const,
    registers: [this.registry],
  });

  readonly inflight = new Gauge({
    name: METRIC.inflight,
    help: 'Images being processed right now',
    labelNames: ['service', 'tier'] as const,
    registers: [this.registry],
  });

  /** Ollama's own split of a call: queue (waiting for a slot here), load, prompt evaluation, generation. */
  readonly inferencePhase = new Histogram({
    name: METRIC.inferencePhase,
    help: 'Time of one inference call by phase: queue, load, prompt, eval',
    labelNames: ['tier', 'model', 'phase'] as const,
    buckets: LATENCY_BUCKETS_SECONDS,
    registers: [this.registry],
  });

  readonly cascadeEscalations = new Counter({
    name: METRIC.cascadeEscalations,
    help: 'Requests moved from one tier to the next by the auto cascade',
    labelNames: ['task', 'from_tier', 'to_tier'] as const,
    registers: [this.registry],
  });

  readonly cacheLookups = new Counter({
    name: METRIC.cacheLookups,
    help: 'Result cache lookups by outcome (hit, miss, error)',
    labelNames: ['task', 'result'] as const,
    registers: [this.registry],
  });

  readonly moderationDecisions = new Counter({
    name: METRIC.moderationDecisions,
    help: 'Moderation decisions by decision and by category found (category="none" when nothing was found)',
    labelNames: ['decision', 'category'] as const,
    registers: [this.registry],
  });

  constructor(readonly service: string) {
    collectDefaultMetrics({ register: this.registry });
  }

  /** Runs `work` and records its duration under `stage`, whether it succeeds or throws. */
  async timeStage<T>(stage: Stage, work: () => Promise<T>): Promise<T> {
    const stop = this.stageDuration.startTimer({ service: this.service, stage });
    try {
      return await work();
    } finally {
      stop();
    }
  }

  recordStage(stage: Stage, seconds: number): void {
    this.stageDuration.observe({ service: this.service, stage }, seconds);
  }

  async exposition(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
