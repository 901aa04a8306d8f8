// The stack exactly as a user starts it: `node scripts/start.mjs` spawning nats-server and the four services as
// separate processes (OpenTelemetry preloaded), on free ports with a throwaway JetStream store. E2E tests and the
// eval harness share this, so none of them starts anything a user would not.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './nats-harness';

const ROOT = join(__dirname, '..', '..');

export interface SpawnedStack {
  gatewayUrl: string;
  workerUrls: { moderation: string; tagging: string; ocr: string };
  /** Everything the stack printed so far, each line prefixed `[service] `. */
  output(): string;
  /** Resolves once the output matches, or rejects with the tail of the output. */
  waitForOutput(pattern: RegExp, timeoutMs: number): Promise<void>;
  process: ChildProcess;
  /** SIGTERM, as Ctrl-C would; SIGKILL after 30 s. Removes the store. */
  stop(): Promise<void>;
}

export async function startSpawnedStack(env: NodeJS.ProcessEnv = {}): Promise<SpawnedStack> {
  const storeDir = mkdtempSync(join(tmpdir(), 'argus-e2e-nats-'));
  const [gateway, nats, moderation, tagging, ocr] = await Promise.all(
    Array.from({ length: 5 }, () => freePort()),
  );
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
  return {
    gatewayUrl: url(gateway),
    workerUrls: { moderation: url(moderation), tagging: url(tagging), ocr: url(ocr) },
    output: () => output,
    waitForOutput,
    process: child,
    stop,
  };
}
