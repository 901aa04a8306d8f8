// P6, memory: RSS of every process of the stack (VmRSS from /proc/<pid>/status) before, during and after
// BENCH_MEMORY_IMAGES (default 10,000) small images through POST /v1/analyze, with the result cache off and a
// zero-latency Ollama stand-in (the cheapest path that still exercises the gateway, NATS with its object store, and
// all three workers: the task rotates moderation → tagging → ocr, one per request). The run stops early at
// BENCH_MEMORY_SECONDS (default 720) so the whole `npm run bench` stays bounded. A leak shows as a slope in the
// second half of the run, once caches, JIT and pools have warmed: the target is under 16 MiB of growth per Argus
// service (gateway and workers) from the half-way point to the end (about 3 KiB per image at 10,000 images would
// already exceed it). RSS follows V8's heap sawtooth (it grows until a major GC and is not always returned), so each
// service's V8 heap in use (nodejs_heap_size_used_bytes from its /metrics) is sampled too: its floor (the lowest
// reading, i.e. after a GC) in the first and in the last fifth of the run is the leak test that GC timing cannot fake.
// The row passes when every service's heap floor grows by < 16 MiB. nats-server is reported but not judged: it holds
// every stored image for ARGUS_IMAGE_TTL_SECONDS (an hour by default), so its memory grows with the images by design.
import { photoJpeg } from '../test/support/fixtures';
import { OllamaStandIn } from '../test/support/ollama-stand-in';
import {
  loadAverage,
  printTable,
  round,
  rssKiB,
  runBench,
  stackPids,
  startBenchStack,
  writeResults,
  type SummaryRow,
} from './bench-support';

const IMAGES = Number(process.env.BENCH_MEMORY_IMAGES ?? 10_000);
// 10,000 images at ~16/s on 2 cores (tagging measures every listing photo on the CPU, ~260 ms each) take ~10 min.
const BUDGET_MS = Number(process.env.BENCH_MEMORY_SECONDS ?? 720) * 1000;
const CLIENTS = 6;
const SIDE = 64;
const POOL = 200;
const WARMUP = 300;
const SAMPLE_MS = 1000;
const IDLE_AFTER_MS = 10_000;
const TARGET_GROWTH_MIB = 16;
const TASKS = ['moderation', 'tagging', 'ocr'] as const;
const MODEL = 'qwen2.5vl:3b';

interface Reading {
  atMs: number;
  done: number;
  rssMiB: Record<string, number>;
}

interface HeapReading {
  done: number;
  heapMiB: Record<string, number>;
}

