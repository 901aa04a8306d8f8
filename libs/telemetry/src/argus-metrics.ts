import { trace } from '@opentelemetry/api';
import {
  collectDefaultMetrics,
  Counter,
  Gauge,
  Histogram,
  Registry,
  type LabelValues,
  type ObserveDataWithExemplar,
  type RegistryContentType,
} from 'prom-client';
import { BYTES_BUCKETS, LATENCY_BUCKETS_SECONDS, METRIC, PIXEL_BUCKETS, type Stage } from './metric-names';

const OPENMETRICS = Registry.OPENMETRICS_CONTENT_TYPE;
const PROMETHEUS_TEXT = Registry.PROMETHEUS_CONTENT_TYPE;

function openMetricsRegistry(): Registry<RegistryContentType> {
  const registry = new Registry<RegistryContentType>();
  registry.setContentType(OPENMETRICS);
  return registry;
}

/** `{trace_id}` of the active span when it is a real, sampled trace; empty otherwise (no exemplar is kept). */
function traceExemplar(): Record<string, string> {
  const span = trace.getActiveSpan()?.spanContext();
  if (!span || !trace.isSpanContextValid(span)) return {};
  return { trace_id: span.traceId };
}

/**
 * A latency histogram whose every observation carries the active trace id as its bucket's exemplar, while callers
 * keep prom-client's plain `observe(labels, value)` form. prom-client switches `observe` to an object signature
 * when exemplars are on; this puts the positional form back and fills the exemplar from the trace context.
 */
function tracedHistogram<Label extends string>(
  config: ConstructorParameters<typeof Histogram<Label>>[0],
): Histogram<Label> {
  const histogram = new Histogram<Label>({ ...config, enableExemplars: true });
  const withExemplar = histogram.observe.bind(histogram) as (data: ObserveDataWithExemplar<Label>) => void;
  const observe = (labelsOrData: LabelValues<Label> | ObserveDataWithExemplar<Label>, value?: number) => {
    if (value === undefined && 'value' in labelsOrData && typeof labelsOrData.value === 'number') {
      const data = labelsOrData;
      const exemplarLabels =
        data.exemplarLabels && Object.keys(data.exemplarLabels).length > 0
          ? data.exemplarLabels
          : (traceExemplar() as LabelValues<Label>);
      withExemplar({ ...data, exemplarLabels });
      return;
    }
    withExemplar({
      labels: labelsOrData as LabelValues<Label>,
      value: value ?? 0,
      exemplarLabels: traceExemplar() as LabelValues<Label>,
    });
  };
  Object.assign(histogram, { observe });
  return histogram;
}

/**
 * How often the event-loop delay behind `nodejs_eventloop_lag_*` is sampled. prom-client's default (10 ms) wakes an
 * idle process 100 times a second, which measured 10.8 CPU ms per second per process here, 1.1% of a core for every
 * pod doing nothing (issue 18). A late sample still records the whole delay, so a blocked loop shows at any rate;
 * 100 ms costs 3.3 ms per second and still gives 150 samples per 15 s scrape.
 */
const EVENT_LOOP_SAMPLE_MS = 100;

/**
 * The metrics catalog of one process, on its own Registry (one per process, one per test), so tests never see
 * each other's samples. Business code never touches prom-client; it calls these typed recorders.
 */
export class ArgusMetrics {
  /** OpenMetrics while the histograms register (prom-client allows exemplars only then); see exposition(). */
  readonly registry = openMetricsRegistry();

  readonly imageDuration = tracedHistogram({
    name: METRIC.imageDuration,
    help: 'Time per image from receipt to reply, in each service',
    labelNames: ['service', 'task', 'tier', 'model', 'outcome'] as const,
    buckets: LATENCY_BUCKETS_SECONDS,
    registers: [this.registry],
  });

  readonly stageDuration = tracedHistogram({
    name: METRIC.stageDuration,
    help: 'Time spent in one processing stage',
    labelNames: ['service', 'stage'] as const,
    buckets: LATENCY_BUCKETS_SECONDS,
    registers: [this.registry],
  });

  readonly inferenceDuration = tracedHistogram({
    name: METRIC.inferenceDuration,
    help: 'Time of one inference engine call',
    labelNames: ['engine', 'tier', 'model', 'outcome'] as const,
    buckets: LATENCY_BUCKETS_SECONDS,
    registers: [this.registry],
  });

