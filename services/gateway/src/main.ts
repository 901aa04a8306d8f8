import type { Server } from 'node:http';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { loadGatewayConfig } from '@argus/config';
import { createGatewayApp } from './gateway.app';

/** Beyond the request deadline, what closing the job pullers and draining NATS may take before the exit is forced. */
const SHUTDOWN_SLACK_MS = 10_000;
/** How often a draining server closes the keep-alive connections that went idle since. */
const IDLE_SWEEP_MS = 100;

/** Stops accepting connections now; resolves once every connection has ended, closing each as soon as it is idle. */
function stopListening(server: Server): Promise<void> {
  return new Promise((resolve) => {
    // Node closes the connections idle at this moment only; a keep-alive connection whose response is still being
    // produced would otherwise stay open until its client or Fastify's 72 s keep-alive timeout closes it.
    const sweep = setInterval(() => {
      server.closeIdleConnections();
    }, IDLE_SWEEP_MS);
    server.close(() => {
      clearInterval(sweep);
      resolve();
    });
  });
}

/**
 * Graceful shutdown on SIGTERM/SIGINT, in the order a load balancer and the clients need it:
 * 1. stop listening at once (new connections are refused, so traffic moves to other replicas);
 * 2. let every request in flight finish, with NATS still connected so their replies arrive;
 * 3. close the app: job pullers stop, Fastify closes, the NATS connection drains; then exit 0.
 * Nest's own shutdown hooks would keep accepting connections while the job pullers stop, and close NATS right after
 * Fastify. Every request ends by its deadline, so a shutdown longer than that (plus slack) is stuck: exit 1.
 */
function shutDownGracefully(app: NestFastifyApplication, requestTimeoutMs: number): void {
  let stopping = false;
  const stop = async (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    const limitMs = requestTimeoutMs + SHUTDOWN_SLACK_MS;
    setTimeout(() => {
      process.stderr.write(`gateway: shutdown still not done after ${limitMs} ms; exiting\n`);
      process.exit(1);
    }, limitMs).unref();
    process.stdout.write(`gateway: ${signal}; finishing the requests in flight\n`);
    await stopListening(app.getHttpServer());
    await app.close();
    process.exit(0);
  };
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      stop(signal).catch((error: unknown) => {
        process.stderr.write(
          `gateway: shutdown failed: ${error instanceof Error ? error.message : String(error)}\n`,
        );
        process.exit(1);
      });
    });
  }
}

async function main(): Promise<void> {
  const config = loadGatewayConfig();
  const app = await createGatewayApp(config);
  shutDownGracefully(app, config.requestTimeoutMs);
  const url = await app.getUrl();
  process.stdout.write(`gateway ready: ${url.replace('[::1]', 'localhost')}/v1/analyze\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `gateway failed to start: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
