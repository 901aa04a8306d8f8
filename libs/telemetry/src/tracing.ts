import {
  context,
  propagation,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Span,
} from '@opentelemetry/api';

export const TRACER_NAME = 'argus';
const INVALID_TRACE_ID = '00000000000000000000000000000000';

export function tracer() {
  return trace.getTracer(TRACER_NAME);
}

/** The trace id of the active span, or a zero id when tracing is not set up (unit tests). */
export function activeTraceId(): string {
  return trace.getActiveSpan()?.spanContext().traceId ?? INVALID_TRACE_ID;
}

/** Marks a moment on the active span (no-op without one), e.g. when a request got its tier slot. */
export function addSpanEvent(name: string, attributes?: Attributes): void {
  trace.getActiveSpan()?.addEvent(name, attributes);
}

export interface SpanOptions {
  kind?: SpanKind;
  attributes?: Attributes;
  parent?: Context;
}

/** Runs `work` inside a new active span; records exceptions and always ends the span. */
export async function inSpan<T>(
  name: string,
  options: SpanOptions,
  work: (span: Span) => Promise<T>,
): Promise<T> {
  const parent = options.parent ?? context.active();
  return tracer().startActiveSpan(
    name,
    { kind: options.kind ?? SpanKind.INTERNAL, attributes: options.attributes },
    parent,
    async (span) => {
      try {
        return await work(span);
      } catch (error) {
        span.recordException(error instanceof Error ? error : String(error));
        span.setStatus({
          code: SpanStatusCode.ERROR,
          message: error instanceof Error ? error.message : String(error),
        });
        throw error;
      } finally {
        span.end();
      }
    },
  );
}

/** Header accessors for any carrier with get/set, such as NATS MsgHdrs, which OTel's default getter cannot read. */
export interface HeaderCarrier {
  get(key: string): string;
  set(key: string, value: string): void;
  keys(): string[];
}

export function injectTraceHeaders(carrier: HeaderCarrier, ctx: Context = context.active()): void {
  propagation.inject(ctx, carrier, {
    set: (target, key, value) => {
      target.set(key, value);
    },
  });
}

export function extractTraceContext(carrier: HeaderCarrier | undefined): Context {
  if (!carrier) return context.active();
  return propagation.extract(context.active(), carrier, {
    get: (target, key) => target.get(key) || undefined,
    keys: (target) => target.keys(),
  });
}

export { SpanKind, SpanStatusCode, type Span };
