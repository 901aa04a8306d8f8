export * from './tasks';
export * from './tiers';
export * from './error-codes';
export * from './image.schema';
export * from './task-results.schema';
export * from './task-messages.schema';
export * from './analyze.schema';
export * from './json-schema';
