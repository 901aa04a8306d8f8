// P2, saturation: throughput of the sync path (POST /v1/analyze) through the stack against two emulated GPUs (N
// parallel slots × T ms per image), as a ratio of the GPU's own capacity N/T; target ≥ 97%.
// P4, cache hit: a repeated request answered from the result cache, read three ways: (a) the gateway round trip a
// client sees (upload, hash, a cache-only NATS request, the worker's KV read, reply; no decode, no store, no image
// fetch), (b) the worker's own time for it (the reply's durationMs: KV lookup + reply), (c) the bare JetStream KV get
// of the cached answer from this process. Target ≤ 2 ms p50, judged on (a), the number a client gets.
import { connect } from 'nats';
import { multipartBody, photoJpeg, uniquePhotoJpeg } from '../test/support/fixtures';
import { OllamaStandIn } from '../test/support/ollama-stand-in';
import {
  loadAverage,
  percentile,
  printTable,
  round,
  runBench,
  startBenchStack,
  time,
  writeResults,
  type SummaryRow,
} from './bench-support';

// `extra` is the tier concurrency beyond the GPU's slots; the shipped default is one per Ollama replica, queued at
// Ollama (OLLAMA_MAX_QUEUE) as a real server queues it.
const TIERS = [
  { tier: 'small', model: 'qwen2.5vl:3b', slots: 2, serviceTimeMs: 250, requests: 120, extra: 1 },
  { tier: 'medium', model: 'qwen2.5vl:7b', slots: 4, serviceTimeMs: 500, requests: 120, extra: 1 },
  // For comparison, not the shipped default: the small GPU again (on the large tier's slot in the catalog) with the
  // tier held to exactly its slots, as before 2026-11-26. It shows what the gap between one answer and the next call
  // costs (see docs/performance.md).
  { tier: 'large', model: 'qwen2.5vl:72b', slots: 2, serviceTimeMs: 250, requests: 120, extra: 0 },
] as const;
const CACHE_ITERATIONS = 200;
const TARGET_SATURATION = 0.97;
const TARGET_CACHE_P50_MS = 2;
const RESULT_BUCKET = 'argus-results';

async function drive(
  gatewayUrl: string,
  tier: string,
  requests: number,
  concurrency: number,
  photos: Buffer[],
) {
  let next = 0;
  let failed = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < requests) {
        const photo = photos[next++];
        const response = await fetch(`${gatewayUrl}/v1/analyze`, {
          method: 'POST',
          body: multipartBody(photo, { tasks: 'moderation', tier }),
        });
        if (response.status !== 200) failed += 1;
        await response.arrayBuffer();
      }
    }),
  );
  return { seconds: (performance.now() - started) / 1000, failed };
}

