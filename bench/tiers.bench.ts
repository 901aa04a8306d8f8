// Throughput through the stack against two emulated GPUs (N parallel slots × T ms per image), as a ratio of the
// GPU's own capacity N/T; and the latency of an answer served from the result cache.
import { multipartBody, photoJpeg, uniquePhotoJpeg } from '../test/support/fixtures';
import { OllamaStandIn } from '../test/support/ollama-stand-in';
import { percentile, printTable, round, startBenchStack, time, writeResults } from './bench-support';

const TIERS = [
  { tier: 'small', model: 'qwen2.5vl:3b', slots: 2, serviceTimeMs: 250, requests: 80 },
  { tier: 'medium', model: 'qwen2.5vl:7b', slots: 4, serviceTimeMs: 500, requests: 80 },
] as const;
const CACHE_ITERATIONS = 200;

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
        gpu: { slots: spec.slots, serviceTimeMs: spec.serviceTimeMs, queueLimit: 0 },
      }),
    ),
  );
  const stack = await startBenchStack({
    OLLAMA_HOST: standIns[0].url,
    ARGUS_TIER_MEDIUM_URL: standIns[1].url,
    ARGUS_TIERS: 'small,medium',
    ARGUS_TIER_SMALL_CONCURRENCY: String(TIERS[0].slots),
    ARGUS_TIER_MEDIUM_CONCURRENCY: String(TIERS[1].slots),
  });
  try {
    const rows: Array<Array<string | number>> = [];
    const results: unknown[] = [];
    for (const [index, spec] of TIERS.entries()) {
      const photos = await Promise.all(
        Array.from({ length: spec.requests }, () => uniquePhotoJpeg(640, 480)),
      );
      const { seconds, failed } = await drive(
        stack.gatewayUrl,
        spec.tier,
        spec.requests,
        spec.slots + 2,
        photos,
      );
      const throughput = spec.requests / seconds;
      const capacity = spec.slots / (spec.serviceTimeMs / 1000);
      const ratio = throughput / capacity;
      rows.push([
        `${spec.tier}: ${spec.slots} slots × ${spec.serviceTimeMs} ms`,
        round(capacity, 1),
        round(throughput, 2),
        `${round(ratio * 100, 1)}%`,
        failed,
        standIns[index].rejected,
      ]);
      results.push({ ...spec, capacityPerSecond: capacity, throughputPerSecond: throughput, ratio, failed });
    }
    printTable(
      'Throughput through the stack ÷ the emulated GPU capacity N/T (moderation, pinned tier, unique 640×480 images)',
      ['tier', 'capacity img/s', 'measured img/s', 'ratio', 'failed', 'Ollama 503s'],
      rows,
    );

    const photo = await photoJpeg(640, 480);
    const cached = () => async () => {
      const response = await fetch(`${stack.gatewayUrl}/v1/analyze`, {
        method: 'POST',
        body: multipartBody(photo, { tasks: 'moderation', tier: 'small' }),
      });
      const body = (await response.json()) as { results: { moderation?: { cached?: boolean } } };
      if (body.results.moderation?.cached !== true) throw new Error('expected a cache hit');
    };
    await fetch(`${stack.gatewayUrl}/v1/analyze`, {
      method: 'POST',
      body: multipartBody(photo, { tasks: 'moderation', tier: 'small' }),
    });
    await time(20, cached());
    const hits = await time(CACHE_ITERATIONS, cached());
    printTable(
      `Cache hit through the stack (${CACHE_ITERATIONS} sequential requests, 640×480 JPEG, moderation)`,
      ['path', 'p50 ms', 'p95 ms'],
      [
        [
          'cache hit: upload, normalise, store, NATS, KV read, reply',
          round(percentile(hits, 50)),
          round(percentile(hits, 95)),
        ],
      ],
    );
    writeResults('tiers', {
      throughput: results,
      cacheHit: { iterations: CACHE_ITERATIONS, p50Ms: percentile(hits, 50), p95Ms: percentile(hits, 95) },
    });
  } finally {
    await stack.stop();
    for (const standIn of standIns) await standIn.stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    `bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
