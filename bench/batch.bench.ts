// Batch throughput: one async job of 1000 small distinct images (POST /v1/jobs), drained by the moderation worker
// through JetStream against an emulated GPU (N parallel slots × T ms per call), as a ratio of the GPU's own capacity
// N/T. The stack runs as `npm start` runs it (separate processes, throwaway JetStream store), the small tier is pinned
// and the result cache is off (ARGUS_CACHE_TTL_SECONDS=0), so every unit reaches the model exactly once.
//
// Task choice: moderation. Its worker does no per-item CPU work after the model answers (no postprocessor; the
// policy is a table lookup). Tagging runs ListingCompliancePostprocessor on every item (sharp measure and
// measureListing, plus tesseract when the listing profile checks text overlay), which would measure the worker's
// CPU rather than the queue. The bench still measures the worker's CPU per item and compares it with T/N, the CPU
// time the worker may spend per item before it, not the GPU, bounds the drain.
import { readFileSync } from 'node:fs';
import { loadModelCatalog } from '@argus/inference';
import { photoJpeg } from '../test/support/fixtures';
import { OllamaStandIn } from '../test/support/ollama-stand-in';
import {
  cpuMsPer,
  cpuSnapshot,
  printTable,
  round,
  runBench,
  startBenchStack,
  writeResults,
} from './bench-support';

const ITEMS = Number(process.env.BENCH_BATCH_ITEMS ?? 1000);
const SIDE = 128;
const MODEL = 'qwen2.5vl:3b';
const TASK = 'moderation';
const WORKER = 'moderation';
/** This process's key in cpuMsPerItem: it hosts the stand-in but no load driver (one job, then polling), and
 * bench/results/batch.json is keyed so. */
const STAND_IN_CPU = 'bench (stand-in)';
/**
 * N slots × T ms; the second row only when the first leaves time for it (the whole bench stays near 3 minutes).
 * BENCH_BATCH_GPUS=4x50,8x50 measures others.
 */
const GPUS: ReadonlyArray<{ slots: number; serviceTimeMs: number }> = (
  process.env.BENCH_BATCH_GPUS ?? '4x50,2x100'
)
  .split(',')
  .map((spec) => {
    const [slots, serviceTimeMs] = spec.split('x').map(Number);
    if (!(slots >= 1) || !(serviceTimeMs > 0)) throw new Error(`BENCH_BATCH_GPUS: bad entry "${spec}"`);
    return { slots, serviceTimeMs };
  });
/** ARGUS_JOB_CONCURRENCY for the workers; 0 (the default) lets them take the sum of their tier concurrencies. */
const JOB_CONCURRENCY = Number(process.env.BENCH_BATCH_JOB_CONCURRENCY ?? 0);
/**
 * Tier concurrency above the GPU's N slots; the extra calls wait at the stand-in for a slot, as a loaded Ollama model's
 * calls do (without limit; OLLAMA_MAX_QUEUE bounds only pending loads): 1 (the default) is the shipped catalog's N + 1
 * for one Ollama replica; 0 matches the GPU exactly.
 */
const TIER_EXTRA = Number(process.env.BENCH_BATCH_TIER_EXTRA ?? 1);
const WARMUP_ITEMS = 16;
const DRAIN_TIMEOUT_MS = 10 * 60_000;
/** Gateway polls during the drain are sparse: each one lists every result of the job and costs CPU on 2 cores. */
const SPARSE_POLL_MS = 2_000;
const FINAL_POLL_MS = 50;
const TOTAL_BUDGET_MS = 3 * 60_000;

interface JobView {
  status: string;
  counts: { total: number; done: number; failed: number; dead: number; cancelled: number; pending: number };
}

let variant = 0;
/** Distinct images: a different background per call (g, b from the counter), so every item has its own sha256. */
function distinctJpeg(): Promise<Buffer> {
  variant += 1;
  return photoJpeg(SIDE, SIDE, { r: 200, g: variant % 256, b: (Math.floor(variant / 256) * 37) % 256 });
}

