import type { Escalation, Task, TierName } from '@argus/contracts';
import type { EngineAnswer, EngineUsage, RouterObserver, TierRoute } from '@argus/inference';
import type { ArgusMetrics } from '@argus/telemetry';

/** What the worker's periodic tier check reports, for the tier and Ollama gauges. */
export interface TierStateObserver {
  tierState(task: Task, tier: TierName, model: string, up: boolean, breakerOpen: boolean): void;
  /** Models loaded in one tier's Ollama, from /api/ps; undefined when it could not be asked. */
  ollamaLoaded(tier: TierName, models: Array<{ model: string; sizeVram: number }> | undefined): void;
}

/** Turns routing events and tier checks into the catalog's metrics, so routing code never touches prom-client. */
export class WorkerMetricsObserver implements RouterObserver, TierStateObserver {
  /** Models last seen loaded per tier, so a model that was unloaded stops reporting VRAM. */
  private readonly loadedBefore = new Map<TierName, Set<string>>();

  constructor(private readonly metrics: ArgusMetrics) {}

  tierState(task: Task, tier: TierName, model: string, up: boolean, breakerOpen: boolean): void {
    this.metrics.tierUp.set({ task, tier, model }, up ? 1 : 0);
    this.metrics.tierBreakerOpen.set({ task, tier }, breakerOpen ? 1 : 0);
  }

  ollamaLoaded(tier: TierName, models: Array<{ model: string; sizeVram: number }> | undefined): void {
    const now = new Set((models ?? []).map((entry) => entry.model));
    for (const gone of this.loadedBefore.get(tier) ?? []) {
      if (!now.has(gone)) this.metrics.ollamaModelVram.remove({ tier, model: gone });
    }
    this.loadedBefore.set(tier, now);
    this.metrics.ollamaLoadedModels.set({ tier }, now.size);
    for (const entry of models ?? []) {
      this.metrics.ollamaModelVram.set({ tier, model: entry.model }, entry.sizeVram);
    }
  }

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
    spent?: EngineUsage,
  ): void {
    const { tier, engine } = route;
    this.metrics.inferenceDuration.observe(
      { engine: engine.kind, tier, model: engine.model, outcome },
      seconds,
    );
    this.metrics.inferencePhase.observe({ tier, model: engine.model, phase: 'queue' }, queueSeconds);
    for (const field of answer?.normalised ?? []) {
      this.metrics.modelOutputNormalisations.inc({ task: engine.task, tier, model: engine.model, field });
    }
    // Every call of the answer (a repair included); a failed answer still spent its tokens.
    const usage = answer?.usage ?? spent;
    if (!usage) return;
    this.metrics.inferenceTokens.inc({ tier, model: engine.model, kind: 'input' }, usage.inputTokens);
    this.metrics.inferenceTokens.inc({ tier, model: engine.model, kind: 'output' }, usage.outputTokens);
    for (const phase of ['load', 'prompt', 'eval'] as const) {
      this.metrics.inferencePhase.observe({ tier, model: engine.model, phase }, usage.seconds[phase]);
    }
  }
}
