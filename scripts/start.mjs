#!/usr/bin/env node
// `npm start`: installs what is missing, builds if needed, runs the whole stack until Ctrl-C or SIGTERM. A process
// that dies meanwhile is restarted with backoff (scripts/stack.mjs), as Kubernetes would restart its container.
import { checkNode, ensureBuild, ensureDependencies, ensureNatsServer, fail, log } from './setup.mjs';
import { parseReplicas, RESTART_BACKOFF, startStack } from './stack.mjs';

checkNode();
// Settings are checked before anything is installed or built, so a typo fails in a second.
try {
  parseReplicas(process.env.ARGUS_REPLICAS);
} catch (error) {
  fail(error instanceof Error ? error.message : String(error));
}
ensureDependencies();
const natsServerPath = process.env.NATS_URL ? undefined : ensureNatsServer();
ensureBuild();

let stack;
try {
  stack = await startStack({ natsServerPath });
} catch (error) {
  fail(error instanceof Error ? error.message : String(error));
}

let readiness = 'unknown';
try {
  const response = await fetch(`${stack.gatewayUrl}/readyz`, { signal: AbortSignal.timeout(5_000) });
  const body = await response.json();
  readiness = response.ok
    ? 'ready'
    : `not ready: ${Object.entries(body.checks ?? {})
        .filter(([, check]) => !check.ok)
        .map(([name, check]) => `${name} (${check.detail})`)
        .join('; ')}`;
} catch (error) {
  readiness = `readiness check failed: ${error instanceof Error ? error.message : String(error)}`;
}

// One line per worker process; with one replica each the names are the service names, as they always were.
const nameWidth = Math.max(16, ...stack.workers.map(({ name }) => name.length));
const workerLines = stack.workers
  .map(({ name, url }) => `    ${name.padEnd(nameWidth)} ${url}/metrics   ${url}/readyz`)
  .join('\n');
const replicas =
  stack.replicas === 1 ? '' : ` (${stack.replicas} replicas each, one NATS queue group per worker)`;
const seconds = (ms) => `${ms / 1000} s`;
process.stdout.write(`
  Argus is up.
    gateway          ${stack.gatewayUrl}   (${readiness})
    NATS             ${stack.natsUrl}
  worker metrics and readiness${replicas}:
${workerLines}

  Try it:
    curl -F image=@photo.jpg ${stack.gatewayUrl}/v1/analyze
    curl -F image=@photo.jpg -F tasks=moderation,ocr ${stack.gatewayUrl}/v1/analyze

  A process that dies is restarted (backoff ${seconds(RESTART_BACKOFF.initialMs)} doubling to ${seconds(RESTART_BACKOFF.maxMs)}).
  Ctrl-C stops everything.
`);

let shuttingDown = false;
const shutdown = async (code) => {
  if (shuttingDown) return;
  shuttingDown = true;
  log('stopping…');
  await stack.stop();
  log('stopped.');
  process.exit(code);
};
process.on('SIGINT', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));
