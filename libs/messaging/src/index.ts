export * from './nats-connection';
export * from './nats-headers';
export * from './messaging-error';
export * from './task-client';
export * from './image-store';
export * from './worker-transport';
export * from './nats-connection.provider';
export * from './result-store';
