import type { Escalation, Task } from '@argus/contracts';
import type { EngineAnswer, RouterObserver, TierRoute } from '@argus/inference';
import type { ArgusMetrics } from '@argus/telemetry';

/** Turns routing events into the catalog's metrics, so routing code never touches prom-client. */
export class WorkerMetricsObserver implements RouterObserver {
  constructor(private readonly metrics: ArgusMetrics) {}

  escalated(task: Task, escalation: Escalation): void {
    this.metrics.cascadeEscalations.inc({ task, from_tier: escalation.from, to_tier: escalation.to });
  }

  cacheLookup(task: Task, result: 'hit' | 'miss' | 'error'): void {
    this.metrics.cacheLookups.inc({ task, result });
  }

  engineCall(
    route: TierRoute,
    outcome: string,
    seconds: number,
    queueSeconds: number,
    answer?: EngineAnswer,
  ): void {
    const { tier, engine } = route;
    this.metrics.inferenceDuration.observe(
      { engine: engine.kind, tier, model: engine.model, outcome },
      seconds,
    );
    this.metrics.inferencePhase.observe({ tier, model: engine.model, phase: 'queue' }, queueSeconds);
    const usage = answer?.usage;
    if (!usage) return;
    this.metrics.inferenceTokens.inc({ tier, model: engine.model, kind: 'input' }, usage.inputTokens);
    this.metrics.inferenceTokens.inc({ tier, model: engine.model, kind: 'output' }, usage.outputTokens);
    for (const phase of ['load', 'prompt', 'eval'] as const) {
      this.metrics.inferencePhase.observe({ tier, model: engine.model, phase }, usage.seconds[phase]);
    }
  }
}
