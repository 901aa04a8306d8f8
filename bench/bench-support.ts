// Shared pieces of the benchmarks: percentiles, a timing loop, the stack started as `npm start` starts it, and a
// results writer. Every benchmark prints ratios measured in one run on this machine.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../test/support/nats-harness';

export const ROOT = join(__dirname, '..');

export interface StackHandle {
  gatewayUrl: string;
  workerUrls: Record<string, string>;
  stop(): Promise<void>;
}

/**
 * One line of the summary table (`npm run bench` ends with it): a value measured in this run, the target it is judged
 * against, and whether it met it. Each bench writes its rows under `summary` in its results file; bench/summary.ts
 * collects them.
 */
export interface SummaryRow {
  /** P1 … P7, with a letter for a second reading of the same row (P4a, P4b). */
  id: string;
  name: string;
  /** The measured value as printed, with its unit. */
  measured: string;
  value: number;
  target: string;
  /** Undefined for a row reported without a target. */
  pass?: boolean;
  /** os.loadavg() when the row was measured: 1, 5 and 15 minutes. */
  load: string;
  note?: string;
}

/** os.loadavg() as `1m 5m 15m`: the machine is shared, so every row records how busy it was. */
export function loadAverage(): string {
  return loadavg()
    .map((value) => value.toFixed(2))
    .join(' ');
}

export interface Sample {
  /** ms from the scheduled send (so a late send counts against the system, no coordinated omission). */
  latencyMs: number;
  /** ms from the moment the request was actually issued. */
  serviceMs: number;
  ok: boolean;
}

/**
 * Open-loop load at a fixed rate: request i is due at start + i / rate, whether or not earlier ones have answered,
 * as autocannon's `overallRate` or wrk2 do. Latency counts from the due time, so a driver or a server that falls
 * behind shows up in the numbers instead of silently lowering the rate.
 */
export async function fixedRate(
  ratePerSecond: number,
  count: number,
  run: (index: number) => Promise<void>,
): Promise<{ samples: Sample[]; seconds: number; achievedRate: number; maxBehindMs: number }> {
  const intervalMs = 1000 / ratePerSecond;
  const started = performance.now();
  const pending: Array<Promise<Sample>> = [];
  let maxBehindMs = 0;
  for (let i = 0; i < count; i += 1) {
    const due = started + i * intervalMs;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    else if (wait > 0) await new Promise((resolve) => setImmediate(resolve));
    const issued = performance.now();
    maxBehindMs = Math.max(maxBehindMs, issued - due);
    pending.push(
      run(i).then(
        () => {
          const end = performance.now();
          return { latencyMs: end - due, serviceMs: end - issued, ok: true };
        },
        () => {
          const end = performance.now();
          return { latencyMs: end - due, serviceMs: end - issued, ok: false };
        },
      ),
    );
  }
  const issuedSeconds = (performance.now() - started) / 1000;
  const samples = await Promise.all(pending);
  return {
    samples,
    seconds: (performance.now() - started) / 1000,
    achievedRate: count / Math.max(issuedSeconds, (count - 1) / ratePerSecond),
    maxBehindMs,
  };
}

/**
 * Resident set size of a Linux process in KiB from /proc/<pid>/status: now (VmRSS) or its peak so far (VmHWM);
 * undefined when unknown.
 */
export function rssKiB(pid: number | undefined, field: 'VmRSS' | 'VmHWM' = 'VmRSS'): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(
      readFileSync(`/proc/${pid}/status`, 'utf8'),
    );
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** The stack's processes by name (nats, gateway, moderation, …) with their current pid. */
export function stackPids(stack: StackHandle): Record<string, number> {
  const children =
    (stack as unknown as { children?: Array<{ name: string; child?: { pid?: number } }> }).children ?? [];
  const pids: Record<string, number> = {};
  for (const { name, child } of children) if (child?.pid !== undefined) pids[name] = child.pid;
  return pids;
}

/** CPU seconds (user + system) of a Linux process from /proc/<pid>/stat; undefined elsewhere or when it is gone. */
export function cpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime, fields 14 and 15 of proc(5) counted from the state field (3); USER_HZ is 100 on Linux.
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

