// Starts, supervises and stops the local stack: a JetStream nats-server (unless NATS_URL is given) and the four
// services as separate processes, each worker ARGUS_REPLICAS times. `npm start` and the e2e tests both go through
// here, so tests start exactly what users start.
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { constants as osConstants } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './setup.mjs';

export const SERVICES = [
  { name: 'gateway', portVar: 'PORT', defaultPort: 8080 },
  { name: 'moderation', portVar: 'ARGUS_MODERATION_PORT', defaultPort: 9101 },
  { name: 'tagging', portVar: 'ARGUS_TAGGING_PORT', defaultPort: 9102 },
  { name: 'ocr', portVar: 'ARGUS_OCR_PORT', defaultPort: 9103 },
  { name: 'describe', portVar: 'ARGUS_DESCRIBE_PORT', defaultPort: 9104 },
];

export const MAX_REPLICAS = 16;
/** Replica n of a worker listens on the worker's port + REPLICA_PORT_STEP × (n − 1): 9101, 9111, 9121, … */
export const REPLICA_PORT_STEP = 10;
/** As Kubernetes restarts a container: 0.5 s, doubling up to 10 s; back to 0.5 s once a process stayed up 30 s. */
export const RESTART_BACKOFF = { initialMs: 500, maxMs: 10_000, resetAfterMs: 30_000 };

const PRELOAD = join(ROOT, 'dist', 'libs', 'telemetry', 'src', 'otel.preload.js');
const entry = (service) => join(ROOT, 'dist', 'services', service, 'src', 'main.js');

/** ARGUS_REPLICAS: processes per worker (the gateway always runs once). */
export function parseReplicas(value) {
  if (value === undefined || value.trim() === '') return 1;
  const replicas = /^\d+$/.test(value.trim()) ? Number(value.trim()) : Number.NaN;
  if (!Number.isInteger(replicas) || replicas < 1 || replicas > MAX_REPLICAS) {
    throw new Error(
      `ARGUS_REPLICAS must be an integer from 1 to ${MAX_REPLICAS} (processes per worker); got "${value}"`,
    );
  }
  return replicas;
}

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

/** `code 1`, or for a signal the shell's convention: `code 137 (SIGKILL)`. */
export function describeExit(code, signal) {
  if (signal) {
    const number = osConstants.signals[signal];
    return number ? `code ${128 + number} (${signal})` : `signal ${signal}`;
  }
  return `code ${code}`;
}

const seconds = (ms) => `${ms / 1000} s`;

/**
 * @param {{ env?: NodeJS.ProcessEnv, natsServerPath?: string, output?: (line: string) => void }} options
 */
