/**
 * A real NATS server (with JetStream) for integration and e2e tests.
 *
 * Machines with a container engine get a throwaway `nats:2.10-alpine` container through testcontainers; everything
 * else (including CI runners and dev boxes without Docker) spawns the local `nats-server` binary on a free port with a
 * temporary store. `ARGUS_TEST_NATS=local` skips the container attempt.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { constants as fsConstants, existsSync } from 'node:fs';
import { access, mkdtemp, rm } from 'node:fs/promises';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

export interface NatsHarness {
  /** `nats://127.0.0.1:PORT`, no credentials. */
  url: string;
  mode: 'container' | 'local';
  /** Local mode only: the nats-server process (changes on restart), for benchmarks that read its CPU. */
  readonly pid?: number;
  stop(): Promise<void>;
  /** Local mode only: kill the server and start it again on the same port with the same JetStream store. */
  restart?(options?: RestartOptions): Promise<void>;
}

export interface RestartOptions {
  /** How long the server stays down between stopping and starting again: an outage rather than a blip. Default 0. */
  downMs?: number;
}

export interface StartNatsOptions {
  /** `auto` (default) tries a container when a Docker socket exists, then falls back to local. */
  mode?: 'auto' | 'local' | 'container';
  /** Bound on the container attempt, image pull included. Default 60 s (`ARGUS_TEST_NATS_CONTAINER_TIMEOUT_MS`). */
  containerTimeoutMs?: number;
  /** Bound on the local server becoming reachable. Default 10 s. */
  startTimeoutMs?: number;
  /** Local mode: this nats-server binary instead of searching (also `NATS_SERVER_BIN`). */
  binary?: string;
}

export const NATS_IMAGE = 'nats:2.10-alpine';
export const NATS_INSTALL_HINT =
  'install with `apt-get install -y nats-server` (Debian/Ubuntu), or `brew install nats-server`, or download from ' +
  'the NATS releases page (https://github.com/nats-io/nats-server/releases) — or run `npm run setup`';

const CLIENT_PORT = 4222;
const STOP_GRACE_MS = 3_000;
const KILL_WAIT_MS = 2_000;
const POLL_MS = 50;
// Keeps error messages useful without holding a chatty server's whole log in memory.
const MAX_LOG_CHARS = 16_000;

/** A TCP port that was free a moment ago on 127.0.0.1 (the usual listen-on-0-then-close trick). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error('freePort: could not read the bound port'));
        return;
      }
      server.close(() => {
        resolve(address.port);
      });
    });
  });
}

export async function startNats(options: StartNatsOptions = {}): Promise<NatsHarness> {
  const mode = options.mode ?? (process.env.ARGUS_TEST_NATS === 'local' ? 'local' : 'auto');
  if (mode === 'container') return startContainer(containerTimeout(options));
  if (mode === 'auto' && dockerLikelyAvailable()) {
    try {
      return await startContainer(containerTimeout(options));
    } catch (error) {
      // A socket that exists but is dead, no network for the pull, a slow engine: all mean "use the local binary".
      const reason = error instanceof Error ? error.message : String(error);
      process.stderr.write(
        `nats-harness: container start failed (${reason}); falling back to local nats-server\n`,
      );
    }
  }
  return startLocal(options.startTimeoutMs ?? 10_000, options.binary ?? process.env.NATS_SERVER_BIN);
}

function containerTimeout(options: StartNatsOptions): number {
  const fromEnv = Number(process.env.ARGUS_TEST_NATS_CONTAINER_TIMEOUT_MS);
  return options.containerTimeoutMs ?? (Number.isFinite(fromEnv) && fromEnv > 0 ? fromEnv : 60_000);
}

function dockerLikelyAvailable(): boolean {
  return (process.env.DOCKER_HOST ?? '') !== '' || existsSync('/var/run/docker.sock');
}

async function startContainer(timeoutMs: number): Promise<NatsHarness> {
  // Loaded lazily: testcontainers pulls in a Docker client that local-mode runs never need.
  const { GenericContainer, Wait } = await import('testcontainers');
  // Not @testcontainers/nats' NatsContainer: it always sets --user/--pass test/test, and the nats client cannot
  // take credentials from a URL, so every consumer would need extra options. Same image, same readiness check.
  const starting = new GenericContainer(NATS_IMAGE)
    .withCommand(['-js'])
    .withExposedPorts(CLIENT_PORT)
    .withWaitStrategy(Wait.forLogMessage(/Server is ready/))
    .withStartupTimeout(timeoutMs)
    .start();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`container did not start within ${timeoutMs} ms`));
    }, timeoutMs);
  });
  try {
    const container = await Promise.race([starting, timeout]);
    let stopped: Promise<void> | undefined;
    return {
      url: `nats://${container.getHost()}:${container.getMappedPort(CLIENT_PORT)}`,
      mode: 'container',
      stop: () => {
        stopped ??= container.stop().then(() => undefined);
        return stopped;
      },
    };
  } catch (error) {
    // If the race was lost to the timer, the container may still come up later; do not leak it.
    starting.then(
      (late) => late.stop().catch(() => undefined),
      () => undefined,
    );
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

async function findNatsServer(explicit: string | undefined): Promise<string | undefined> {
  // The Debian package installs into /usr/sbin, which is not on every user's PATH.
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/bin', '/usr/local/bin'];
  const candidates =
    explicit !== undefined && explicit !== ''
      ? [explicit]
      : dirs.filter((d) => d !== '').map((d) => join(d, 'nats-server'));
  for (const candidate of candidates) {
    try {
      await access(candidate, fsConstants.X_OK);
      return candidate;
    } catch {
      // not here; keep looking
    }
  }
  return undefined;
}

// One process-wide hook rather than one per server, so many harnesses in a run do not trip MaxListeners.
const liveChildren = new Set<ChildProcess>();
let exitHookInstalled = false;

/** A test runner that exits without stop() must not leave servers holding ports. */
function track(child: ChildProcess): void {
  liveChildren.add(child);
  child.once('exit', () => liveChildren.delete(child));
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const c of liveChildren) c.kill('SIGKILL');
  });
}

