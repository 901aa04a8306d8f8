export * from './metric-names';
export * from './argus-metrics';
export * from './tracing';
export * from './metrics.controller';
export * from './probes.controller';
export * from './log-levels';
export * from './logging';
export { isProbePath } from './probe-paths';