/**
 * CPU milliseconds so far of a Linux process's threads, grouped: `main` (the JavaScript thread), `libvips` (the threads
 * libvips names for itself while sharp works) and `other` (V8's garbage-collection and compiler helpers and libuv's
 * pool, which Node 20 leaves named "node", so they cannot be told apart; sharp's pipelines start on the libuv pool).
 * /proc/<pid>/stat sums them all; the groups say roughly whose work it is.
 */
export function cpuByThreadGroup(pid: number | undefined): Record<string, number> {
  const groups: Record<string, number> = {};
  if (pid === undefined) return groups;
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return groups;
  }
  for (const tid of tids) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const group = tid === String(pid) ? 'main' : name.startsWith('libvips') ? 'libvips' : 'other';
      groups[group] = (groups[group] ?? 0) + (Number(fields[11]) + Number(fields[12])) * 10;
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return groups;
}

/**
 * CPU seconds so far of every stack process and of this one, filed under `self`: its name says what this process
 * hosts besides the bench (the stand-in, and the load driver unless the bench submits one job and waits).
 */
export function cpuSnapshot(stack: StackHandle, self = 'bench (driver + stand-in)'): Record<string, number> {
  const snapshot: Record<string, number> = {};
  for (const [name, pid] of Object.entries(stackPids(stack))) {
    const seconds = cpuSeconds(pid);
    if (seconds !== undefined) snapshot[name] = seconds;
  }
  const own = process.cpuUsage();
  snapshot[self] = (own.user + own.system) / 1e6;
  return snapshot;
}

/** CPU ms per unit of work between two snapshots, by process. */
export function cpuMsPer(
  after: Record<string, number>,
  before: Record<string, number>,
  units: number,
): Record<string, number> {
  return Object.fromEntries(
    Object.entries(after).map(([name, seconds]) => [
      name,
      round(((seconds - (before[name] ?? 0)) * 1000) / units, 2),
    ]),
  );
}

/** Sums and counts of a service's stage histograms (seconds), from its Prometheus text; empty if unreachable. */
export async function stageTimings(url: string): Promise<Record<string, number>> {
  const values: Record<string, number> = {};
  let text: string;
  try {
    const response = await fetch(`${url}/metrics`);
    if (!response.ok) return values;
    text = await response.text();
  } catch {
    return values;
  }
  const add = (key: string, value: number) => {
    values[key] = (values[key] ?? 0) + value;
  };
  for (const line of text.split('\n')) {
    const stage = /^argus_stage_duration_seconds_(sum|count)\{[^}]*stage="(\w+)"[^}]*\} (\S+)/.exec(line);
    if (stage) add(`${stage[2]}_${stage[1]}`, Number(stage[3]));
    const image = /^argus_image_duration_seconds_(sum|count)\{[^}]*\} (\S+)/.exec(line);
    if (image) add(`image_${image[1]}`, Number(image[2]));
    const request = /^argus_gateway_request_duration_seconds_(sum|count)\{[^}]*\} (\S+)/.exec(line);
    if (request) add(`request_${request[1]}`, Number(request[2]));
  }
  return values;
}

/** Mean ms per observation of each histogram between two stageTimings() readings. */
export function stageMeansMs(
  after: Record<string, number>,
  before: Record<string, number>,
): Record<string, number> {
  const means: Record<string, number> = {};
  for (const key of Object.keys(after)) {
    if (!key.endsWith('_count')) continue;
    const name = key.slice(0, -'_count'.length);
    const count = (after[key] ?? 0) - (before[key] ?? 0);
    const sum = (after[`${name}_sum`] ?? 0) - (before[`${name}_sum`] ?? 0);
    if (count > 0) means[name] = round((sum / count) * 1000, 2);
  }
  return means;
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

/** Runs a bench's main: a failure prints its stack and exits 1, so `npm run bench` stops on the first broken bench. */
export function runBench(main: () => Promise<void>): void {
  main().catch((error: unknown) => {
    process.stderr.write(
      `bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  });
}
