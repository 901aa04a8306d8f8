export const WORKER_CONFIG = Symbol('WORKER_CONFIG');
export const NATS_CONNECTION = Symbol('NATS_CONNECTION');
