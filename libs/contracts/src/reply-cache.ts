import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { Task } from './tasks';
import type { RoutingOptions } from './tiers';
import { taskOptionsSchema, type TaskOptions } from './task-options.schema';

/**
 * The reply cache: a worker's final reply to a task request, kept in the result-cache bucket under a key the gateway
 * can compute without a worker, so a repeated upload whose every task is cached is answered with one KV read per
 * task and no round trip to a worker. Both sides derive the key here, so they cannot drift apart.
 */

/**
 * Where each task's workers publish what their answers depend on besides the request (models, prompts, thresholds,
 * policy and profile files, code version). A change of any of them changes every reply key of the task.
 */
export function workerFingerprintKey(task: Task): string {
  return `fingerprint.${task}`;
}

export const workerFingerprintSchema = z.object({
  fingerprint: z.string().min(1),
  /** When it was written (ms since the epoch); the entry is rewritten well inside the bucket's TTL. */
  publishedAt: z.number(),
});
export type WorkerFingerprint = z.infer<typeof workerFingerprintSchema>;

export interface ReplyKeyParts {
  task: Task;
  /** The upload's sha256 as sent, before normalising. */
  sha256: string;
  /** The normalised image's size, which the gateway's limits decide and the engines see. */
  width: number;
  height: number;
  routing: RoutingOptions;
  /** Every task's options as the request carries them; only `options[task]` is part of the key. */
  options: TaskOptions;
  fingerprint: string;
}

/** JSON with object keys sorted at every depth, so two equal option objects give one key whatever their key order. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, nested: unknown) =>
    nested !== null && typeof nested === 'object' && !Array.isArray(nested)
      ? Object.fromEntries(
          Object.entries(nested as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
        )
      : nested,
  );
}

const REPLY_KEY_PREFIX = 'reply';

/** `reply.<task>.<sha256>.<digest>`: KV keys allow only [-/_=.a-zA-Z0-9], hence the hex digest of the rest. */
export function replyCacheKey(parts: ReplyKeyParts): string {
  const variant = createHash('sha256')
    .update(
      canonicalJson([
        parts.fingerprint,
        parts.width,
        parts.height,
        parts.routing.tier,
        parts.routing.fallback,
        // Through the contract, so the gateway's options (as read from the request) and the worker's (as parsed from
        // the task message, defaults applied) give one key.
        (taskOptionsSchema.parse(parts.options) as Partial<Record<Task, unknown>>)[parts.task] ?? null,
      ]),
    )
    .digest('hex')
    .slice(0, 32);
  return `${REPLY_KEY_PREFIX}.${parts.task}.${parts.sha256}.${variant}`;
}

/** A KV key filter for every reply kept for one upload (of one task, or of all): for tools and tests. */
export function replyCacheKeyFilter(sha256: string, task: Task | '*' = '*'): string {
  return `${REPLY_KEY_PREFIX}.${task}.${sha256}.*`;
}
