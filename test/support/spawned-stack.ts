// The stack exactly as a user starts it: `node scripts/start.mjs` spawning nats-server and the four services as
// separate processes (OpenTelemetry preloaded), on free ports with a throwaway JetStream store. E2E tests and the
// eval harness share this, so none of them starts anything a user would not.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './nats-harness';

const ROOT = join(__dirname, '..', '..');

export interface SpawnedStack {
  gatewayUrl: string;
  workerUrls: { moderation: string; tagging: string; ocr: string };
  /** Every replica's probes-and-metrics URL (ARGUS_REPLICAS of them per worker); index 0 is `workerUrls`. */
  replicaUrls: { moderation: string[]; tagging: string[]; ocr: string[] };
  /** Everything the stack printed so far, each line prefixed `[service] `. */
  output(): string;
  /** Resolves once the output matches, or rejects with the tail of the output. */
  waitForOutput(pattern: RegExp, timeoutMs: number): Promise<void>;
  process: ChildProcess;
  /** SIGTERM, as Ctrl-C would; SIGKILL after 30 s. Removes the store. */
  stop(): Promise<void>;
}

/** Replica n of a worker listens on its port + 10 × (n − 1): REPLICA_PORT_STEP in scripts/stack.mjs. */
const REPLICA_PORT_STEP = 10;

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => {
      resolve(false);
    });
    server.listen(port, '127.0.0.1', () => {
      server.close(() => {
        resolve(true);
      });
    });
  });
}

/** A free port whose replica ports (port + step × n) are free too and clash with none already chosen. */
async function freePortWithReplicas(replicas: number, chosen: Set<number>): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const base = await freePort();
    const ports = Array.from({ length: replicas }, (_, index) => base + REPLICA_PORT_STEP * index);
    if (ports.some((port) => port > 65_535 || chosen.has(port))) continue;
    if (!(await Promise.all(ports.map(portIsFree))).every(Boolean)) continue;
    for (const port of ports) chosen.add(port);
    return base;
  }
  throw new Error(`no free port with room for ${replicas} replicas`);
}

export async function startSpawnedStack(env: NodeJS.ProcessEnv = {}): Promise<SpawnedStack> {
  const storeDir = mkdtempSync(join(tmpdir(), 'argus-e2e-nats-'));
  const [gateway, nats, ...workerPorts] = await Promise.all(Array.from({ length: 5 }, () => freePort()));
  let [moderation, tagging, ocr] = workerPorts;
  const replicas = Number(env.ARGUS_REPLICAS ?? 1);
  if (Number.isInteger(replicas) && replicas > 1) {
    const chosen = new Set([gateway, nats]);
    moderation = await freePortWithReplicas(replicas, chosen);
    tagging = await freePortWithReplicas(replicas, chosen);
    ocr = await freePortWithReplicas(replicas, chosen);
  }
  const childEnv: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: String(gateway),
    ARGUS_NATS_PORT: String(nats),
    ARGUS_NATS_STORE_DIR: storeDir,
    ARGUS_MODERATION_PORT: String(moderation),
    ARGUS_TAGGING_PORT: String(tagging),
    ARGUS_OCR_PORT: String(ocr),
    ...env,
  };
  // The stack starts its own nats-server, as it does for a user with no NATS_URL.
  if (!env.NATS_URL) delete childEnv.NATS_URL;
  const child = spawn(process.execPath, [join(ROOT, 'scripts', 'start.mjs')], {
    cwd: ROOT,
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));

  const waitForOutput = (pattern: RegExp, timeoutMs: number) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        cleanup();
        reject(
          new Error(`stack did not print ${String(pattern)} in ${timeoutMs} ms:\n${output.slice(-4000)}`),
        );
      }, timeoutMs);
      const check = () => {
        if (!pattern.test(output)) return;
        cleanup();
        resolve();
      };
      const exited = (code: number | null) => {
        cleanup();
        reject(new Error(`stack exited early with code ${String(code)}:\n${output.slice(-4000)}`));
      };
      const cleanup = () => {
        clearTimeout(timer);
        child.stdout.off('data', check);
        child.off('exit', exited);
      };
      child.stdout.on('data', check);
      child.once('exit', exited);
      check();
    });

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) =>
        child.once('exit', () => {
          resolve();
        }),
      );
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(storeDir, { recursive: true, force: true });
  };

  try {
    await waitForOutput(/Argus is up/, 150_000);
  } catch (error) {
    await stop();
    throw error;
  }
  const url = (port: number) => `http://127.0.0.1:${port}`;
  const replicaUrls = (port: number) =>
    Array.from({ length: Number.isInteger(replicas) && replicas > 1 ? replicas : 1 }, (_, index) =>
      url(port + REPLICA_PORT_STEP * index),
    );
  return {
    gatewayUrl: url(gateway),
    workerUrls: { moderation: url(moderation), tagging: url(tagging), ocr: url(ocr) },
    replicaUrls: {
      moderation: replicaUrls(moderation),
      tagging: replicaUrls(tagging),
      ocr: replicaUrls(ocr),
    },
    output: () => output,
    waitForOutput,
    process: child,
    stop,
  };
}
