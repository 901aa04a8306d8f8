import { ArgusError, type Escalation, type RoutingOptions, type Task, type TierName } from '@argus/contracts';
import type { ImageContext } from './image-context';
import { cacheKey, isCachedAnswer, type CacheStore } from './result-cache';
import { usageOf, type EngineAnswer, type EngineUsage, type TaskEngine } from './task-engine';
import type { BreakerState, TierGuard } from './tier-guard';

export interface TierRoute {
  tier: TierName;
  engine: TaskEngine;
  guard: TierGuard;
  /** Answers under this confidence escalate under `auto`. */
  confidenceThreshold: number;
}

export interface RouteRequest {
  /**
   * The image, whose bytes are read only when a tier has no cached answer, so a cache hit never touches the image
   * store. A failed read should be an ImageLoadError: it ends routing, since no other tier could see the image either.
   */
  image: ImageContext;
  routing: RoutingOptions;
  signal: AbortSignal;
  deadlineAt: number;
  /** How long a call may wait for one of an Ollama tier's shared slots before the tier answers UPSTREAM_BUSY. */
  slotWaitMs?: number;
  /** The task's options, handed to the engine untouched. */
  options: unknown;
  /** The part of the options that changes an answer, as the task fingerprints it for the cache key. */
  optionsFingerprint: string;
}

export interface RoutedAnswer {
  answer: EngineAnswer;
  route: TierRoute;
  escalations: Escalation[];
  cached: boolean;
  /**
   * True when a tier the request could have used was skipped (unavailable, breaker open) or failed on the way, so the
   * answer is not the one a healthy deployment gives: it is not kept as the request's reply (reply cache).
   */
  degraded: boolean;
}

/** Events the worker turns into metrics, so routing stays free of telemetry. */
export interface RouterObserver {
  escalated(task: Task, escalation: Escalation): void;
  cacheLookup(task: Task, result: 'hit' | 'miss' | 'error'): void;
  /** `queueSeconds` is the wait for a slot (the tier's shared slot, or the worker's own for cpu) before the call. */
  engineCall(
    route: TierRoute,
    outcome: string,
    seconds: number,
    queueSeconds: number,
    answer?: EngineAnswer,
    /** Tokens a failed call still spent (an answer that stayed invalid after its repair). */
    spent?: EngineUsage,
  ): void;
}

export interface TierAvailability {
  /** True when the tier can be tried now (model present and able to see images, CPU engine warm). */
  isAvailable(tier: TierName): boolean;
  explain(tier: TierName): string;
}

/** The image could not be read (gone from the store, or a cache-only request missed): no tier is tried after it. */
export class ImageLoadError extends ArgusError {}

/** Thrown when routing ends without an answer; carries the hops taken so the reply can show them. */
export class RoutingError extends ArgusError {
  constructor(
    cause: ArgusError,
    readonly escalations: Escalation[],
    readonly lastRoute: TierRoute | undefined,
  ) {
    super(cause.code, cause.message, cause.details);
  }
}

/**
 * The cascade. `auto` starts at the cheapest available tier and climbs while an answer is unsure (confidence under
 * the tier's threshold), asks for review, or leaves things the tier cannot judge; a tier that fails or whose breaker
 * is open is routed around. A pinned tier is used alone, and an unavailable pinned tier is an error unless the
 * request set `fallback`. Every tier answer is cached; a cached answer costs no model call.
 */
export class TierRouter {
  constructor(
    readonly task: Task,
    /** Cheapest first. */
    readonly routes: TierRoute[],
    private readonly availability: TierAvailability,
    private readonly cache: CacheStore | undefined,
    private readonly observer: RouterObserver,
  ) {}

  async route(request: RouteRequest): Promise<RoutedAnswer> {
    const { tier: choice, fallback } = request.routing;
    if (choice === 'auto') return this.cascade(this.routes, request, []);

    const pinned = this.routes.find((route) => route.tier === choice);
    const usable = pinned && this.availability.isAvailable(choice) && pinned.guard.breakerState !== 'open';
    if (pinned && usable) {
      try {
        return { ...(await this.attempt(pinned, request)), escalations: [], degraded: false };
      } catch (error) {
        if (!fallback || error instanceof ImageLoadError)
          throw new RoutingError(asArgusError(error), [], pinned);
        return this.cascade(this.others(choice), request, [], {
          from: choice,
          reason: 'failed',
          detail: describe(error),
        });
      }
    }
    const why = pinned
      ? this.unavailableReason(pinned)
      : `the ${choice} tier is not enabled in the model catalog`;
    if (!fallback) {
      throw new RoutingError(
        new ArgusError('MODEL_UNAVAILABLE', `${why}; set fallback=true to allow another tier`),
        [],
        pinned,
      );
    }
    return this.cascade(this.others(choice), request, [], {
      from: choice,
      reason: 'unavailable',
      detail: why,
    });
  }

  private others(tier: TierName): TierRoute[] {
    return this.routes.filter((route) => route.tier !== tier);
  }