/** Sums and counts of the worker's histograms we read (seconds), from its Prometheus text. */
async function workerTimings(url: string): Promise<Record<string, number>> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const values: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const stage = /^argus_stage_duration_seconds_(sum|count)\{[^}]*stage="(\w+)"[^}]*\} (\S+)/.exec(line);
    if (stage)
      values[`${stage[2]}_${stage[1]}`] = (values[`${stage[2]}_${stage[1]}`] ?? 0) + Number(stage[3]);
    const image = /^argus_image_duration_seconds_(sum|count)\{[^}]*\} (\S+)/.exec(line);
    if (image) values[`image_${image[1]}`] = (values[`image_${image[1]}`] ?? 0) + Number(image[2]);
  }
  return values;
}

function meanMs(after: Record<string, number>, before: Record<string, number>, name: string): number {
  const count = (after[`${name}_count`] ?? 0) - (before[`${name}_count`] ?? 0);
  const sum = (after[`${name}_sum`] ?? 0) - (before[`${name}_sum`] ?? 0);
  return count > 0 ? (sum / count) * 1000 : Number.NaN;
}

async function submit(gatewayUrl: string, photos: Buffer[], prefix: string): Promise<string> {
  const response = await fetch(`${gatewayUrl}/v1/jobs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      items: photos.map((photo, index) => ({
        id: `${prefix}-${index}`,
        imageBase64: photo.toString('base64'),
      })),
      tasks: [TASK],
      tier: 'small',
    }),
  });
  const body = (await response.json()) as { jobId?: string; items?: Array<{ status: string }> };
  if (response.status !== 202 || body.jobId === undefined) {
    throw new Error(`POST /v1/jobs answered ${response.status}: ${JSON.stringify(body).slice(0, 500)}`);
  }
  const refused = body.items?.filter((item) => item.status !== 'queued').length ?? 0;
  if (refused > 0) throw new Error(`${refused} items failed at intake`);
  return body.jobId;
}

async function job(gatewayUrl: string, jobId: string): Promise<JobView> {
  const response = await fetch(`${gatewayUrl}/v1/jobs/${jobId}?pageSize=1`);
  if (response.status !== 200) throw new Error(`GET /v1/jobs answered ${response.status}`);
  return (await response.json()) as JobView;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Waits until the job is completed. The stand-in's answered count (in this process, free to read) tells when the
 * last model call ended; the gateway is asked only every SPARSE_POLL_MS until then, and then every FINAL_POLL_MS,
 * so the drain time is exact to ~50 ms without a busy poll competing for the CPU.
 */
async function waitCompleted(
  gatewayUrl: string,
  jobId: string,
  standIn: OllamaStandIn,
  items: number,
): Promise<{ view: JobView; busySlots: number }> {
  const deadline = Date.now() + DRAIN_TIMEOUT_MS;
  let lastPoll = Date.now();
  // Slots held at the stand-in, sampled every 10 ms until the last call ends: their mean ÷ N is the GPU's busy share.
  let samples = 0;
  let held = 0;
  while (Date.now() < deadline) {
    const modelDone = standIn.stats.completed + standIn.stats.rejected >= items;
    if (!modelDone) {
      samples += 1;
      held += standIn.stats.inFlight;
    }
    if (modelDone || Date.now() - lastPoll >= SPARSE_POLL_MS) {
      lastPoll = Date.now();
      const view = await job(gatewayUrl, jobId);
      if (view.status === 'completed') return { view, busySlots: samples > 0 ? held / samples : Number.NaN };
    }
    await sleep(modelDone ? FINAL_POLL_MS : 10);
  }
  throw new Error(`job ${jobId} did not complete within ${DRAIN_TIMEOUT_MS / 1000} s`);
}

async function measure(gpu: { slots: number; serviceTimeMs: number }) {
  const { slots, serviceTimeMs } = gpu;
  const env = {
    ARGUS_TIERS: 'small',
    ARGUS_TIER_SMALL_CONCURRENCY: String(slots + TIER_EXTRA),
    ARGUS_CACHE_TTL_SECONDS: '0',
    ARGUS_JOB_CONCURRENCY: String(JOB_CONCURRENCY),
  };
  // The worker's in-flight limit as JobConsumer computes it: ARGUS_JOB_CONCURRENCY, or when 0 the sum of the task's
  // tier concurrencies, which includes the always-on cpu tier (so N + 1 here).
  const inFlightLimit =
    JOB_CONCURRENCY > 0
      ? JOB_CONCURRENCY
      : loadModelCatalog(env)
          .forTask(TASK)
          .reduce((sum, { spec }) => sum + spec.concurrency, 0);
  const standIn = await OllamaStandIn.start({
    models: [{ name: MODEL }],
    gpu: { slots, serviceTimeMs },
  });
  const stack = await startBenchStack({ OLLAMA_HOST: standIn.url, ...env });
  try {
    const warmup = await Promise.all(Array.from({ length: WARMUP_ITEMS }, () => distinctJpeg()));
    const photos = await Promise.all(Array.from({ length: ITEMS }, () => distinctJpeg()));
    await waitCompleted(
      stack.gatewayUrl,
      await submit(stack.gatewayUrl, warmup, 'warm'),
      standIn,
      WARMUP_ITEMS,
    );
    standIn.reset();

    const workerUrl = stack.workerUrls[WORKER];
    const timingsBefore = await workerTimings(workerUrl);
    const cpuBefore = cpuSnapshot(stack, STAND_IN_CPU);
    const started = performance.now();
    const jobId = await submit(stack.gatewayUrl, photos, 'item');
    const accepted = performance.now();
    // Workers pull while the gateway is still taking the job in, so some items are answered before the 202.
    const answeredAtAccept = standIn.stats.completed;
    const { view, busySlots } = await waitCompleted(stack.gatewayUrl, jobId, standIn, ITEMS);
    const completed = performance.now();
    const cpuAfter = cpuSnapshot(stack, STAND_IN_CPU);
    const timingsAfter = await workerTimings(workerUrl);

    const drainSeconds = (completed - accepted) / 1000;
    // The drain rate after the 202: the items still to answer at the 202 over the time it took, with no intake
    // competing for the CPU. ITEMS ÷ drain would count the items answered during the submit as drained for free.
    const throughput = (ITEMS - answeredAtAccept) / drainSeconds;
    const endToEnd = ITEMS / ((completed - started) / 1000);
    const ideal = slots / (serviceTimeMs / 1000);
    const chats = standIn.chats;
    const firstCall = Math.min(...chats.map((chat) => chat.receivedAt.getTime()));
    const lastCall = Math.max(...chats.map((chat) => chat.receivedAt.getTime()));
    // From the first call's arrival to the last call's answer: the rate while the model was being fed.
    const modelWindowSeconds = (lastCall + serviceTimeMs - firstCall) / 1000;
    const cpuMsPerItem = cpuMsPer(cpuAfter, cpuBefore, ITEMS);
    const cpuTotalSeconds = Object.entries(cpuAfter).reduce(
      (sum, [name, seconds]) => sum + seconds - (cpuBefore[name] ?? 0),
      0,
    );
    const workerCpuMs = cpuMsPerItem[WORKER] ?? Number.NaN;
    return {
      slots,
      serviceTimeMs,
      items: ITEMS,
      imageSide: SIDE,
      task: TASK,
      workerInFlightLimit: inFlightLimit,
      tierConcurrency: slots + TIER_EXTRA,
      submitMs: round(accepted - started, 0),
      drainSeconds: round(drainSeconds, 2),
      throughputPerSecond: round(throughput, 2),
      idealPerSecond: round(ideal, 2),
      ratio: round(throughput / ideal, 3),
      answeredBeforeAccept: answeredAtAccept,
      itemsOverDrainPerSecond: round(ITEMS / drainSeconds, 2),
      endToEndPerSecond: round(endToEnd, 2),
      endToEndRatio: round(endToEnd / ideal, 3),
      modelWindowThroughputPerSecond: round(chats.length / modelWindowSeconds, 2),
      meanSlotsBusyAfterAccept: round(busySlots, 2),
      maxConcurrentCalls: standIn.maxConcurrent,
      standInCalls: chats.length,
      standInRejected: standIn.rejected,
      counts: view.counts,
      // Little's law: each of the worker's in-flight slots turns over once per this many ms.
      itemCycleMs: round((inFlightLimit * 1000) / throughput, 1),
      workerMeanMs: {
        pipeline: round(meanMs(timingsAfter, timingsBefore, 'image'), 1),
        fetchImage: round(meanMs(timingsAfter, timingsBefore, 'fetch'), 1),
        inference: round(meanMs(timingsAfter, timingsBefore, 'inference'), 1),
      },
      cpuMsPerItem,
      workerCpuBudgetMsPerItem: round(serviceTimeMs / slots, 1),
      workerCpuBound: workerCpuMs > serviceTimeMs / slots,
      machineCpuUtilisation: round(cpuTotalSeconds / ((completed - started) / 1000), 2),
      loadAverage: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '),
    };
  } finally {
    await stack.stop();
    await standIn.stop();
  }
}

async function main(): Promise<void> {
  const benchStarted = Date.now();
  const rows: Array<Awaited<ReturnType<typeof measure>>> = [];
  for (const gpu of GPUS) {
    // Skip a further row that would push the run past the budget: it costs about ITEMS ÷ (N/T) seconds plus a start.
    const expectedMs = (ITEMS / (gpu.slots / (gpu.serviceTimeMs / 1000))) * 1000 * 1.5 + 20_000;
    if (rows.length > 0 && Date.now() - benchStarted + expectedMs > TOTAL_BUDGET_MS) {
      process.stdout.write(`skipping ${gpu.slots} × ${gpu.serviceTimeMs} ms: over the time budget\n`);
      continue;
    }
    rows.push(await measure(gpu));
  }
  printTable(
    `Batch throughput: one job of ${ITEMS} distinct ${SIDE}×${SIDE} JPEGs (${TASK}, small tier pinned, cache off) ÷ the emulated GPU capacity N/T`,
    [
      'GPU (N slots × T)',
      'submit ms',
      'answered before 202',
      'drain s',
      'items/s after 202',
      'ideal N/T',
      'ratio',
      'end-to-end items/s (ratio)',
      'slots busy after 202',
      'max concurrent calls',
      'model calls',
      'worker in-flight',
      'worker CPU ms/item (T/N)',
      'load avg 1/5/15 min',
    ],
    rows.map((row) => [
      `${row.slots} × ${row.serviceTimeMs} ms`,
      row.submitMs,
      row.answeredBeforeAccept,
      row.drainSeconds,
      row.throughputPerSecond,
      row.idealPerSecond,
      `${round(row.ratio * 100, 1)}%`,
      `${row.endToEndPerSecond} (${round(row.endToEndRatio * 100, 1)}%)`,
      `${row.meanSlotsBusyAfterAccept} of ${row.slots}`,
      row.maxConcurrentCalls,
      row.standInRejected > 0 ? `${row.standInCalls} (${row.standInRejected} × 503)` : row.standInCalls,
      row.workerInFlightLimit,
      `${row.cpuMsPerItem[WORKER] ?? 'n/a'} (${row.workerCpuBudgetMsPerItem})`,
      row.loadAverage,
    ]),
  );
  for (const row of rows) {
    process.stdout.write(
      `\n${row.slots} × ${row.serviceTimeMs} ms: item cycle ${row.itemCycleMs} ms per in-flight slot; worker means ` +
        `pipeline ${row.workerMeanMs.pipeline} ms (fetch ${row.workerMeanMs.fetchImage}, inference ` +
        `${row.workerMeanMs.inference}); CPU ms/item ${JSON.stringify(row.cpuMsPerItem)}; machine CPU ` +
        `${row.machineCpuUtilisation} cores busy; counts ${JSON.stringify(row.counts)}\n`,
    );
  }
  writeResults('batch', { rows });
}

runBench(main);
