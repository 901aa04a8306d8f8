// P2, saturation: throughput of the sync path (POST /v1/analyze) through the stack against two emulated GPUs (N
// parallel slots × T ms per image), as a ratio of the GPU's own capacity N/T; target ≥ 97%.
// P4, cache hit: a repeated request answered from the reply cache, read four ways: (a) the gateway round trip a
// client sees (upload, hash, one KV read per task, reply; no decode, no store, no worker), (b) the gateway's own
// lookup (the reply's durationMs), (c) the bare JetStream KV get of the kept reply from this process, (d) GET /healthz
// from the same client, (e) the same upload POSTed to a path that does nothing, the floor of sending it at all, (f) the
// same hit through the least gateway of Argus's shape (bench/floor: multipart, sha256, one KV read) beside that
// gateway's own /healthz. Target (issue 18): (a) p50 ≤ 2 × (d) p50 in the same run, with zero messages to any worker.
import { connect } from 'nats';
import { replyCacheKeyFilter, TASK_SUBJECTS, TASKS } from '@argus/contracts';
import { RESULT_BUCKET } from '@argus/messaging';
import { multipartBody, photoJpeg, uniquePhotoJpeg } from '../test/support/fixtures';
import { OllamaStandIn } from '../test/support/ollama-stand-in';
import { measurePipelineFloor } from './floor/pipeline-floor';
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
/** Issue 18: a cache hit at most this many times the /healthz round trip, measured in the same run. */
const TARGET_CACHE_HIT_RATIO = 2;

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
    const lookupMs: number[] = [];
    const cached = () => async () => {
      const response = await fetch(`${stack.gatewayUrl}/v1/analyze`, {
        method: 'POST',
        body: multipartBody(photo, { tasks: 'moderation', tier: 'small' }),
      });
      const body = (await response.json()) as {
        results: { moderation?: { cached?: boolean; durationMs?: number } };
      };
      if (body.results.moderation?.cached !== true) throw new Error('expected a cache hit');
      lookupMs.push(body.results.moderation.durationMs ?? Number.NaN);
    };
    const first = (await (
      await fetch(`${stack.gatewayUrl}/v1/analyze`, {
        method: 'POST',
        body: multipartBody(photo, { tasks: 'moderation', tier: 'small' }),
      })
    ).json()) as { image: { sha256: string } };

    const natsUrl = (stack as unknown as { natsUrl: string }).natsUrl;
    const connection = await connect({ servers: natsUrl });
    const kvMs: number[] = [];
    let hits: number[] = [];
    let floorMs: number[] = [];
    let uploadFloorMs: number[] = [];
    const workerMessages: string[] = [];
    try {
      const kv = await connection.jetstream().views.kv(RESULT_BUCKET);
      // The worker keeps its reply beside answering: wait for it, so every timed request below is a reply-cache hit.
      const keptKey = async () => {
        for await (const key of await kv.keys(replyCacheKeyFilter(first.image.sha256, 'moderation')))
          return key;
        return undefined;
      };
      const deadline = Date.now() + 10_000;
      let key = await keptKey();
      while (key === undefined && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        key = await keptKey();
      }
      if (key === undefined) throw new Error(`the worker kept no reply in ${RESULT_BUCKET}`);

      await time(20, cached());
      lookupMs.length = 0;
      // Every message to a worker during the timed loop, which must stay empty.
      const subscriptions = TASKS.map((task) =>
        connection.subscribe(TASK_SUBJECTS[task], { callback: () => workerMessages.push(task) }),
      );
      await connection.flush();
      hits = await time(CACHE_ITERATIONS, cached());
      await connection.flush();
      for (const subscription of subscriptions) subscription.unsubscribe();
      // (d) The HTTP floor of this client and gateway: a probe that does no work, over the same kind of connection.
      const health = () => async () => {
        await (await fetch(`${stack.gatewayUrl}/healthz`)).arrayBuffer();
      };
      await time(20, health());
      floorMs = await time(CACHE_ITERATIONS, health());
      // (e) The upload alone: the same multipart body POSTed to a path that answers 404 without any work.
      const uploadOnly = () => async () => {
        await (
          await fetch(`${stack.gatewayUrl}/healthz`, {
            method: 'POST',
            body: multipartBody(photo, { tasks: 'moderation', tier: 'small' }),
          })
        ).arrayBuffer();
      };
      await time(20, uploadOnly());
      uploadFloorMs = await time(CACHE_ITERATIONS, uploadOnly());

      // (c) The KV read alone, from this process, of the reply the worker kept.
      const keptReply = key;
      await time(20, async () => {
        await kv.get(keptReply);
      });
      kvMs.push(
        ...(await time(CACHE_ITERATIONS, async () => {
          const entry = await kv.get(keptReply);
          if (!entry) throw new Error('kept reply gone');
          JSON.parse(entry.string());
        })),
      );
    } finally {
      await connection.close();
    }
    // (f) The same hit through the least gateway of Argus's shape: multipart, sha256, one KV read, the JSON reply.
    const floor = await measurePipelineFloor({
      shape: 'worker-resize',
      ollamaUrl: standIns[0].url,
      model: TIERS[0].model,
      modelSize: { width: 644, height: 476 },
      warmup: [],
      measured: [photo],
      hits: CACHE_ITERATIONS,
    });
    const floorHitP50 = floor.hitP50Ms ?? Number.NaN;
    const floorHealthP50 = floor.healthzP50Ms ?? Number.NaN;
    const floorHitRatio = round(floorHitP50 / floorHealthP50, 2);
    const cacheLoad = loadAverage();
    const hitP50 = percentile(hits, 50);
    const floorP50 = percentile(floorMs, 50);
    const hitRatio = round(hitP50 / floorP50, 2);
    const lookupP50 = percentile(lookupMs, 50);
    const kvP50 = percentile(kvMs, 50);
    printTable(
      `P4 cache hit (${CACHE_ITERATIONS} sequential requests, 640×480 JPEG, moderation, small tier); load ${cacheLoad}`,
      ['what is timed', 'p50 ms', 'p95 ms'],
      [
        [
          '(a) gateway round trip: upload, hash, one reply-cache KV read, reply',
          round(hitP50),
          round(percentile(hits, 95)),
        ],
        [
          "(b) the gateway's lookup: the reply's durationMs (worker fingerprint + KV read)",
          round(lookupP50),
          round(percentile(lookupMs, 95)),
        ],
        [
          '(c) bare JetStream KV get + JSON decode, from the bench process',
          round(kvP50),
          round(percentile(kvMs, 95)),
        ],
        [
          '(d) HTTP floor: GET /healthz round trip from the same client',
          round(floorP50),
          round(percentile(floorMs, 95)),
        ],
        [
          '(e) the same upload POSTed to a path that does nothing (404)',
          round(percentile(uploadFloorMs, 50)),
          round(percentile(uploadFloorMs, 95)),
        ],
        ['(f) the least gateway of this shape (bench/floor): the same hit', floorHitP50, ''],
        ['(f) its GET /healthz', floorHealthP50, ''],
        ['(a) ÷ (d)', `${hitRatio}×`, ''],
        ['(f) hit ÷ its /healthz', `${floorHitRatio}×`, ''],
        ['(a) ÷ (f) hit', `${round(hitP50 / floorHitP50, 2)}×`, ''],
        ['(a) ÷ (e)', `${round(hitP50 / percentile(uploadFloorMs, 50), 2)}×`, ''],
        ['messages to workers during (a)', workerMessages.length, ''],
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
        name: 'cache hit p50, gateway round trip (what a client sees) ÷ GET /healthz p50, same run',
        measured: `${hitRatio}× (${round(hitP50)} vs ${round(floorP50)} ms)`,
        value: hitRatio,
        target: `≤ ${TARGET_CACHE_HIT_RATIO}×, no worker round trip`,
        pass: hitRatio <= TARGET_CACHE_HIT_RATIO && workerMessages.length === 0,
        load: cacheLoad,
        note: `${workerMessages.length} messages to workers during ${CACHE_ITERATIONS} hits; the ${Math.round(photo.length / 1024)} KiB upload alone (POST to a 404) ${round(percentile(uploadFloorMs, 50))} ms`,
      },
      {
        id: 'P4f',
        name: "(for comparison) the same hit through the least gateway of its shape (bench/floor) ÷ that gateway's /healthz",
        measured: `${floorHitRatio}× (${floorHitP50} vs ${floorHealthP50} ms)`,
        value: floorHitRatio,
        target: `≤ ${TARGET_CACHE_HIT_RATIO}×`,
        load: cacheLoad,
        note: `Argus's hit ÷ this one ${round(hitP50 / floorHitP50, 2)}×`,
      },
      {
        id: 'P4b',
        name: "cache hit p50, the gateway's lookup (worker fingerprint + KV read)",
        measured: `${round(lookupP50)} ms`,
        value: round(lookupP50),
        target: 'report',
        load: cacheLoad,
        note: `bare KV get ${round(kvP50)} ms p50`,
      },
    );
    writeResults('tiers', {
      throughput: results,
      cacheHit: {
        iterations: CACHE_ITERATIONS,
        gatewayRoundTrip: { p50Ms: hitP50, p95Ms: percentile(hits, 95) },
        healthz: { p50Ms: floorP50, p95Ms: percentile(floorMs, 95) },
        uploadOnly: { p50Ms: percentile(uploadFloorMs, 50), p95Ms: percentile(uploadFloorMs, 95) },
        uploadBytes: photo.length,
        floor: { hitP50Ms: floorHitP50, healthzP50Ms: floorHealthP50, ratio: floorHitRatio },
        ratio: hitRatio,
        workerMessages: workerMessages.length,
        gatewayLookup: { p50Ms: lookupP50, p95Ms: percentile(lookupMs, 95) },
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
