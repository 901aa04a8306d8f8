export const WORKER_CONFIG = Symbol('WORKER_CONFIG');
export const TASK_ROUTER = Symbol('TASK_ROUTER');
