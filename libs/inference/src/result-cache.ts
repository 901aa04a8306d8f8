import { createHash } from 'node:crypto';
import type { Task, TierName } from '@argus/contracts';
import type { EngineAnswer } from './task-engine';

/** Where cached answers live (JetStream KV in production); kept abstract so the router never imports NATS. */
export interface CacheStore {
  get(key: string): Promise<unknown>;
  put(key: string, value: unknown): Promise<void>;
}

export interface CacheKeyParts {
  task: Task;
  tier: TierName;
  sha256: string;
  width: number;
  height: number;
  engineFingerprint: string;
}

/**
 * Key: task + tier + image sha256 + a hash of everything else that changes the answer (model, prompt version, input
 * size, options, the stored image's size). KV keys allow only [-/_=.a-zA-Z0-9], hence the hex digest.
 */
export function cacheKey(parts: CacheKeyParts): string {
  const variant = createHash('sha256')
    .update(`${parts.engineFingerprint}|${parts.width}x${parts.height}`)
    .digest('hex')
    .slice(0, 16);
  return `${parts.task}.${parts.tier}.${parts.sha256}.${variant}`;
}

export function isCachedAnswer(value: unknown): value is EngineAnswer {
  return (
    typeof value === 'object' &&
    value !== null &&
    'result' in value &&
    'needsGpuTier' in value &&
    Array.isArray((value as { needsGpuTier: unknown }).needsGpuTier)
  );
}

/** A short digest of a task's options for its cache-key fingerprint ('' when there are none). */
export function optionsDigest(options: object): string {
  const defined = Object.entries(options).filter(([, value]) => value !== undefined);
  if (defined.length === 0) return '';
  return createHash('sha256')
    .update(JSON.stringify(Object.fromEntries(defined)))
    .digest('hex')
    .slice(0, 16);
}