/** V8 heap in use (MiB) from a service's Prometheus text; undefined when it cannot be read. */
async function heapUsedMiB(url: string): Promise<number | undefined> {
  try {
    const text = await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(2000) })).text();
    const match = /^nodejs_heap_size_used_bytes(?:\{[^}]*\})? (\S+)/m.exec(text);
    return match ? round(Number(match[1]) / 2 ** 20, 1) : undefined;
  } catch {
    return undefined;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function main(): Promise<void> {
  const standIn = await OllamaStandIn.start({ models: [{ name: MODEL }] });
  const stack = await startBenchStack({
    OLLAMA_HOST: standIn.url,
    ARGUS_TIERS: 'small',
    ARGUS_CACHE_TTL_SECONDS: '0',
    // P6 is about memory over many images: six clients share the small tier's slots across three tasks, and with
    // the shipped 250 ms slot wait a fifth of them were refused with 503 UPSTREAM_BUSY (designed back-pressure, but
    // then the run never reaches its 10,000 images). Here they wait for a slot instead.
    ARGUS_SLOT_WAIT_MS: '30000',
  });
  const readings: Reading[] = [];
  const heapReadings: HeapReading[] = [];
  const serviceUrls: Record<string, string> = { gateway: stack.gatewayUrl, ...stack.workerUrls };
  const readHeap = async () => {
    const at = done;
    const entries = await Promise.all(
      Object.entries(serviceUrls).map(async ([name, url]) => [name, await heapUsedMiB(url)] as const),
    );
    const heapMiB: Record<string, number> = {};
    for (const [name, mib] of entries) if (mib !== undefined) heapMiB[name] = mib;
    heapReadings.push({ done: at, heapMiB });
  };
  const started = performance.now();
  let done = 0;
  let failed = 0;
  let failures: Record<string, number> = {};
  const read = (): Reading => {
    const rssMiB: Record<string, number> = {};
    for (const [name, pid] of Object.entries(stackPids(stack))) {
      const kib = rssKiB(pid);
      if (kib !== undefined) rssMiB[name] = round(kib / 1024, 1);
    }
    rssMiB['bench (driver + stand-in)'] = round(process.memoryUsage.rss() / 2 ** 20, 1);
    return { atMs: Math.round(performance.now() - started), done, rssMiB };
  };
  try {
    const pool = await Promise.all(
      Array.from({ length: POOL }, (_, i) =>
        photoJpeg(SIDE, SIDE, { r: 200, g: i % 256, b: (i * 37) % 256 }),
      ),
    );
    const send = async (index: number) => {
      const form = new FormData();
      form.append('tasks', TASKS[index % TASKS.length]);
      form.append('tier', 'small');
      form.append('image', new Blob([new Uint8Array(pool[index % POOL])], { type: 'image/jpeg' }), 'p.jpg');
      const response = await fetch(`${stack.gatewayUrl}/v1/analyze`, { method: 'POST', body: form });
      const body = (await response.json().catch(() => ({}))) as { code?: string };
      if (response.status !== 200) {
        failed += 1;
        const reason = `${response.status} ${body.code ?? ''}`.trim();
        failures[reason] = (failures[reason] ?? 0) + 1;
      }
    };
    const drive = async (count: number, deadline: number) => {
      let next = 0;
      await Promise.all(
        Array.from({ length: CLIENTS }, async () => {
          while (next < count && performance.now() < deadline) {
            const index = next++;
            await send(index);
            done += 1;
          }
        }),
      );
    };

    await drive(WARMUP, Number.POSITIVE_INFINITY);
    await sleep(2000);
    done = 0;
    failed = 0;
    failures = {};
    standIn.reset();
    const before = read();
    readings.push(before);
    const sampler = setInterval(() => {
      readings.push(read());
      void readHeap();
    }, SAMPLE_MS);
    const runStarted = performance.now();
    await drive(IMAGES, runStarted + BUDGET_MS).finally(() => {
      clearInterval(sampler);
    });
    const runSeconds = (performance.now() - runStarted) / 1000;
    const end = read();
    readings.push(end);
    const loadDuring = loadAverage();
    await sleep(IDLE_AFTER_MS);
    const after = read();

    const names = Object.keys(before.rssMiB);
    const half = readings.find((r) => r.done >= done / 2) ?? before;
    const peak = (name: string) => Math.max(...readings.map((r) => r.rssMiB[name] ?? 0));
    const growth = Object.fromEntries(
      names.map((name) => [name, round((end.rssMiB[name] ?? 0) - (half.rssMiB[name] ?? 0), 1)]),
    );
    // Least-squares slope of RSS against images done over the second half, in KiB per 1000 images.
    const slope = (name: string) => {
      const points = readings.filter((r) => r.done >= done / 2 && name in r.rssMiB);
      if (points.length < 3) return Number.NaN;
      const mx = points.reduce((s, p) => s + p.done, 0) / points.length;
      const my = points.reduce((s, p) => s + p.rssMiB[name], 0) / points.length;
      const num = points.reduce((s, p) => s + (p.done - mx) * (p.rssMiB[name] - my), 0);
      const den = points.reduce((s, p) => s + (p.done - mx) ** 2, 0);
      return den > 0 ? round((num / den) * 1024 * 1000, 0) : Number.NaN;
    };
    // Ten points along the run: the line that should be flat.
    const line = (name: string) =>
      Array.from({ length: 11 }, (_, i) => {
        const target = (done * i) / 10;
        return (readings.find((r) => r.done >= target) ?? end).rssMiB[name] ?? Number.NaN;
      })
        .map((mib) => Math.round(mib))
        .join(' ');
    printTable(
      `P6 RSS per process (MiB): ${done} of ${IMAGES} ${SIDE}×${SIDE} JPEGs in ${round(runSeconds, 1)} s ` +
        `(${round(done / runSeconds, 1)}/s, ${CLIENTS} clients, one task each rotating ${TASKS.join('/')}, cache off, ` +
        `stand-in), ${failed} failed${failed > 0 ? ` ${JSON.stringify(failures)}` : ''}; load ${loadDuring}`,
      [
        'process',
        'before',
        'peak during',
        'end',
        `after ${IDLE_AFTER_MS / 1000} s idle`,
        'growth 2nd half',
        'slope KiB / 1000 img (2nd half)',
        'RSS at 0, 10 … 100% of the run',
      ],
      names.map((name) => [
        name,
        before.rssMiB[name] ?? '',
        peak(name),
        end.rssMiB[name] ?? '',
        after.rssMiB[name] ?? '',
        growth[name],
        slope(name),
        line(name),
      ]),
    );
    const services = names.filter((name) => !name.startsWith('bench') && name !== 'nats');
    // Heap floors: the lowest V8 heap-in-use reading in the first and in the last fifth of the run.
    const floor = (name: string, from: number, to: number) => {
      const values = heapReadings
        .filter((r) => r.done >= from && r.done <= to && name in r.heapMiB)
        .map((r) => r.heapMiB[name]);
      return values.length > 0 ? Math.min(...values) : Number.NaN;
    };
    const heap = Object.fromEntries(
      services.map((name) => {
        const first = floor(name, 0, done / 5);
        const last = floor(name, (done * 4) / 5, done);
        return [name, { firstFloorMiB: first, lastFloorMiB: last, growthMiB: round(last - first, 1) }];
      }),
    );
    printTable(
      'P6 V8 heap in use per service (MiB, nodejs_heap_size_used_bytes): the floor (lowest sample, after a GC) in the first and last fifth of the run',
      ['service', 'floor, first 20%', 'floor, last 20%', 'growth'],
      services.map((name) => [name, heap[name].firstFloorMiB, heap[name].lastFloorMiB, heap[name].growthMiB]),
    );
    const judged = services.filter((name) => Number.isFinite(heap[name].growthMiB));
    const worst = judged.reduce(
      (a, b) => (heap[a].growthMiB >= heap[b].growthMiB ? a : b),
      judged[0] ?? 'gateway',
    );
    const summary: SummaryRow[] = [
      {
        id: 'P6',
        name: `memory over ${done} images (cache off, stand-in): V8 heap floor growth per Argus service, first → last fifth`,
        measured:
          `max +${heap[worst].growthMiB} MiB heap (${worst}); RSS ` +
          services.map((n) => `${n} ${before.rssMiB[n]}→${end.rssMiB[n]}`).join(', ') +
          ' MiB',
        value: heap[worst].growthMiB,
        target: `flat: < ${TARGET_GROWTH_MIB} MiB per service, all ${IMAGES} images`,
        pass:
          judged.length === services.length &&
          judged.every((name) => heap[name].growthMiB < TARGET_GROWTH_MIB) &&
          done >= IMAGES,
        load: loadDuring,
        note:
          (done < IMAGES
            ? `stopped at the ${BUDGET_MS / 1000} s budget after ${done} images; `
            : `${round(done / runSeconds, 1)} images/s, ${failed} failed; `) +
          `RSS growth over the 2nd half ${JSON.stringify(growth)} MiB; ` +
          `nats-server ${before.rssMiB.nats}→${end.rssMiB.nats} MiB (keeps stored images for the image TTL)`,
      },
    ];
    writeResults('memory', {
      images: done,
      requested: IMAGES,
      seconds: runSeconds,
      failed,
      before,
      end,
      after,
      growthSecondHalfMiB: growth,
      heapFloorsMiB: heap,
      heapReadings,
      slopeKiBPer1000: Object.fromEntries(names.map((name) => [name, slope(name)])),
      loadAverage: loadDuring,
      readings,
      summary,
    });
  } finally {
    await stack.stop();
    await standIn.stop();
  }
}

runBench(main);
