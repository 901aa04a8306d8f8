export * from './bootstrap-worker';
export * from './task-pipeline.service';
export * from './worker-health.service';
export * from './worker-inference';
export * from './worker-metrics.observer';
export * from './worker.module';
export * from './worker.tokens';
export * from './task-postprocessor';
