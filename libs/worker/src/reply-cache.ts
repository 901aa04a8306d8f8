import { createHash } from 'node:crypto';
import {
  replyCacheKey,
  workerFingerprintKey,
  type Task,
  type TaskReply,
  type TaskRequest,
  type WorkerFingerprint,
} from '@argus/contracts';
import type { CacheStore, TierRoute } from '@argus/inference';

/**
 * What this worker's answers depend on besides the request: the code's version, every tier's engine (model, prompt,
 * input size, format), the thresholds that decide a cascade, and the files the task loaded. Two workers with the same
 * fingerprint give the same reply to the same request while their tiers are healthy.
 */
export function workerFingerprint(
  version: string,
  routes: ReadonlyArray<
    Pick<TierRoute, 'tier' | 'confidenceThreshold'> & { engine: { fingerprint: string } }
  >,
  configDigest = '',
): string {
  return createHash('sha256')
    .update(
      JSON.stringify([
        version,
        routes.map((route) => [route.tier, route.engine.fingerprint, route.confidenceThreshold]),
        configDigest,
      ]),
    )
    .digest('hex')
    .slice(0, 32);
}

/**
 * The worker's side of the reply cache (contracts: reply-cache.ts). It publishes the worker's fingerprint, and keeps
 * each final reply that a healthy deployment would give again under the key the gateway computes, so the gateway can
 * answer a repeated upload with no worker at all. Writes never hold up or fail a reply.
 */
export class ReplyCacheWriter {
  constructor(
    private readonly task: Task,
    private readonly store: CacheStore,
    readonly fingerprint: string,
  ) {}

  /** Rewritten on a timer well inside the bucket's TTL, so the entry never expires while the worker runs. */
  async publish(now = Date.now()): Promise<void> {
    const entry: WorkerFingerprint = { fingerprint: this.fingerprint, publishedAt: now };
    await this.store.put(workerFingerprintKey(this.task), entry);
  }

  /**
   * Only an ok reply reached with every tier it could use healthy: a reply made while a tier was down, or after one
   * failed, is an answer for now and not the deployment's answer for the image.
   */
  remember(request: TaskRequest, reply: TaskReply, degraded: boolean): Promise<void> {
    if (reply.status !== 'ok' || degraded) return Promise.resolve();
    const key = replyCacheKey({
      task: this.task,
      sha256: request.image.sha256,
      width: request.image.width,
      height: request.image.height,
      routing: request.routing,
      options: request.options,
      fingerprint: this.fingerprint,
    });
    // `cached` and `durationMs` belong to one delivery of the reply; the gateway sets its own when it serves it.
    return this.store.put(key, { ...reply, cached: false }).catch(() => undefined);
  }
}
