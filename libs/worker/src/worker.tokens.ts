export const WORKER_CONFIG = Symbol('WORKER_CONFIG');
export const TASK_ROUTER = Symbol('TASK_ROUTER');
export const TASK_POSTPROCESSOR = Symbol('TASK_POSTPROCESSOR');