  private async cascade(
    routes: TierRoute[],
    request: RouteRequest,
    escalations: Escalation[],
    pendingHop?: Omit<Escalation, 'to'>,
  ): Promise<RoutedAnswer> {
    let best: RoutedAnswer | undefined;
    let lastError: ArgusError | undefined;
    let lastRoute: TierRoute | undefined;
    let hop = pendingHop;
    const usable = routes.filter(
      (route) => this.availability.isAvailable(route.tier) && route.guard.breakerState !== 'open',
    );
    let degraded = pendingHop !== undefined || usable.length < routes.length;

    for (const [index, route] of usable.entries()) {
      if (hop) this.record(escalations, { ...hop, to: route.tier });
      hop = undefined;
      lastRoute = route;
      let attempt: Omit<RoutedAnswer, 'escalations' | 'degraded'>;
      try {
        attempt = await this.attempt(route, request);
      } catch (error) {
        lastError = asArgusError(error);
        // Not `best` either: a cache-only answer must be the one the full path would give, escalations included.
        if (error instanceof ImageLoadError) throw new RoutingError(lastError, escalations, route);
        if (request.signal.aborted) break;
        hop = { from: route.tier, reason: 'failed', detail: lastError.message };
        degraded = true;
        continue;
      }
      const reason = this.escalationReason(route, attempt.answer);
      best = { ...attempt, escalations, degraded };
      if (!reason || index === usable.length - 1) return best;
      hop = { from: route.tier, ...reason };
    }
    // A tier above the best answer failed, or time ran out before it could answer.
    if (best) return { ...best, degraded: true };
    const error =
      lastError ??
      new ArgusError(
        'MODEL_UNAVAILABLE',
        `no tier can run ${this.task} now: ${routes.map((route) => this.unavailableReason(route)).join('; ')}`,
      );
    throw new RoutingError(error, escalations, lastRoute);
  }

  private escalationReason(
    route: TierRoute,
    answer: EngineAnswer,
  ): Pick<Escalation, 'reason' | 'detail'> | undefined {
    if (answer.confidence !== null && answer.confidence < route.confidenceThreshold) {
      return {
        reason: 'low_confidence',
        detail: `confidence ${answer.confidence.toFixed(2)} under ${route.confidenceThreshold}`,
      };
    }
    if (answer.wantsReview) return { reason: 'review' };
    if (answer.needsGpuTier.length > 0)
      return { reason: 'cannot_judge', detail: answer.needsGpuTier.join(', ') };
    return undefined;
  }

  private record(escalations: Escalation[], escalation: Escalation): void {
    escalations.push(escalation);
    this.observer.escalated(this.task, escalation);
  }

  private async attempt(
    route: TierRoute,
    request: RouteRequest,
  ): Promise<Omit<RoutedAnswer, 'escalations' | 'degraded'>> {
    const key = cacheKey({
      task: this.task,
      tier: route.tier,
      sha256: request.image.facts.sha256,
      width: request.image.facts.width,
      height: request.image.facts.height,
      engineFingerprint: [route.engine.fingerprint, request.optionsFingerprint].filter(Boolean).join('|'),
    });
    const cached = await this.lookup(key);
    if (cached) return { answer: cached, route, cached: true };
    const image = await request.image.bytes();

    const started = performance.now();
    let slotAt: number | undefined;
    const queued = () => ((slotAt ?? performance.now()) - started) / 1000;
    try {
      const answer = await route.guard.execute(
        (signal) => {
          slotAt ??= performance.now();
          return route.engine.run({ image, context: request.image, signal, options: request.options });
        },
        request.signal,
        request.deadlineAt,
        request.slotWaitMs,
      );
      this.observer.engineCall(route, 'ok', (performance.now() - started) / 1000, queued(), answer);
      await this.store(key, answer);
      return { answer, route, cached: false };
    } catch (error) {
      const code = asArgusError(error).code.toLowerCase();
      const seconds = (performance.now() - started) / 1000;
      this.observer.engineCall(route, code, seconds, queued(), undefined, usageOf(error));
      throw error;
    }
  }

  private async lookup(key: string): Promise<EngineAnswer | undefined> {
    if (!this.cache) return undefined;
    try {
      const value = await this.cache.get(key);
      const hit = isCachedAnswer(value);
      this.observer.cacheLookup(this.task, hit ? 'hit' : 'miss');
      return hit ? value : undefined;
    } catch {
      // A cache that is down costs a model call, never the request.
      this.observer.cacheLookup(this.task, 'error');
      return undefined;
    }
  }

  private async store(key: string, answer: EngineAnswer): Promise<void> {
    if (!this.cache) return;
    await this.cache.put(key, answer).catch(() => undefined);
  }

  private unavailableReason(route: TierRoute): string {
    if (route.guard.breakerState === 'open') return `the ${route.tier} tier's circuit breaker is open`;
    return `the ${route.tier} tier is unavailable (${this.availability.explain(route.tier)})`;
  }

  breakerStates(): Record<string, BreakerState> {
    return Object.fromEntries(this.routes.map((route) => [route.tier, route.guard.breakerState]));
  }
}

export function asArgusError(error: unknown): ArgusError {
  if (error instanceof ArgusError) return error;
  return new ArgusError('INTERNAL', 'the inference engine failed unexpectedly');
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
