export * from './metric-names';
export * from './argus-metrics';
export * from './tracing';
export * from './metrics.controller';
