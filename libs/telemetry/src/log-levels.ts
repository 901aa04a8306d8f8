/** LOG_LEVEL values; pino's level names. */
export type ArgusLogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';
