import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import multipart from '@fastify/multipart';
import { ConfigError, loadListingProfiles, loadModerationPolicies, type GatewayConfig } from '@argus/config';
import { ArgusError } from '@argus/contracts';
import { connectNats, JobQueue, JobStore, watchConnection } from '@argus/messaging';
import { ArgusMetrics, PinoNestLogger } from '@argus/telemetry';
import { AccessControl } from './access-control';
import { GatewayModule } from './gateway.module';
import { sendProblem } from './problem.filter';

/** Room for the multipart envelope and JSON around the image itself. */
const ENVELOPE_BYTES = 64 * 1024;

export async function createGatewayApp(config: GatewayConfig): Promise<NestFastifyApplication> {
  const connection = await connectNats({
    servers: config.natsServers,
    name: 'argus-gateway',
    security: config.natsSecurity,
  });
  const metrics = new ArgusMetrics('gateway');
  watchConnection(connection, metrics.natsObserver());
  const base64Bytes = Math.ceil((config.limits.maxBytes * 4) / 3) + ENVELOPE_BYTES;
  const { uploadTimeoutMs } = config;
  const adapter = new FastifyAdapter({
    bodyLimit: base64Bytes,
    requestTimeout: uploadTimeoutMs,
    // Slow uploads (slowloris) are cut off by Node's HTTP server, which (1) stops checking a request's body against
    // requestTimeout when headersTimeout is longer (its default is 60 s, and Fastify sets requestTimeout only after
    // Node has checked that pair), and (2) checks only when it sweeps its connections, every 30 s by default.
    http: {
      requestTimeout: uploadTimeoutMs,
      headersTimeout: Math.min(60_000, uploadTimeoutMs),
      connectionsCheckingInterval: 1_000,
    },
  });
  const policies = loadModerationPolicies();
  for (const key of config.auth.keys) {
    if (key.policy !== undefined && policies.get(key.policy) === undefined) {
      throw new ConfigError(
        `API key ${key.id} names policy "${key.policy}", which is not one of ${policies.names.join(', ')}`,
      );
    }
  }
  const app = await NestFactory.create<NestFastifyApplication>(
    GatewayModule.register(config, connection, metrics, loadListingProfiles(), policies),
    adapter,
    { bufferLogs: true },
  );
  app.useLogger(app.get(PinoNestLogger));
  const fastify = app.getHttpAdapter().getInstance();
  const access = new AccessControl(config.auth);
  const accessLogger = new Logger('AccessControl');
  if (!access.enabled) {
    accessLogger.warn('no API keys configured (ARGUS_API_KEYS): the API is open to anyone who can reach it');
  }
  fastify.decorateRequest('argusCaller', undefined);
  // Before the body is read: an unknown caller costs no upload, no parse and no NATS round trip.
  fastify.addHook('onRequest', async (request, reply) => {
    try {
      const admission = await access.admit(request.headers, request.url);
      request.argusCaller = admission.caller;
      void reply.headers(admission.headers);
    } catch (error) {
      await sendProblem(reply, error, request.url.split('?')[0] ?? request.url, accessLogger);
      return reply;
    }
    return undefined;
  });

  await app.register(multipart, {
    limits: { fileSize: config.limits.maxBytes, files: 1, fields: 16, fieldSize: 64 * 1024, parts: 24 },
    throwFileSizeLimit: true,
  });
  // Fastify parses text/plain by default, as a UTF-8 string: a binary body then fails its Content-Length check (400)
  // and a text one reaches the handler, only to be refused there. No route takes text, so refuse it up front (415).
  fastify.removeContentTypeParser('text/plain');
  for (const type of ['application/octet-stream', /^image\/[\w.+-]+$/]) {
    fastify.addContentTypeParser(
      type,
      { parseAs: 'buffer', bodyLimit: config.limits.maxBytes },
      (_request, body, done) => {
        done(null, body);
      },
    );
  }
  // Fastify closes the connection when it refuses a body it has not read (413 on Content-Length), and the client, still
  // uploading, may then get a reset (EPIPE) instead of the answer. Keeping the connection lets Node read and discard
  // the rest, as nginx's lingering close does, so the client gets the problem+json; the upload timeout still bounds it.
  fastify.addHook('onSend', (request, reply, payload, done) => {
    if (!request.raw.complete && reply.getHeader('connection') === 'close') reply.removeHeader('connection');
    done(null, payload);
  });
  fastify.addHook('onResponse', (request, reply, done) => {
    metrics.gatewayRequestDuration.observe(
      { route: request.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
    done();
  });
  // While NATS is down nothing can be stored or dispatched: refuse analysis at once, retryably, rather than let the
  // upload wait out JetStream's timeout (docs/faults.md).
  const nats = { up: true };
  watchConnection(connection, {
    connectionChanged: (up) => (nats.up = up),
    reconnected: () => undefined,
  });
  fastify.addHook('onRequest', async (request, reply) => {
    if (nats.up || !request.url.startsWith('/v1/analyze')) return undefined;
    const outage = new ArgusError('SERVICE_UNAVAILABLE', 'the gateway has lost NATS and is reconnecting');
    await sendProblem(reply, outage, '/v1/analyze', accessLogger);
    return reply;
  });
  // No app.enableShutdownHooks(): main.ts stops listening and lets requests in flight finish before it closes the app.
  // The job streams, consumers and buckets exist before the first POST /v1/jobs can publish to them.
  await Promise.all([app.get(JobQueue).ensure(), app.get(JobStore).check()]);
  await app.listen(config.port, config.host);
  return app;
}
