// P1, what Argus adds on top of the model: latency of one image through the whole stack (gateway → object store →
// NATS → worker → Ollama stand-in with zero service time) next to a direct `ollama` client call to the same stand-in,
// both driven open-loop at a fixed rate (BENCH_RATE, default 100 images/s) for BENCH_OVERHEAD_SECONDS (default 10),
// latency counted from each request's due time. The ADDED latency at p50 and p99 is the stack's percentile minus the
// direct call's. A closed-loop (one request at a time) reading of both paths follows as the floor without queueing,
// with the services' own stage timings and CPU per request, which say where the added time goes.
//
// Both paths run in this one run on this machine; the differences are what to read, not the absolute numbers.
// BENCH_CPU_PROF=<dir> profiles every service (PROFILE_PRELOAD below) into <dir>, written when they stop.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { Ollama } from 'ollama';
import sharp from 'sharp';
import { modelOutputJsonSchema } from '@argus/contracts';
import { ImageProcessor } from '@argus/imaging';
import { loadModelCatalog } from '@argus/inference';
import { MODERATION_PROMPT } from '@argus/task-moderation';
import { multipartBody, photoJpeg, uniquePhotoJpeg } from '../test/support/fixtures';
import { OllamaStandIn } from '../test/support/ollama-stand-in';
import {
  FLOOR_SHAPES,
  measurePipelineFloor,
  type FloorReading,
  type FloorShape,
} from './floor/pipeline-floor';
import {
  cpuByThreadGroup,
  cpuMsPer,
  cpuSnapshot,
  fixedRate,
  loadAverage,
  percentile,
  printTable,
  round,
  runBench,
  stackPids,
  stageMeansMs,
  stageTimings,
  startBenchStack,
  time,
  writeResults,
  type Sample,
  type SummaryRow,
} from './bench-support';

const RATE = Number(process.env.BENCH_RATE ?? 100);
/** A second open-loop reading at a rate this 2-core machine can carry, to separate queueing from per-request cost. */
const LOW_RATE = Number(process.env.BENCH_LOW_RATE ?? 10);
const SECONDS = Number(process.env.BENCH_OVERHEAD_SECONDS ?? 10);
const SEQUENTIAL = Number(process.env.BENCH_ITERATIONS ?? 100);
const WIDTH = 640;
const HEIGHT = 480;
const WARMUP = 30;
const MODEL = 'qwen2.5vl:3b';
const TARGET_P50_MS = 3;
const TARGET_P99_MS = 15;
/** Distinct uploads for the CPU reading, and Argus requests before it so that every service's JIT is warm. */
const CPU_IMAGES = Number(process.env.BENCH_CPU_IMAGES ?? 200);
const CPU_WARMUP = Number(process.env.BENCH_CPU_WARMUP ?? 300);
/** Issue 18: the stack's CPU per request at most this many times the bare image work for the same uploads. */
const TARGET_CPU_RATIO = 1.3;
const REQUEST_PATH = ['gateway', 'moderation', 'nats'];

/**
 * The image work no implementation can skip for one upload, done with sharp alone: one full decode to prove the upload
 * whole (the gateway), one decode → resize to the model's input → JPEG (the worker), and that JPEG's base64 for
 * Ollama's JSON. CPU milliseconds of this process per image, every thread counted (libvips works off the main one).
 */
async function bareImageWorkCpuMs(
  photos: Buffer[],
  size: { width: number; height: number },
): Promise<number> {
  const once = async (photo: Buffer) => {
    await sharp(photo).raw().toBuffer();
    const input = await sharp(photo)
      .resize(size.width, size.height, { fit: 'fill' })
      .jpeg({ quality: 90 })
      .toBuffer();
    return input.toString('base64').length;
  };
  for (const photo of photos.slice(0, 20)) await once(photo);
  const before = process.cpuUsage();
  for (const photo of photos) await once(photo);
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000 / photos.length;
}

