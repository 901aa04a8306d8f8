#!/usr/bin/env node
// `npm start`: installs what is missing, builds if needed, runs the whole stack until Ctrl-C or SIGTERM.
import { checkNode, ensureBuild, ensureDependencies, ensureNatsServer, fail, log } from './setup.mjs';

checkNode();
ensureDependencies();
const natsServerPath = process.env.NATS_URL ? undefined : ensureNatsServer();
ensureBuild();

const { startStack } = await import('./stack.mjs');

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

const workerLines = Object.entries(stack.workerUrls)
  .map(([name, url]) => `    ${name.padEnd(16)} ${url}/metrics   ${url}/readyz`)
  .join('\n');
process.stdout.write(`
  Argus is up.
    gateway          ${stack.gatewayUrl}   (${readiness})
    NATS             ${stack.natsUrl}
  worker metrics and readiness:
${workerLines}

  Try it:
    curl -F image=@photo.jpg ${stack.gatewayUrl}/v1/analyze
    curl -F image=@photo.jpg -F tasks=moderation,ocr ${stack.gatewayUrl}/v1/analyze

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
stack.onUnexpectedExit((name) => {
  log(`${name} died; stopping the stack so nothing half-works.`);
  void shutdown(1);
});
