export const WORKER_CONFIG = Symbol('WORKER_CONFIG');
export const TASK_ROUTER = Symbol('TASK_ROUTER');
/** The task as this worker runs it (TaskRuntime, from the task's definition). */
export const TASK_RUNTIME = Symbol('TASK_RUNTIME');
