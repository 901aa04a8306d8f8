import { Writable } from 'node:stream';
import { context, trace, TraceFlags } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import pino from 'pino';
import { httpLoggingOptions, pinoOptions } from './logging';

function capture(options = pinoOptions('ocr', 'info')) {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean))
        lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino(options, sink), lines };
}

describe('structured logs', () => {
  const contextManager = new AsyncLocalStorageContextManager();
  beforeAll(() => context.setGlobalContextManager(contextManager.enable()));
  afterAll(() => {
    contextManager.disable();
    context.disable();
  });

  it('writes JSON with the service, a level name, ISO time, and the active trace and span ids', () => {
    const { logger, lines } = capture();
    const span = trace.wrapSpanContext({
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
      traceFlags: TraceFlags.SAMPLED,
    });
    context.with(trace.setSpan(context.active(), span), () => {
      logger.info('routed');
    });
    logger.info('outside');
    expect(lines[0]).toMatchObject({
      level: 'info',
      service: 'ocr',
      msg: 'routed',
      trace_id: '4bf92f3577b34da6a3ce929d0e0e4736',
      span_id: '00f067aa0ba902b7',
    });
    expect(lines[0]?.time).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(lines[1]).not.toHaveProperty('trace_id');
  });

  it('never writes image bytes, base64 images or bodies', () => {
    const { logger, lines } = capture();
    logger.info({ image: Buffer.alloc(2048, 1), nested: { data: new Uint8Array(10) } }, 'stored');
    logger.warn({ imageBase64: 'aGVsbG8=', request: { imageBase64: 'aGVsbG8=', body: 'x' } }, 'rejected');
    expect(lines[0]).toMatchObject({ image: '[2048 bytes]', nested: { data: '[10 bytes]' } });
    expect(JSON.stringify(lines[1])).not.toContain('aGVsbG8=');
    expect(lines[1]).toMatchObject({ imageBase64: '[redacted]', request: { body: '[redacted]' } });
  });

  it('honours the level from the environment', () => {
    const { logger, lines } = capture(pinoOptions('gateway', 'warn'));
    logger.info('hidden');
    logger.warn('shown');
    expect(lines.map((line) => line.msg)).toEqual(['shown']);
  });

  it('leaves probes and scrapes out of the request log, and logs 5xx as errors', () => {
    const options = httpLoggingOptions('gateway', 'info');
    const ignore = (options.autoLogging as { ignore: (request: { url?: string }) => boolean }).ignore;
    expect(ignore({ url: '/metrics' })).toBe(true);
    expect(ignore({ url: '/readyz?verbose=1' })).toBe(true);
    expect(ignore({ url: '/v1/analyze' })).toBe(false);
    const level = options.customLogLevel as (
      request: unknown,
      response: { statusCode: number },
      error?: Error,
    ) => string;
    expect(level({}, { statusCode: 200 })).toBe('info');
    expect(level({}, { statusCode: 422 })).toBe('warn');
    expect(level({}, { statusCode: 503 })).toBe('error');
  });
});

describe('structured logs of errors', () => {
  it('keeps an error message and stack, while still turning bytes next to it into a length', () => {
    const { logger, lines } = capture();
    logger.error({ err: new Error('tesseract died'), frame: Buffer.alloc(4) }, 'failed');
    expect(lines[0]).toMatchObject({ frame: '[4 bytes]', err: { message: 'tesseract died', type: 'Error' } });
    expect(JSON.stringify(lines[0])).toContain('at ');
  });
});