/**
 * Loaded into every service with NODE_OPTIONS="--require …" (Node refuses --cpu-prof in NODE_OPTIONS): profiles the
 * whole life of the process through the inspector and writes <dir>/<service>-<pid>.cpuprofile when it exits (open it
 * in Chrome DevTools or speedscope). Written out at run time, so it needs no build and no lint exception.
 */
const PROFILE_PRELOAD = `'use strict';
const { Session } = require('node:inspector');
const { writeFileSync } = require('node:fs');
const { join } = require('node:path');

const dir = process.env.BENCH_CPU_PROF;
if (dir) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 500 });
  session.post('Profiler.start');
  let written = false;
  const write = () => {
    if (written) return;
    written = true;
    // The main-thread session answers synchronously, so the profile is written before the process ends.
    session.post('Profiler.stop', (error, result) => {
      if (error || !result) return;
      const name = (process.env.ARGUS_SERVICE ?? 'node').replace(/^argus-/, '');
      writeFileSync(join(dir, \`\${name}-\${process.pid}.cpuprofile\`), JSON.stringify(result.profile));
    });
  };
  process.once('exit', write);
  // A SIGTERM with no handler of the service's own ends the process without an exit event: write first, then let
  // the signal do what it would have done.
  const onTerm = () => {
    write();
    if (process.listenerCount('SIGTERM') === 0) process.kill(process.pid, 'SIGTERM');
  };
  process.once('SIGTERM', onTerm);
}
`;

function stats(samples: Sample[]) {
  const latencies = samples.map((s) => s.latencyMs);
  return {
    count: samples.length,
    failed: samples.filter((s) => !s.ok).length,
    p50Ms: round(percentile(latencies, 50)),
    p90Ms: round(percentile(latencies, 90)),
    p99Ms: round(percentile(latencies, 99)),
    maxMs: round(Math.max(...latencies)),
  };
}

function profilePreload(dir: string): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'argus-cpu-profile.cjs');
  writeFileSync(path, PROFILE_PRELOAD);
  return path;
}

