import type { DynamicModule } from '@nestjs/common';
import { trace } from '@opentelemetry/api';
import { LoggerModule } from 'nestjs-pino';
import { stdTimeFunctions, type LoggerOptions } from 'pino';
import type { Options as PinoHttpOptions } from 'pino-http';
import type { ArgusLogLevel } from './log-levels';
import { isProbePath } from './probe-paths';

/** Fields that may hold an image or a credential, wherever they appear in a logged object. */
const REDACTED_PATHS = [
  'imageBase64',
  '*.imageBase64',
  'body',
  '*.body',
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
];

/** The active span's ids on every line, so a log line leads to its trace and back. */
function traceFields(): Record<string, string> {
  const span = trace.getActiveSpan()?.spanContext();
  if (!span || !trace.isSpanContextValid(span)) return {};
  return { trace_id: span.traceId, span_id: span.spanId };
}

/** Bytes never reach a log line: a Buffer or typed array anywhere in the first two levels becomes its length. */
function withoutBytes(object: Record<string, unknown>): Record<string, unknown> {
  const scrub = (value: unknown, depth: number): unknown => {
    if (value instanceof Uint8Array) return `[${value.byteLength} bytes]`;
    // Only plain objects are walked: errors, requests and responses keep their own serializers.
    if (depth === 0 || !isPlainObject(value)) return value;
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, scrub(inner, depth - 1)]));
  };
  return scrub(object, 2) as Record<string, unknown>;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const prototype = Object.getPrototypeOf(value) as unknown;
  return prototype === Object.prototype || prototype === null;
}

/** pino's options for every Argus process: JSON, ISO time, level names, trace ids, no bodies, no bytes. */
export function pinoOptions(service: string, level: ArgusLogLevel): LoggerOptions {
  return {
    level,
    base: { service },
    timestamp: stdTimeFunctions.isoTime,
    formatters: {
      level: (label) => ({ level: label }),
      log: withoutBytes,
    },
    mixin: traceFields,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
  };
}

/** pino-http on top: one line per request (probes and scrapes excepted), with its method, route, status and time. */
export function httpLoggingOptions(service: string, level: ArgusLogLevel): PinoHttpOptions {
  return {
    ...pinoOptions(service, level),
    autoLogging: { ignore: (request) => isProbePath(request.url) },
    customLogLevel: (_request, response, error) =>
      error || response.statusCode >= 500 ? 'error' : response.statusCode >= 400 ? 'warn' : 'info',
  };
}

/** The Nest module that makes pino the logger of a service; pair it with `app.useLogger(app.get(Logger))`. */
export function loggingModule(service: string, level: ArgusLogLevel): DynamicModule {
  return LoggerModule.forRoot({ pinoHttp: httpLoggingOptions(service, level) });
}

export { Logger as PinoNestLogger } from 'nestjs-pino';
