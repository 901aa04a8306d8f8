// Shared pieces of the benchmarks: percentiles, a timing loop, the stack started as `npm start` starts it, and a
// results writer. Every benchmark prints ratios measured in one run on this machine.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../test/support/nats-harness';

export const ROOT = join(__dirname, '..');

export interface StackHandle {
  gatewayUrl: string;
  workerUrls: Record<string, string>;
  stop(): Promise<void>;
}

export function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

export async function time(iterations: number, run: (index: number) => Promise<void>): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < iterations; i += 1) {
    const started = performance.now();
    await run(i);
    samples.push(performance.now() - started);
  }
  return samples;
}

export function machine(): string {
  return `${cpus().length} × ${cpus()[0]?.model.trim() ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
}

/** The stack as `npm start` starts it, on free ports with a throwaway JetStream store; its output is dropped unless
 * `options.output` takes it (the eval keeps the last lines to explain a failed start). */
export async function startBenchStack(
  env: NodeJS.ProcessEnv,
  options: { output?: (line: string) => void } = {},
): Promise<StackHandle> {
  const ports = await Promise.all(Array.from({ length: 5 }, () => freePort()));
  const { startStack } = (await import(join(ROOT, 'scripts', 'stack.mjs'))) as {
    startStack(options: { env: NodeJS.ProcessEnv; output: (line: string) => void }): Promise<StackHandle>;
  };
  // A throwaway JetStream store: benchmarks write thousands of images and must not leave them behind.
  const storeDir = mkdtempSync(join(tmpdir(), 'argus-bench-nats-'));
  const stack = await startStack({
    env: {
      PORT: String(ports[0]),
      ARGUS_NATS_PORT: String(ports[1]),
      ARGUS_MODERATION_PORT: String(ports[2]),
      ARGUS_TAGGING_PORT: String(ports[3]),
      ARGUS_OCR_PORT: String(ports[4]),
      ARGUS_NATS_STORE_DIR: storeDir,
      LOG_LEVEL: 'warn',
      NATS_URL: '',
      ...env,
    },
    output: options.output ?? (() => undefined),
  });
  return {
    ...stack,
    async stop() {
      await stack.stop();
      rmSync(storeDir, { recursive: true, force: true });
    },
  };
}

export function printTable(title: string, header: string[], rows: Array<Array<string | number>>): void {
  process.stdout.write(`\n${title}\n${machine()}\n\n`);
  process.stdout.write(
    `| ${header.join(' | ')} |\n|${header.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|\n`,
  );
  for (const row of rows) process.stdout.write(`| ${row.join(' | ')} |\n`);
}

export function writeResults(name: string, data: unknown): void {
  mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
  writeFileSync(
    join(ROOT, 'bench', 'results', `${name}.json`),
    `${JSON.stringify({ measuredAt: new Date().toISOString(), machine: machine(), ...(data as object) }, null, 2)}\n`,
  );
}

export function round(value: number, digits = 2): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
