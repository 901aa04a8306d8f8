import type {
  JobCounts,
  JobItemError,
  JobItemStatus,
  JobMeta,
  JobStatus,
  JobStatusQuery,
  JobSummary,
  JobUnitResult,
  JobUnitState,
  Task,
} from '@argus/contracts';

type ItemState = JobItemStatus['status'];

/** An item is pending until every task ended; then it takes its worst task's state. */
export function itemState(states: ReadonlyArray<JobUnitState | undefined>): ItemState {
  if (states.some((state) => state === undefined)) return 'pending';
  for (const worst of ['dead', 'failed', 'cancelled'] as const) {
    if (states.includes(worst)) return worst;
  }
  return 'done';
}

type JobProgress = Pick<JobStatus, 'status' | 'counts' | 'percent'> & { itemStates: ItemState[] };

/**
 * The job's progress from its metadata and its results (keyed `<itemId>.<task>`): its state, counts by item, the
 * percentage of item × task units that ended, and each item's state (in `meta.itemIds` order).
 */
function jobProgress(meta: JobMeta, results: ReadonlyMap<string, JobUnitResult>): JobProgress {
  const counts: JobCounts = {
    total: meta.itemIds.length,
    done: 0,
    failed: 0,
    dead: 0,
    cancelled: 0,
    pending: 0,
  };
  const units = meta.itemIds.length * meta.tasks.length;
  let ended = 0;
  const states = meta.itemIds.map((id) => {
    const unitStates = meta.tasks.map((task) => results.get(`${id}.${task}`)?.state);
    ended += unitStates.filter((state) => state !== undefined).length;
    const state = itemState(unitStates);
    counts[state] += 1;
    return state;
  });
  const status = meta.cancelledAt
    ? 'cancelled'
    : ended === units
      ? 'completed'
      : ended === 0
        ? 'queued'
        : 'running';
  const percent = units === 0 ? 100 : Math.floor((ended / units) * 1000) / 10;
  return { status, counts, percent, itemStates: states };
}

/** What the list and the status of a job share: its identity, progress and the caller's settings. */
function jobHeading(
  meta: JobMeta,
  { status, counts, percent }: Pick<JobProgress, 'status' | 'counts' | 'percent'>,
) {
  return {
    jobId: meta.jobId,
    status,
    createdAt: meta.createdAt,
    tasks: meta.tasks,
    counts,
    percent,
    ...(meta.callbackUrl ? { callbackUrl: meta.callbackUrl } : {}),
    ...(meta.cancelledAt ? { cancelledAt: meta.cancelledAt } : {}),
  };
}

/** A job as GET /v1/jobs lists it: the progress GET /v1/jobs/:id reports, without the items. */
export function summariseJobListing(meta: JobMeta, results: ReadonlyMap<string, JobUnitResult>): JobSummary {
  return { ...jobHeading(meta, jobProgress(meta, results)), itemCount: meta.itemIds.length };
}

/**
 * The job's status from its metadata and its results (keyed `<itemId>.<task>`): its progress (jobProgress) and one
 * page of items with their replies and errors.
 */
export function summariseJob(
  meta: JobMeta,
  results: ReadonlyMap<string, JobUnitResult>,
  query: JobStatusQuery,
): JobStatus {
  const progress = jobProgress(meta, results);
  const states = progress.itemStates;
  const start = (query.page - 1) * query.pageSize;
  const items = meta.itemIds.slice(start, start + query.pageSize).map((id, offset) => {
    const results_: Partial<Record<Task, unknown>> = {};
    const errors: JobItemError[] = [];
    let review: JobItemStatus['review'];
    for (const task of meta.tasks) {
      const result = results.get(`${id}.${task}`);
      if (!result) continue;
      if (result.review) review = result.review;
      if (result.reply !== undefined) results_[task] = result.reply;
      if ((result.state === 'failed' || result.state === 'dead') && result.error) {
        errors.push({ task, state: result.state, ...result.error });
      }
    }
    return {
      id,
      status: states[start + offset] ?? 'pending',
      results: results_,
      errors,
      ...(review ? { review } : {}),
    };
  });
  return {
    ...jobHeading(meta, progress),
    items,
    page: { number: query.page, size: query.pageSize, totalItems: meta.itemIds.length },
  };
}
