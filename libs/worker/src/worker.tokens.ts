export const WORKER_CONFIG = Symbol('WORKER_CONFIG');
export const TASK_ROUTER = Symbol('TASK_ROUTER');
/** The task as this worker runs it (TaskRuntime, from the task's definition). */
export const TASK_RUNTIME = Symbol('TASK_RUNTIME');
/** The reply cache's writer (ReplyCacheWriter); absent when ARGUS_CACHE_TTL_SECONDS is 0. */
export const REPLY_CACHE = Symbol('REPLY_CACHE');
