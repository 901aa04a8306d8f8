/**
 * Preloaded with `node --require` before any other module, so the HTTP and undici (fetch) instrumentations patch
 * their targets before Nest, Fastify or the Ollama client load them.
 *
 * Exporting is opt-in: with OTEL_EXPORTER_OTLP_ENDPOINT set spans go to that collector over OTLP/HTTP; without it
 * spans are still created (trace ids flow through NATS and into Ollama's traceparent) but nothing is exported.
 */
import { NodeSDK } from '@opentelemetry/sdk-node';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { BatchSpanProcessor, NoopSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import { isProbePath } from './probe-paths';

function spanProcessors(): SpanProcessor[] {
  // The SDK installs no tracer provider at all without a processor, and then every trace id would be zero.
  if (!process.env.OTEL_EXPORTER_OTLP_ENDPOINT && !process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT)
    return [new NoopSpanProcessor()];
  return [new BatchSpanProcessor(new OTLPTraceExporter())];
}

const sdk = new NodeSDK({
  resource: resourceFromAttributes({
    [ATTR_SERVICE_NAME]: process.env.OTEL_SERVICE_NAME ?? process.env.ARGUS_SERVICE ?? 'argus',
    [ATTR_SERVICE_VERSION]: process.env.npm_package_version ?? '0.1.0',
  }),
  spanProcessors: spanProcessors(),
  instrumentations: [
    new HttpInstrumentation({
      ignoreIncomingRequestHook: (request) => isProbePath(request.url),
    }),
    new UndiciInstrumentation(),
  ],
});

sdk.start();

const shutdown = () => {
  sdk.shutdown().catch(() => undefined);
};
process.once('beforeExit', shutdown);