export async function startStack(options = {}) {
  const env = { ...process.env, ...options.env };
  const output = options.output ?? ((line) => process.stdout.write(line));
  const replicas = parseReplicas(env.ARGUS_REPLICAS);
  /** One entry per supervised process; `child` is its current incarnation. */
  const units = [];
  /** `starting` until every port answers (an exit then fails the start), `running` (an exit restarts), `stopping`. */
  let phase = 'starting';
  let failStart = () => undefined;
  const startFailed = new Promise((_, reject) => {
    failStart = reject;
  });
  startFailed.catch(() => undefined);
  const onUnexpectedExit = [];

  const launch = (unit) => {
    const child = spawn(unit.command, unit.args, { env: unit.env, stdio: ['ignore', 'pipe', 'pipe'] });
    unit.child = child;
    unit.startedAt = Date.now();
    prefixOutput(child, unit.name, output);
    let ended = false;
    const onEnd = (how) => {
      if (ended) return;
      ended = true;
      if (phase === 'stopping') return;
      for (const listener of onUnexpectedExit) listener(unit.name);
      if (phase === 'starting') {
        failStart(new Error(`${unit.name} ${how} while the stack was starting; see its output above`));
        return;
      }
      if (Date.now() - unit.startedAt >= RESTART_BACKOFF.resetAfterMs)
        unit.delayMs = RESTART_BACKOFF.initialMs;
      const delayMs = unit.delayMs;
      unit.delayMs = Math.min(delayMs * 2, RESTART_BACKOFF.maxMs);
      output(`[argus] ${unit.name} ${how}; restarting in ${seconds(delayMs)}\n`);
      unit.timer = setTimeout(() => {
        unit.timer = undefined;
        if (phase === 'stopping') return;
        unit.restarts += 1;
        launch(unit);
        output(
          `[argus] ${unit.name} restarted (pid ${unit.child.pid ?? 'none'}, restart ${unit.restarts})\n`,
        );
      }, delayMs);
    };
    child.once('exit', (code, signal) => onEnd(`exited with ${describeExit(code, signal)}`));
    // Only a failed spawn (no pid) ends the process without an exit event.
    child.once('error', (error) => {
      if (child.pid === undefined) onEnd(`could not be started (${error.message})`);
    });
  };

  const supervise = (name, command, args, unitEnv, extra = {}) => {
    const unit = {
      name,
      command,
      args,
      env: unitEnv,
      child: undefined,
      startedAt: 0,
      delayMs: RESTART_BACKOFF.initialMs,
      restarts: 0,
      timer: undefined,
      ...extra,
    };
    units.push(unit);
    launch(unit);
    return unit;
  };

  /** Waits for `check`, but gives up at once if a process dies while the stack is starting. */
  const waitForStart = (check, timeoutMs, what) =>
    Promise.race([waitFor(check, timeoutMs, what), startFailed]);

  const stop = async () => {
    phase = 'stopping';
    for (const unit of units) clearTimeout(unit.timer);
    await stopChildren(units);
  };

  let natsUrl = env.NATS_URL;
  if (!natsUrl) {
    const natsPort = Number(env.ARGUS_NATS_PORT ?? 4222);
    if (!(await portIsFree(natsPort))) {
      throw new Error(
        `port ${natsPort} is taken; set ARGUS_NATS_PORT to another port, or NATS_URL to use a running NATS`,
      );
    }
    // The store outlives a restarted nats-server, so streams, the object store and KV survive it.
    const storeDir = env.ARGUS_NATS_STORE_DIR ?? join(ROOT, '.argus', `nats-${natsPort}`);
    mkdirSync(storeDir, { recursive: true });
    supervise(
      'nats',
      options.natsServerPath ?? 'nats-server',
      ['-a', '127.0.0.1', '-p', String(natsPort), '-js', '-sd', storeDir],
      process.env,
    );
    try {
      await waitForStart(() => canConnect(natsPort), 15_000, `nats-server on port ${natsPort}`);
    } catch (error) {
      await stop();
      throw error;
    }
    natsUrl = `nats://127.0.0.1:${natsPort}`;
  }

  const host = env.HOST ?? '127.0.0.1';
  const probeHost = host === '0.0.0.0' ? '127.0.0.1' : host;
  // One process per gateway, ARGUS_REPLICAS per worker; names are the service names with one replica (as always)
  // and `ocr-1`, `ocr-2`, … with more.
  const processes = SERVICES.flatMap((service) => {
    const basePort = Number(env[service.portVar] ?? service.defaultPort);
    const count = service.name === 'gateway' ? 1 : replicas;
    return Array.from({ length: count }, (_, index) => ({
      service,
      replica: index + 1,
      name: count === 1 ? service.name : `${service.name}-${index + 1}`,
      port: basePort + REPLICA_PORT_STEP * index,
    }));
  });
  const byPort = new Map();
  for (const proc of processes) {
    const how =
      proc.replica === 1
        ? `set ${proc.service.portVar} to another port`
        : `replica ${proc.replica} of ${proc.service.name} listens on ${proc.service.portVar} + ${REPLICA_PORT_STEP} × ${proc.replica - 1}; move ${proc.service.portVar} or lower ARGUS_REPLICAS`;
    const problem =
      !Number.isInteger(proc.port) || proc.port < 1 || proc.port > 65_535
        ? `port ${proc.port} for ${proc.name} is not a valid port`
        : byPort.has(proc.port)
          ? `port ${proc.port} is wanted by both ${byPort.get(proc.port)} and ${proc.name}`
          : !(await portIsFree(proc.port, host))
            ? `port ${proc.port} for ${proc.name} is taken`
            : undefined;
    if (problem) {
      await stop();
      throw new Error(`${problem}; ${how}`);
    }
    byPort.set(proc.port, proc.name);
  }

  for (const proc of processes) {
    const worker = proc.service.name !== 'gateway';
    const instance = `argus-${proc.service.name}-${proc.replica}`;
    const serviceEnv = {
      ...env,
      NATS_URL: natsUrl,
      HOST: host,
      ARGUS_SERVICE: `argus-${proc.service.name}`,
      ARGUS_REPLICA: String(proc.replica),
      // Replicas share the service name (and the NATS queue group); the instance id tells their spans apart.
      OTEL_SERVICE_NAME: env.OTEL_SERVICE_NAME ?? `argus-${proc.service.name}`,
      OTEL_RESOURCE_ATTRIBUTES: [env.OTEL_RESOURCE_ATTRIBUTES, `service.instance.id=${instance}`]
        .filter(Boolean)
        .join(','),
      ...(worker ? { HTTP_PORT: String(proc.port) } : { PORT: String(proc.port) }),
    };
    supervise(
      proc.name,
      process.execPath,
      ['--enable-source-maps', '--require', PRELOAD, entry(proc.service.name)],
      serviceEnv,
      { service: proc.service.name, replica: proc.replica, port: proc.port },
    );
  }

  try {
    await Promise.all(
      processes.map((proc) =>
        waitForStart(() => canConnect(proc.port, probeHost), 60_000, `${proc.name} on port ${proc.port}`),
      ),
    );
  } catch (error) {
    await stop();
    throw error;
  }
  // From here on a process that dies is restarted.
  phase = 'running';

  // The CPU engines load before a worker subscribes (nsfwjs takes seconds); wait, bounded, until the gateway says
  // every worker is ready, so the first request a user sends is not a cold one.
  const gatewayPort = processes.find((proc) => proc.service.name === 'gateway').port;
  const gatewayUrl = `http://${probeHost}:${gatewayPort}`;
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

  const workerUnits = units.filter((unit) => unit.service !== undefined && unit.service !== 'gateway');
  return {
    natsUrl,
    gatewayUrl,
    replicas,
    /** Replica 1 of each worker, by service name. */
    workerUrls: Object.fromEntries(
      workerUnits
        .filter((unit) => unit.replica === 1)
        .map((unit) => [unit.service, `http://${probeHost}:${unit.port}`]),
    ),
    /** Every worker process: name (`ocr` or `ocr-2`), service, replica, port, probes-and-metrics URL, current pid. */
    workers: workerUnits.map((unit) => ({
      name: unit.name,
      service: unit.service,
      replica: unit.replica,
      port: unit.port,
      url: `http://${probeHost}:${unit.port}`,
      get pid() {
        return unit.child?.pid;
      },
    })),
    /** The current incarnation of every supervised process. */
    get children() {
      return units.map((unit) => ({ name: unit.name, child: unit.child }));
    },
    /** Called with the process name whenever a process exits while the stack is not stopping. */
    onUnexpectedExit: (listener) => onUnexpectedExit.push(listener),
    stop,
  };
}

/** Services first (they drain), NATS last; anything that ignores SIGTERM for 10 s is killed. */
async function stopChildren(units) {
  const alive = ({ child }) =>
    child?.pid !== undefined && child.exitCode === null && child.signalCode === null;
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
  await stopGroup(units.filter(({ name }) => name !== 'nats'));
  await stopGroup(units.filter(({ name }) => name === 'nats'));
}