async function main(): Promise<void> {
  const ollama = await OllamaStandIn.start({ models: [{ name: MODEL }] });
  const profileDir = process.env.BENCH_CPU_PROF;
  const stack = await startBenchStack({
    OLLAMA_HOST: ollama.url,
    ARGUS_TIERS: 'small',
    ARGUS_CACHE_TTL_SECONDS: '0',
    ...(profileDir
      ? { NODE_OPTIONS: `--require ${profilePreload(profileDir)}`, BENCH_CPU_PROF: profileDir }
      : {}),
  });

  try {
    // The direct call sends the very same bytes the worker sends (the small tier's moderation input rule: qwen2.5vl
    // rounds 640×480 to 644×476, one resize in the worker), so the difference is Argus alone.
    const photo = await photoJpeg(WIDTH, HEIGHT);
    const normalised = await new ImageProcessor().normalise(photo, {
      maxBytes: 25 * 2 ** 20,
      maxPixels: 40_000_000,
      maxLongSide: 2048,
    });
    const { input } = loadModelCatalog({ ARGUS_TIERS: 'small' }).tiers.small.tasks.moderation;
    const modelInput = await new ImageProcessor().resizeForModel(normalised.data, input);
    const imageBase64 = modelInput.data.toString('base64');
    const client = new Ollama({ host: ollama.url });
    const prompt = MODERATION_PROMPT;
    const format = modelOutputJsonSchema('moderation');
    const direct = async () => {
      const stream = await client.chat({
        model: MODEL,
        stream: true,
        format,
        options: { temperature: 0 },
        messages: [
          { role: 'system', content: prompt.system },
          { role: 'user', content: prompt.user, images: [imageBase64] },
        ],
      });
      let content = '';
      for await (const part of stream) content += part.message.content;
      if (!content) throw new Error('empty answer');
    };
    let statuses: Record<string, number> = {};
    const viaArgus = async () => {
      const response = await fetch(`${stack.gatewayUrl}/v1/analyze`, {
        method: 'POST',
        body: multipartBody(photo, { tasks: 'moderation', tier: 'small' }),
      });
      const body = (await response.json()) as {
        code?: string;
        results?: { moderation?: { status?: string; error?: { code?: string } } };
      };
      const moderation = body.results?.moderation;
      const outcome =
        response.status !== 200
          ? `HTTP ${response.status} ${body.code ?? ''}`.trim()
          : moderation?.status === 'ok'
            ? 'ok'
            : (moderation?.error?.code ?? 'error');
      statuses[outcome] = (statuses[outcome] ?? 0) + 1;
      if (outcome !== 'ok') throw new Error(`gateway answered ${outcome}`);
    };

    await time(WARMUP, direct);
    await time(WARMUP, viaArgus);

    // CPU per request first, while nothing else has run: after the overloaded open-loop phase below, the services are
    // still finishing refused and timed-out work and collecting its garbage, which inflated this reading by about a
    // third when it was taken last (issue 18). Distinct uploads, one at a time, as a real client sends them.
    const cpuPhotos = await Promise.all(
      Array.from({ length: CPU_IMAGES + CPU_WARMUP }, () => uniquePhotoJpeg(WIDTH, HEIGHT)),
    );
    const upload = (photo: Buffer) => async () => {
      const response = await fetch(`${stack.gatewayUrl}/v1/analyze`, {
        method: 'POST',
        body: multipartBody(photo, { tasks: 'moderation', tier: 'small' }),
      });
      const body = (await response.json()) as { results?: { moderation?: { status?: string } } };
      if (response.status !== 200 || body.results?.moderation?.status !== 'ok')
        throw new Error(`gateway answered ${response.status}: ${JSON.stringify(body).slice(0, 300)}`);
    };
    for (const photo of cpuPhotos.slice(CPU_IMAGES)) await upload(photo)();
    const measured = cpuPhotos.slice(0, CPU_IMAGES);
    const pids = stackPids(stack);
    const threadsBefore: Partial<Record<string, Partial<Record<string, number>>>> = Object.fromEntries(
      Object.entries(pids).map(([name, pid]) => [name, cpuByThreadGroup(pid)]),
    );
    const cpuPhaseBefore = cpuSnapshot(stack);
    for (const photo of measured) await upload(photo)();
    const cpuPhaseAfter = cpuSnapshot(stack);
    const threadsPerRequest = Object.fromEntries(
      Object.entries(pids).map(([name, pid]) => {
        const after = cpuByThreadGroup(pid);
        return [
          name,
          Object.fromEntries(
            Object.entries(after).map(([group, ms]) => [
              group,
              round((ms - (threadsBefore[name]?.[group] ?? 0)) / CPU_IMAGES, 2),
            ]),
          ),
        ];
      }),
    );
    const stackCpu = cpuMsPer(cpuPhaseAfter, cpuPhaseBefore, CPU_IMAGES);
    const sumOf = (names: string[]) =>
      round(
        names.reduce((sum, name) => sum + (stackCpu[name] ?? 0), 0),
        1,
      );
    const requestPathCpuMs = sumOf(REQUEST_PATH);
    const wholeStackCpuMs = sumOf(Object.keys(stackCpu).filter((name) => !name.startsWith('bench')));
    const bareCpuMs = round(await bareImageWorkCpuMs(measured, modelInput), 1);
    const cpuRatio = round(wholeStackCpuMs / bareCpuMs, 2);
    const requestPathRatio = round(requestPathCpuMs / bareCpuMs, 2);
    // The same uploads through the least pipeline of Argus's shape, so the ratio can be read against what the shape
    // itself costs (bench/floor/pipeline-floor.ts).
    const floors = {} as Record<FloorShape, FloorReading>;
    for (const shape of FLOOR_SHAPES) {
      floors[shape] = await measurePipelineFloor({
        shape,
        ollamaUrl: ollama.url,
        model: MODEL,
        modelSize: modelInput,
        warmup: cpuPhotos.slice(CPU_IMAGES),
        measured,
      });
    }
    const floorRatio = (shape: FloorShape) => round(floors[shape].totalCpuMs / bareCpuMs, 2);
    const argusOverFloor = round(wholeStackCpuMs / floors['worker-resize'].totalCpuMs, 2);

    const count = Math.round(RATE * SECONDS);

    // Open loop at the fixed rate.
    const directRun = await fixedRate(RATE, count, direct);
    const load = loadAverage();
    const cpuBefore = cpuSnapshot(stack);
    const argusRun = await fixedRate(RATE, count, viaArgus);
    const cpuAfter = cpuSnapshot(stack);
    const machineCores = Object.entries(cpuAfter).reduce(
      (sum, [name, seconds]) => sum + seconds - (cpuBefore[name] ?? 0),
      0,
    );
    const directStats = stats(directRun.samples);
    const argusStats = stats(argusRun.samples);
    const outcomesAtRate = statuses;
    statuses = {};

    // The same at a rate the machine can carry.
    const lowCount = Math.round(LOW_RATE * SECONDS);
    const lowDirect = stats((await fixedRate(LOW_RATE, lowCount, direct)).samples);
    const lowArgus = stats((await fixedRate(LOW_RATE, lowCount, viaArgus)).samples);
    const lowAddedP50 = round(lowArgus.p50Ms - lowDirect.p50Ms);
    const lowAddedP99 = round(lowArgus.p99Ms - lowDirect.p99Ms);

    // Closed loop (one at a time): the added time without any queueing, and where it goes.
    const gatewayBefore = await stageTimings(stack.gatewayUrl);
    const workerBefore = await stageTimings(stack.workerUrls.moderation);
    const seqArgus = await time(SEQUENTIAL, viaArgus);
    const gatewayMeans = stageMeansMs(await stageTimings(stack.gatewayUrl), gatewayBefore);
    const workerMeans = stageMeansMs(await stageTimings(stack.workerUrls.moderation), workerBefore);
    const seqDirect = await time(SEQUENTIAL, direct);

    const addedP50 = round(argusStats.p50Ms - directStats.p50Ms);
    const addedP99 = round(argusStats.p99Ms - directStats.p99Ms);
    const seqAddedP50 = round(percentile(seqArgus, 50) - percentile(seqDirect, 50));
    const seqAddedP99 = round(percentile(seqArgus, 99) - percentile(seqDirect, 99));
    printTable(
      `P1 Argus overhead against a zero-latency Ollama stand-in: ${RATE} images/s open loop for ${SECONDS} s ` +
        `(${count} requests each), ${WIDTH}×${HEIGHT} JPEG, moderation only, small tier pinned, cache off; load ${load}`,
      ['path', 'achieved rate /s', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'failed'],
      [
        [
          'direct ollama client call (same image bytes, streamed)',
          round(directRun.achievedRate, 1),
          directStats.p50Ms,
          directStats.p90Ms,
          directStats.p99Ms,
          directStats.maxMs,
          directStats.failed,
        ],
        [
          'via Argus: multipart upload → gateway → NATS → worker → stand-in',
          round(argusRun.achievedRate, 1),
          argusStats.p50Ms,
          argusStats.p90Ms,
          argusStats.p99Ms,
          argusStats.maxMs,
          argusStats.failed,
        ],
        ['added by Argus', '', addedP50, '', addedP99, '', ''],
        [
          `direct at ${LOW_RATE}/s`,
          LOW_RATE,
          lowDirect.p50Ms,
          lowDirect.p90Ms,
          lowDirect.p99Ms,
          lowDirect.maxMs,
          lowDirect.failed,
        ],
        [
          `via Argus at ${LOW_RATE}/s`,
          LOW_RATE,
          lowArgus.p50Ms,
          lowArgus.p90Ms,
          lowArgus.p99Ms,
          lowArgus.maxMs,
          lowArgus.failed,
        ],
        [`added by Argus at ${LOW_RATE}/s`, '', lowAddedP50, '', lowAddedP99, '', ''],
      ],
    );
    process.stdout.write(`\noutcomes via Argus at ${RATE}/s: ${JSON.stringify(outcomesAtRate)}\n`);
    printTable(
      `P1c CPU per request: ${CPU_IMAGES} distinct ${WIDTH}×${HEIGHT} JPEGs one at a time through the stack ` +
        `(after ${CPU_WARMUP} to warm it), against the bare image work for the same uploads`,
      ['process', 'CPU ms per request', 'by thread: main / libvips / other'],
      [
        ...Object.entries(stackCpu)
          .filter(([name]) => !name.startsWith('bench'))
          .map(([name, ms]) => {
            const threads = threadsPerRequest[name] ?? {};
            return [name, ms, ['main', 'libvips', 'other'].map((group) => threads[group] ?? 0).join(' / ')];
          }),
        ['request path (gateway + moderation worker + nats-server)', requestPathCpuMs, ''],
        ['whole stack (with the idle tagging, ocr and describe workers)', wholeStackCpuMs, ''],
        ['bare sharp: decode + decode → resize → JPEG + base64', bareCpuMs, ''],
        ['ratio: whole stack ÷ bare sharp', `${cpuRatio}×`, `request path ${requestPathRatio}×`],
        ...FLOOR_SHAPES.map((shape) => [
          `floor, ${shape}: least pipeline of this shape (gateway / worker / nats-server), ÷ bare sharp`,
          `${floors[shape].totalCpuMs} = ${floorRatio(shape)}×`,
          [
            floors[shape].byProcess.gateway,
            floors[shape].byProcess.worker,
            floors[shape].byProcess.nats ?? 'n/a',
          ].join(' / '),
        ]),
        ['Argus whole stack ÷ floor (worker-resize, its own shape)', `${argusOverFloor}×`, ''],
      ],
    );
    printTable(
      `P1 closed loop (${SEQUENTIAL} requests one at a time, no queueing)`,
      ['path', 'p50 ms', 'p99 ms'],
      [
        ['direct', round(percentile(seqDirect, 50)), round(percentile(seqDirect, 99))],
        ['via Argus', round(percentile(seqArgus, 50)), round(percentile(seqArgus, 99))],
        ['added by Argus', seqAddedP50, seqAddedP99],
      ],
    );
    process.stdout.write(
      `\nmean stage ms, gateway ${JSON.stringify(gatewayMeans)}; moderation worker ${JSON.stringify(workerMeans)}\n` +
        `${wholeStackCpuMs} CPU ms per request in the stack (P1c) → ` +
        `${round((wholeStackCpuMs * RATE) / 1000, 2)} cores at ${RATE}/s; cores busy during the open-loop run ` +
        `${round(machineCores / argusRun.seconds, 2)}\n`,
    );

    const pass = addedP50 <= TARGET_P50_MS && addedP99 <= TARGET_P99_MS;
    const summary: SummaryRow[] = [
      {
        id: 'P1c',
        name: `CPU per request (${CPU_IMAGES} distinct ${WIDTH}×${HEIGHT} JPEGs, moderation, small tier): whole stack ÷ bare sharp work`,
        measured: `${cpuRatio}× (${wholeStackCpuMs} vs ${bareCpuMs} ms)`,
        value: cpuRatio,
        target: `≤ ${TARGET_CPU_RATIO}×`,
        pass: cpuRatio <= TARGET_CPU_RATIO,
        load,
        note:
          `request path (gateway + moderation + nats-server) ${requestPathCpuMs} ms = ${requestPathRatio}×; ` +
          `by process ${JSON.stringify(stackCpu)}`,
      },
      {
        id: 'P1f',
        name: `(for comparison) the same uploads through the least pipeline of Argus's shape (bench/floor): floor ÷ bare sharp work`,
        measured: `${floorRatio('worker-resize')}× (${floors['worker-resize'].totalCpuMs} vs ${bareCpuMs} ms)`,
        value: floorRatio('worker-resize'),
        target: `≤ ${TARGET_CPU_RATIO}×`,
        load,
        note:
          `Argus ÷ floor ${argusOverFloor}×; floor by process ${JSON.stringify(floors['worker-resize'].byProcess)}; ` +
          `with the model input made at the gateway and sent inline ${floors['gateway-resize'].totalCpuMs} ms = ` +
          `${floorRatio('gateway-resize')}× (${JSON.stringify(floors['gateway-resize'].byProcess)})`,
      },
      {
        id: 'P1',
        name: `overhead at ${RATE} img/s: p50 / p99 added (via Argus − direct)`,
        measured: `${addedP50} / ${addedP99} ms`,
        value: addedP50,
        target: `≤ ${TARGET_P50_MS} / ≤ ${TARGET_P99_MS} ms`,
        pass,
        load,
        note:
          `${argusStats.failed} of ${count} failed (${JSON.stringify(outcomesAtRate)}); at ${LOW_RATE}/s ` +
          `${lowAddedP50} / ${lowAddedP99} ms; closed loop ${seqAddedP50} / ${seqAddedP99} ms; ${wholeStackCpuMs} CPU ms per request in the stack ` +
          `(P1c; ${round((wholeStackCpuMs * RATE) / 1000, 2)} cores at ${RATE}/s on ${cpus().length} cores)`,
      },
    ];
    // The raw latencies (rounded to 0.01 ms) feed bench/results/latency.svg.
    const latencies = (samples: Sample[] | number[]) =>
      samples.map((s) => round(typeof s === 'number' ? s : s.latencyMs));
    writeResults('overhead', {
      rate: RATE,
      seconds: SECONDS,
      requests: count,
      image: `${WIDTH}×${HEIGHT} JPEG`,
      openLoop: {
        direct: { ...directStats, achievedRate: directRun.achievedRate, maxBehindMs: directRun.maxBehindMs },
        viaArgus: { ...argusStats, achievedRate: argusRun.achievedRate, maxBehindMs: argusRun.maxBehindMs },
        addedP50Ms: addedP50,
        addedP99Ms: addedP99,
        coresBusy: round(machineCores / argusRun.seconds, 2),
        outcomes: outcomesAtRate,
      },
      lowRate: {
        rate: LOW_RATE,
        direct: lowDirect,
        viaArgus: lowArgus,
        addedP50Ms: lowAddedP50,
        addedP99Ms: lowAddedP99,
      },
      closedLoop: {
        directP50Ms: round(percentile(seqDirect, 50)),
        directP99Ms: round(percentile(seqDirect, 99)),
        viaArgusP50Ms: round(percentile(seqArgus, 50)),
        viaArgusP99Ms: round(percentile(seqArgus, 99)),
        addedP50Ms: seqAddedP50,
        addedP99Ms: seqAddedP99,
        gatewayStageMeansMs: gatewayMeans,
        workerStageMeansMs: workerMeans,
      },
      cpuPerRequest: {
        images: CPU_IMAGES,
        warmup: CPU_WARMUP,
        byProcessMs: stackCpu,
        byThreadGroupMs: threadsPerRequest,
        requestPathMs: requestPathCpuMs,
        wholeStackMs: wholeStackCpuMs,
        bareSharpMs: bareCpuMs,
        ratio: cpuRatio,
        requestPathRatio,
        floors,
        argusOverFloor,
      },
      loadAverage: load,
      summary,
      samples: {
        direct: latencies(directRun.samples),
        viaArgus: latencies(argusRun.samples),
        directClosedLoop: latencies(seqDirect),
        viaArgusClosedLoop: latencies(seqArgus),
      },
    });
  } finally {
    await stack.stop();
    await ollama.stop();
  }
}

runBench(main);