class LocalNats {
  private child: ChildProcess | undefined;

  get pid(): number | undefined {
    return this.child?.pid;
  }
  private log = '';
  private stopped = false;

  constructor(
    private readonly binary: string,
    readonly port: number,
    private readonly storeDir: string,
    private readonly startTimeoutMs: number,
  ) {}

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.log = '';
    const child = spawn(
      this.binary,
      ['-a', '127.0.0.1', '-p', String(this.port), '-js', '-sd', this.storeDir],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.child = child;
    // Drain both pipes: a full pipe buffer would block the server's logging and stall it.
    const collect = (chunk: Buffer): void => {
      this.log = (this.log + chunk.toString('utf8')).slice(-MAX_LOG_CHARS);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    track(child);
    await this.waitReady(child);
  }

  private async waitReady(child: ChildProcess): Promise<void> {
    let spawnError: Error | undefined;
    child.once('error', (error) => {
      spawnError = error;
    });
    const deadline = Date.now() + this.startTimeoutMs;
    while (Date.now() < deadline) {
      if (spawnError !== undefined) {
        throw new Error(`nats-server could not be started (${this.binary}): ${spawnError.message}`);
      }
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(
          `nats-server exited (${child.exitCode ?? child.signalCode ?? '?'}) before it was ready on port ` +
            `${this.port}:\n${this.log}`,
        );
      }
      // The log line proves the listener is ours, not some other process that grabbed the port meanwhile.
      if (this.log.includes('Server is ready') && (await canConnect(this.port))) return;
      await delay(POLL_MS);
    }
    await this.kill();
    throw new Error(
      `nats-server did not accept connections on port ${this.port} within ${this.startTimeoutMs} ms:\n${this.log}`,
    );
  }

  async kill(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) =>
      child.once('exit', () => {
        resolve();
      }),
    );
    // SIGTERM lets JetStream flush its store, so data survives restart(); SIGKILL only if it will not go.
    child.kill('SIGTERM');
    if (await within(exited, STOP_GRACE_MS)) return;
    child.kill('SIGKILL');
    if (!(await within(exited, KILL_WAIT_MS))) {
      throw new Error(`nats-server (pid ${child.pid ?? '?'}) did not exit after SIGKILL`);
    }
  }

  async restart(options: RestartOptions = {}): Promise<void> {
    if (this.stopped) throw new Error('nats-harness: restart() after stop()');
    await this.kill();
    if (options.downMs !== undefined && options.downMs > 0) await delay(options.downMs);
    await this.start();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    try {
      await this.kill();
    } finally {
      await rm(this.storeDir, { recursive: true, force: true });
    }
  }
}

async function startLocal(startTimeoutMs: number, explicitBinary: string | undefined): Promise<NatsHarness> {
  const binary = await findNatsServer(explicitBinary);
  if (binary === undefined) {
    if (explicitBinary !== undefined && explicitBinary !== '') {
      throw new Error(`nats-server is not an executable at ${explicitBinary}: ${NATS_INSTALL_HINT}`);
    }
    throw new Error(
      `nats-server was not found on PATH (nor in /usr/sbin, /usr/bin, /usr/local/bin): ${NATS_INSTALL_HINT}`,
    );
  }
  // The free port can be taken between probing and binding; a couple of fresh tries make that race harmless.
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const storeDir = await mkdtemp(join(tmpdir(), 'argus-nats-'));
    const server = new LocalNats(binary, await freePort(), storeDir, startTimeoutMs);
    try {
      await server.start();
    } catch (error) {
      lastError = error;
      await server.stop();
      continue;
    }
    return {
      url: server.url,
      mode: 'local',
      get pid() {
        return server.pid;
      },
      stop: () => server.stop(),
      restart: (options) => server.restart(options),
    };
  }
  throw lastError instanceof Error ? lastError : new Error(String(lastError));
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => {
      done(false);
    });
    socket.once('connect', () => {
      done(true);
    });
    socket.once('error', () => {
      done(false);
    });
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** True if the promise settled within ms. */
async function within(promise: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<false>((resolve) => {
    timer = setTimeout(() => {
      resolve(false);
    }, ms);
  });
  try {
    return await Promise.race([promise.then(() => true as const), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}
