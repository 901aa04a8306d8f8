// Starts and stops the local stack: a JetStream nats-server (unless NATS_URL is given) and the four services as
// separate processes. `npm start` and the e2e tests both go through here, so tests start exactly what users start.
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { join } from 'node:path';
import { ROOT } from './setup.mjs';

export const SERVICES = [
  { name: 'gateway', portVar: 'PORT', defaultPort: 8080 },
  { name: 'moderation', portVar: 'ARGUS_MODERATION_PORT', defaultPort: 9101 },
  { name: 'product-tagging', portVar: 'ARGUS_TAGGING_PORT', defaultPort: 9102 },
  { name: 'ocr', portVar: 'ARGUS_OCR_PORT', defaultPort: 9103 },
];

const PRELOAD = join(ROOT, 'dist', 'libs', 'telemetry', 'src', 'otel.preload.js');
const entry = (service) => join(ROOT, 'dist', 'services', service, 'src', 'main.js');

export function portIsFree(port, host = '127.0.0.1') {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

function canConnect(port, host = '127.0.0.1') {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function waitFor(check, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
  throw new Error(`${what} did not come up within ${timeoutMs / 1000} s`);
}

function prefixOutput(child, name, sink) {
  for (const stream of [child.stdout, child.stderr]) {
    let pending = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk) => {
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop();
      for (const line of lines) sink(`[${name}] ${line}\n`);
    });
  }
}

/**
 * @param {{ env?: NodeJS.ProcessEnv, natsServerPath?: string, output?: (line: string) => void }} options
 */
export async function startStack(options = {}) {
  const env = { ...process.env, ...options.env };
  const output = options.output ?? ((line) => process.stdout.write(line));
  const children = [];
  let stopping = false;
  const onUnexpectedExit = [];

  const track = (name, child) => {
    children.push({ name, child });
    prefixOutput(child, name, output);
    child.once('exit', (code, signal) => {
      if (stopping) return;
      output(`[argus] ${name} exited unexpectedly (${signal ?? `code ${code}`})\n`);
      for (const listener of onUnexpectedExit) listener(name);
    });
  };

  let natsUrl = env.NATS_URL;
  if (!natsUrl) {
    const natsPort = Number(env.ARGUS_NATS_PORT ?? 4222);
    if (!(await portIsFree(natsPort))) {
      throw new Error(
        `port ${natsPort} is taken; set ARGUS_NATS_PORT to another port, or NATS_URL to use a running NATS`,
      );
    }
    const storeDir = env.ARGUS_NATS_STORE_DIR ?? join(ROOT, '.argus', `nats-${natsPort}`);
    mkdirSync(storeDir, { recursive: true });
    const nats = spawn(
      options.natsServerPath ?? 'nats-server',
      ['-a', '127.0.0.1', '-p', String(natsPort), '-js', '-sd', storeDir],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    track('nats', nats);
    await waitFor(() => canConnect(natsPort), 15_000, `nats-server on port ${natsPort}`);
    natsUrl = `nats://127.0.0.1:${natsPort}`;
  }

  const host = env.HOST ?? '127.0.0.1';
  const ports = Object.fromEntries(SERVICES.map((s) => [s.name, Number(env[s.portVar] ?? s.defaultPort)]));
  for (const service of SERVICES) {
    if (!(await portIsFree(ports[service.name], host))) {
      await stopChildren(children);
      throw new Error(
        `port ${ports[service.name]} for ${service.name} is taken; set ${service.portVar} to another port`,
      );
    }
  }
  for (const service of SERVICES) {
    const serviceEnv = {
      ...env,
      NATS_URL: natsUrl,
      HOST: host,
      ARGUS_SERVICE: `argus-${service.name}`,
      OTEL_SERVICE_NAME: env.OTEL_SERVICE_NAME ?? `argus-${service.name}`,
      ...(service.name === 'gateway'
        ? { PORT: String(ports.gateway) }
        : { HTTP_PORT: String(ports[service.name]) }),
    };
    const child = spawn(
      process.execPath,
      ['--enable-source-maps', '--require', PRELOAD, entry(service.name)],
      {
        env: serviceEnv,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    track(service.name, child);
  }

  const probeHost = host === '0.0.0.0' ? '127.0.0.1' : host;
  try {
    await Promise.all(
      SERVICES.map((s) =>
        waitFor(() => canConnect(ports[s.name], probeHost), 60_000, `${s.name} on port ${ports[s.name]}`),
      ),
    );
  } catch (error) {
    stopping = true;
    await stopChildren(children);
    throw error;
  }

  // The CPU engines load before a worker subscribes (nsfwjs takes seconds); wait, bounded, until the gateway says
  // every worker is ready, so the first request a user sends is not a cold one.
  const gatewayUrl = `http://${probeHost}:${ports.gateway}`;
  await waitFor(
    async () => {
      try {
        return (await fetch(`${gatewayUrl}/readyz`, { signal: AbortSignal.timeout(3_000) })).ok;
      } catch {
        return false;
      }
    },
    Number(env.ARGUS_START_READY_TIMEOUT_MS ?? 90_000),
    'gateway readiness',
  ).catch(() => output('[argus] the stack is up but not ready yet; see /readyz\n'));

  return {
    natsUrl,
    gatewayUrl,
    workerUrls: Object.fromEntries(
      SERVICES.filter((s) => s.name !== 'gateway').map((s) => [
        s.name,
        `http://${probeHost}:${ports[s.name]}`,
      ]),
    ),
    children,
    onUnexpectedExit: (listener) => onUnexpectedExit.push(listener),
    async stop() {
      stopping = true;
      await stopChildren(children);
    },
  };
}

/** Services first (they drain), NATS last; anything that ignores SIGTERM for 10 s is killed. */
async function stopChildren(children) {
  const alive = ({ child }) => child.exitCode === null && child.signalCode === null;
  const stopGroup = async (group) => {
    await Promise.all(
      group.filter(alive).map(
        ({ child }) =>
          new Promise((resolve) => {
            const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
            child.once('exit', () => {
              clearTimeout(killer);
              resolve();
            });
            child.kill('SIGTERM');
          }),
      ),
    );
  };
  await stopGroup(children.filter(({ name }) => name !== 'nats'));
  await stopGroup(children.filter(({ name }) => name === 'nats'));
}
