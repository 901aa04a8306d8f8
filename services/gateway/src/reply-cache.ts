import {
  TASK_REPLY_SCHEMAS,
  replyCacheKey,
  workerFingerprintKey,
  workerFingerprintSchema,
  type Task,
  type TaskReply,
} from '@argus/contracts';
import type { ResultStore } from '@argus/messaging';
import type { AnalysisOptions } from './image-preparation';
import type { UploadDescription } from './upload-memo';

/** How long a task's worker fingerprint is trusted before it is read again: one KV read per task per interval. */
const FINGERPRINT_REFRESH_MS = 2_000;

export type ReplyCacheStore = Pick<ResultStore, 'get'>;
type OkReply = Extract<TaskReply, { status: 'ok' }>;

/**
 * The gateway's side of the reply cache (contracts: reply-cache.ts): a worker's final reply to an earlier request for
 * the same upload, routing and options, read straight from KV, so a repeat whose every task is cached never reaches a
 * worker. The key needs the workers' current fingerprint, read from KV at most every 2 s per task; no fingerprint (no
 * worker has started, or the cache is off) means no lookup.
 */
export class ReplyCache {
  private readonly fingerprints = new Map<Task, { value: Promise<string | undefined>; readAt: number }>();

  constructor(
    private readonly store: ReplyCacheStore,
    private readonly refreshMs = FINGERPRINT_REFRESH_MS,
  ) {}

  /** The reply kept for this request, or undefined on a miss, a cache error or an entry that breaks the contract. */
  async lookup(task: Task, image: UploadDescription, options: AnalysisOptions): Promise<OkReply | undefined> {
    try {
      const fingerprint = await this.fingerprint(task);
      if (fingerprint === undefined) return undefined;
      const value = await this.store.get(
        replyCacheKey({
          task,
          sha256: image.sha256,
          width: image.width,
          height: image.height,
          routing: options.routing,
          options: options.options,
          fingerprint,
        }),
      );
      if (value === undefined) return undefined;
      const parsed = TASK_REPLY_SCHEMAS[task].safeParse(value);
      return parsed.success && parsed.data.status === 'ok' ? parsed.data : undefined;
    } catch {
      // A cache that is down sends the request down the full path, never fails it.
      return undefined;
    }
  }

  private fingerprint(task: Task): Promise<string | undefined> {
    const known = this.fingerprints.get(task);
    const now = Date.now();
    if (known && now - known.readAt < this.refreshMs) return known.value;
    const value = this.store.get(workerFingerprintKey(task)).then(
      (entry) => {
        const parsed = workerFingerprintSchema.safeParse(entry);
        return parsed.success ? parsed.data.fingerprint : undefined;
      },
      () => undefined,
    );
    this.fingerprints.set(task, { value, readAt: now });
    return value;
  }
}