async function main(): Promise<void> {
  const standIns = await Promise.all(
    TIERS.map((spec) =>
      OllamaStandIn.start({
        models: [{ name: spec.model }],
        gpu: { slots: spec.slots, serviceTimeMs: spec.serviceTimeMs },
      }),
    ),
  );
  const stack = await startBenchStack({
    OLLAMA_HOST: standIns[0].url,
    ARGUS_TIER_MEDIUM_URL: standIns[1].url,
    ARGUS_TIER_LARGE_URL: standIns[2].url,
    ARGUS_TIERS: 'small,medium,large',
    ARGUS_TIER_SMALL_CONCURRENCY: String(TIERS[0].slots + TIERS[0].extra),
    ARGUS_TIER_MEDIUM_CONCURRENCY: String(TIERS[1].slots + TIERS[1].extra),
    ARGUS_TIER_LARGE_CONCURRENCY: String(TIERS[2].slots + TIERS[2].extra),
    // P2 asks whether the sync path keeps the GPU busy when clients outnumber the tier's calls. With the shipped
    // 250 ms slot wait the two extra clients are refused at once with 503 UPSTREAM_BUSY (the designed back-pressure),
    // and counted as answered, those refusals put P2 above 100% of what the GPU can serve. Here they wait instead.
    ARGUS_SLOT_WAIT_MS: '30000',
  });
  try {
    const rows: Array<Array<string | number>> = [];
    const results: unknown[] = [];
    for (const [index, spec] of TIERS.entries()) {
      const photos = await Promise.all(
        Array.from({ length: spec.requests }, () => uniquePhotoJpeg(640, 480)),
      );
      // The stand-in's busy slots, sampled every 10 ms during the run: their mean ÷ N is the GPU's busy share.
      let sampled = 0;
      let held = 0;
      const sampler = setInterval(() => {
        sampled += 1;
        held += standIns[index].stats.inFlight;
      }, 10);
      const { seconds, failed } = await drive(
        stack.gatewayUrl,
        spec.tier,
        spec.requests,
        spec.slots + spec.extra + 2,
        photos,
      ).finally(() => {
        clearInterval(sampler);
      });
      const busyShare = held / Math.max(1, sampled) / spec.slots;
      // Answers only: a refusal is not work the GPU did.
      const throughput = (spec.requests - failed) / seconds;
      const capacity = spec.slots / (spec.serviceTimeMs / 1000);
      const ratio = throughput / capacity;
      const load = loadAverage();
      rows.push([
        `${spec.tier}: ${spec.slots} slots × ${spec.serviceTimeMs} ms, tier concurrency ${spec.slots + spec.extra}`,
        round(capacity, 1),
        round(throughput, 2),
        `${round(ratio * 100, 1)}%`,
        `${round(busyShare * 100, 1)}%`,
        failed,
        standIns[index].rejected,
        load,
      ]);
      results.push({
        ...spec,
        concurrency: spec.slots + spec.extra + 2,
        tierConcurrency: spec.slots + spec.extra,
        slotsBusyShare: busyShare,
        capacityPerSecond: capacity,
        throughputPerSecond: throughput,
        ratio,
        failed,
        loadAverage: load,
      });
    }
    printTable(
      'P2 sync-path throughput through the stack ÷ the emulated GPU capacity N/T (moderation, pinned tier, unique 640×480 images, tier concurrency + 2 clients)',
      [
        'tier',
        'capacity img/s',
        'measured img/s',
        'ratio',
        'GPU slots busy',
        'failed',
        'Ollama 503s',
        'load 1/5/15',
      ],
      rows,
    );

    const photo = await photoJpeg(640, 480);
    const workerMs: number[] = [];
    const cached = () => async () => {
      const response = await fetch(`${stack.gatewayUrl}/v1/analyze`, {
        method: 'POST',
        body: multipartBody(photo, { tasks: 'moderation', tier: 'small' }),
      });
      const body = (await response.json()) as {
        results: { moderation?: { cached?: boolean; durationMs?: number } };
      };
      if (body.results.moderation?.cached !== true) throw new Error('expected a cache hit');
      workerMs.push(body.results.moderation.durationMs ?? Number.NaN);
    };
    await fetch(`${stack.gatewayUrl}/v1/analyze`, {
      method: 'POST',
      body: multipartBody(photo, { tasks: 'moderation', tier: 'small' }),
    });
    await time(20, cached());
    workerMs.length = 0;
    const hits = await time(CACHE_ITERATIONS, cached());
    const cacheLoad = loadAverage();
    // (d) The HTTP floor of this client and gateway: a probe that does no work, over the same kind of connection.
    const health = () => async () => {
      await (await fetch(`${stack.gatewayUrl}/healthz`)).arrayBuffer();
    };
    await time(20, health());
    const floorMs = await time(CACHE_ITERATIONS, health());

    // (c) The KV read alone, from this process, of the entries the worker wrote.
    const natsUrl = (stack as unknown as { natsUrl: string }).natsUrl;
    const connection = await connect({ servers: natsUrl });
    const kvMs: number[] = [];
    try {
      const kv = await connection.jetstream().views.kv(RESULT_BUCKET);
      const keys: string[] = [];
      for await (const key of await kv.keys()) keys.push(key);
      const key = keys.find((k) => k.startsWith('moderation.small.')) ?? keys.at(0);
      if (key === undefined) throw new Error(`no cached answer in ${RESULT_BUCKET}`);
      await time(20, async () => {
        await kv.get(key);
      });
      kvMs.push(
        ...(await time(CACHE_ITERATIONS, async () => {
          const entry = await kv.get(key);
          if (!entry) throw new Error('cache entry gone');
          JSON.parse(entry.string());
        })),
      );
    } finally {
      await connection.close();
    }
    const hitP50 = percentile(hits, 50);
    const workerP50 = percentile(workerMs, 50);
    const kvP50 = percentile(kvMs, 50);
    printTable(
      `P4 cache hit (${CACHE_ITERATIONS} sequential requests, 640×480 JPEG, moderation, small tier); load ${cacheLoad}`,
      ['what is timed', 'p50 ms', 'p95 ms'],
      [
        [
          '(a) gateway round trip: upload, hash, cache-only NATS request, worker KV lookup, reply',
          round(hitP50),
          round(percentile(hits, 95)),
        ],
        [
          "(b) worker side: the reply's durationMs (KV lookup + reply, no image fetch)",
          round(workerP50),
          round(percentile(workerMs, 95)),
        ],
        [
          '(c) bare JetStream KV get + JSON decode, from the bench process',
          round(kvP50),
          round(percentile(kvMs, 95)),
        ],
        [
          '(d) HTTP floor: GET /healthz round trip from the same client',
          round(percentile(floorMs, 50)),
          round(percentile(floorMs, 95)),
        ],
      ],
    );
    const summary: SummaryRow[] = results.map((result, index) => {
      const r = result as {
        ratio: number;
        throughputPerSecond: number;
        capacityPerSecond: number;
        loadAverage: string;
        failed: number;
      };
      const spec = TIERS[index];
      return {
        id: ['P2', 'P2m', 'P2x'][index] ?? 'P2',
        name:
          spec.extra === 0
            ? `(for comparison) ${spec.slots} slots × ${spec.serviceTimeMs} ms, tier concurrency N with no spare call`
            : `sync-path saturation, ${spec.tier}: ${spec.slots} slots × ${spec.serviceTimeMs} ms, tier concurrency N + ${spec.extra} (throughput ÷ N/T)`,
        measured: `${round(r.ratio * 100, 1)}% (${round(r.throughputPerSecond, 2)} of ${round(r.capacityPerSecond, 1)}/s)`,
        value: round(r.ratio, 4),
        target: `≥ ${TARGET_SATURATION * 100}%`,
        ...(spec.extra === 0 ? {} : { pass: r.ratio >= TARGET_SATURATION && r.failed === 0 }),
        load: r.loadAverage,
        ...(r.failed > 0 ? { note: `${r.failed} failed` } : {}),
      };
    });
    summary.push(
      {
        id: 'P4a',
        name: 'cache hit p50, gateway round trip (what a client sees)',
        measured: `${round(hitP50)} ms`,
        value: round(hitP50),
        target: `≤ ${TARGET_CACHE_P50_MS} ms`,
        pass: hitP50 <= TARGET_CACHE_P50_MS,
        load: cacheLoad,
        note: `GET /healthz round trip ${round(percentile(floorMs, 50))} ms p50 from the same client`,
      },
      {
        id: 'P4b',
        name: 'cache hit p50, worker side (KV lookup + reply)',
        measured: `${round(workerP50)} ms`,
        value: round(workerP50),
        target: `≤ ${TARGET_CACHE_P50_MS} ms`,
        pass: workerP50 <= TARGET_CACHE_P50_MS,
        load: cacheLoad,
        note: `bare KV get ${round(kvP50)} ms p50`,
      },
    );
    writeResults('tiers', {
      throughput: results,
      cacheHit: {
        iterations: CACHE_ITERATIONS,
        gatewayRoundTrip: { p50Ms: hitP50, p95Ms: percentile(hits, 95) },
        workerSide: { p50Ms: workerP50, p95Ms: percentile(workerMs, 95) },
        bareKvGet: { p50Ms: kvP50, p95Ms: percentile(kvMs, 95) },
        loadAverage: cacheLoad,
      },
      summary,
      samples: { cacheHit: hits.map((ms) => round(ms)) },
    });
  } finally {
    await stack.stop();
    for (const standIn of standIns) await standIn.stop();
  }
}

runBench(main);
