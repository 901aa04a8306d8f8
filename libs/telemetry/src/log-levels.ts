import type { LogLevel } from '@nestjs/common';

export type ArgusLogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

/** Maps the LOG_LEVEL variable onto the set of levels Nest's logger should print. */
export function nestLogLevels(level: ArgusLogLevel): LogLevel[] {
  const order: LogLevel[] = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'];
  const cut = { fatal: 1, error: 2, warn: 3, info: 4, debug: 5, trace: 6 }[level];
  return order.slice(0, cut);
}