  readonly gatewayRequestDuration = tracedHistogram({
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
  readonly inferencePhase = tracedHistogram({
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

  /** Model answers fixed before validation: a percent confidence (85) for a 0-1 field read as 0.85. */
  readonly modelOutputNormalisations = new Counter({
    name: METRIC.modelOutputNormalisations,
    help: 'Values in model answers normalised before validation (a percent confidence read as 0-1), by field',
    labelNames: ['task', 'tier', 'model', 'field'] as const,
    registers: [this.registry],
  });

  readonly reviewOutcomes = new Counter({
    name: METRIC.reviewOutcomes,
    help: 'Resolved human reviews by category, the model decision, the person decision and the tier that answered',
    labelNames: ['category', 'model_decision', 'human_decision', 'tier'] as const,
    registers: [this.registry],
  });

  readonly webhookDeliveries = new Counter({
    name: METRIC.webhookDeliveries,
    help: 'Webhook deliveries by event type and outcome (delivered, or failed after every attempt)',
    labelNames: ['type', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly natsConnected = new Gauge({
    name: METRIC.natsConnected,
    help: '1 while this process is connected to NATS, 0 while it is reconnecting',
    labelNames: ['service'] as const,
    registers: [this.registry],
  });

  readonly natsReconnects = new Counter({
    name: METRIC.natsReconnects,
    help: 'Times this process reconnected to NATS',
    labelNames: ['service'] as const,
    registers: [this.registry],
  });

  readonly natsRequestDuration = tracedHistogram({
    name: METRIC.natsRequestDuration,
    help: 'Request/reply round trip over NATS as the caller sees it, by subject and outcome',
    labelNames: ['service', 'subject', 'outcome'] as const,
    buckets: LATENCY_BUCKETS_SECONDS,
    registers: [this.registry],
  });

  readonly jetstreamConsumerPending = new Gauge({
    name: METRIC.jetstreamConsumerPending,
    help: 'Messages in a JetStream stream not yet delivered to the consumer',
    labelNames: ['stream', 'consumer'] as const,
    registers: [this.registry],
  });

  readonly jetstreamConsumerAckPending = new Gauge({
    name: METRIC.jetstreamConsumerAckPending,
    help: 'Messages delivered to the consumer and not yet acknowledged',
    labelNames: ['stream', 'consumer'] as const,
    registers: [this.registry],
  });

  readonly jetstreamConsumerRedelivered = new Gauge({
    name: METRIC.jetstreamConsumerRedelivered,
    help: 'Messages the consumer has had redelivered at least once (from consumer info)',
    labelNames: ['stream', 'consumer'] as const,
    registers: [this.registry],
  });

  readonly deadLetters = new Gauge({
    name: METRIC.deadLetters,
    help: 'Messages held in the dead-letter stream, by task',
    labelNames: ['task'] as const,
    registers: [this.registry],
  });

  readonly tierUp = new Gauge({
    name: METRIC.tierUp,
    help: '1 when the tier can serve this task now (model present with vision, engine warm), else 0',
    labelNames: ['task', 'tier', 'model'] as const,
    registers: [this.registry],
  });

  readonly tierBreakerOpen = new Gauge({
    name: METRIC.tierBreakerOpen,
    help: "1 while the tier's circuit breaker is open or half-open for this task, else 0",
    labelNames: ['task', 'tier'] as const,
    registers: [this.registry],
  });

  readonly ollamaLoadedModels = new Gauge({
    name: METRIC.ollamaLoadedModels,
    help: "Models loaded in the tier's Ollama, from /api/ps",
    labelNames: ['tier'] as const,
    registers: [this.registry],
  });

  readonly ollamaModelVram = new Gauge({
    name: METRIC.ollamaModelVram,
    help: "VRAM a loaded model uses in the tier's Ollama (size_vram from /api/ps)",
    labelNames: ['tier', 'model'] as const,
    registers: [this.registry],
  });

  /** Counter names as registered; see exposition() for why they are kept. */
  private readonly counterNames = new Map<{ name: string }, string>();
  /** Scrapes run one at a time, since each one sets the registry's format. */
  private scrapes: Promise<unknown> = Promise.resolve();

  constructor(readonly service: string) {
    collectDefaultMetrics({
      register: this.registry,
      eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS,
    });
    for (const metric of this.registry.getMetricsAsArray()) {
      const described = metric as unknown as { name: string; type?: string };
      if (described.type === 'counter') this.counterNames.set(described, described.name);
    }
    this.registry.setContentType(PROMETHEUS_TEXT);
  }

  /** Connection state and request round trips of this process' NATS connection (see @argus/messaging). */
  natsObserver() {
    const service = this.service;
    // Present from the start, so rate() and increase() see the first reconnect.
    this.natsReconnects.inc({ service }, 0);
    return {
      connectionChanged: (up: boolean) => {
        this.natsConnected.set({ service }, up ? 1 : 0);
      },
      reconnected: () => {
        this.natsReconnects.inc({ service });
      },
      requestDone: (subject: string, outcome: string, seconds: number) => {
        this.natsRequestDuration.observe({ service, subject, outcome }, seconds);
      },
    };
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

  /**
   * The scrape body in the format the scraper asks for: OpenMetrics (with trace-id exemplars) when its Accept header
   * names it, as Prometheus does; the classic text format for everyone else. prom-client renames counters in place
   * while writing OpenMetrics (it strips `_total`), so the names are put back after every such scrape.
   */
  exposition(accept = ''): Promise<{ contentType: string; body: string }> {
    const format = accept.includes('application/openmetrics-text') ? OPENMETRICS : PROMETHEUS_TEXT;
    const scrape = this.scrapes.then(async () => {
      this.registry.setContentType(format);
      try {
        return { contentType: format, body: await this.registry.metrics() };
      } finally {
        for (const [metric, name] of this.counterNames) metric.name = name;
        this.registry.setContentType(PROMETHEUS_TEXT);
      }
    });
    this.scrapes = scrape.catch(() => undefined);
    return scrape;
  }
}
