// What Argus adds on top of the model: the median time of one image through the whole stack (gateway → NATS →
// worker → Ollama stand-in with zero service time) next to a direct `ollama` client call to the same stand-in.
// Both are measured in this one run, on this machine; the ratio and the difference are what to read, not the
// absolute numbers.
import { Ollama } from 'ollama';
import { modelOutputJsonSchema } from '@argus/contracts';
import { ImageProcessor } from '@argus/imaging';
import { PROMPTS } from '@argus/inference';
import { multipartBody, photoJpeg } from '../test/support/fixtures';
import { OllamaStandIn } from '../test/support/ollama-stand-in';
import { percentile, printTable, round, startBenchStack, time, writeResults } from './bench-support';

const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 200);
const WARMUP = 20;
const MODEL = 'qwen2.5vl:3b';

async function main(): Promise<void> {
  const ollama = await OllamaStandIn.start({ models: [{ name: MODEL }] });
  const stack = await startBenchStack({
    OLLAMA_HOST: ollama.url,
    ARGUS_TIERS: 'small',
    ARGUS_CACHE_TTL_SECONDS: '0',
  });

  try {
    // 1000×750 fits the small tier's 1008 px input, so the worker forwards the stored image without re-encoding and
    // the direct call sends the very same bytes: the difference is Argus alone.
    const photo = await photoJpeg(1000, 750);
    // The direct call sends what the worker would send: the image at the model's input size, the task schema.
    const modelInput = await new ImageProcessor().resizeForModel(photo, { longSide: 1008 });
    const client = new Ollama({ host: ollama.url });
    const prompt = PROMPTS.moderation;
    const direct = async () => {
      const stream = await client.chat({
        model: MODEL,
        stream: true,
        format: modelOutputJsonSchema('moderation'),
        options: { temperature: 0 },
        messages: [
          { role: 'system', content: prompt.system },
          { role: 'user', content: prompt.user, images: [modelInput.data.toString('base64')] },
        ],
      });
      let content = '';
      for await (const part of stream) content += part.message.content;
      if (!content) throw new Error('empty answer');
    };
    const throughStack = (tasks: string) => async () => {
      const response = await fetch(`${stack.gatewayUrl}/v1/analyze`, {
        method: 'POST',
        body: multipartBody(photo, { tasks, tier: 'small' }),
      });
      if (response.status !== 200)
        throw new Error(`gateway answered ${response.status}: ${await response.text()}`);
      await response.arrayBuffer();
    };

    await time(WARMUP, direct);
    await time(WARMUP, throughStack('moderation'));
    await time(WARMUP, throughStack('moderation,tagging,ocr'));

    const directSamples = await time(ITERATIONS, direct);
    const singleSamples = await time(ITERATIONS, throughStack('moderation'));
    const allSamples = await time(ITERATIONS, throughStack('moderation,tagging,ocr'));

    const direct50 = percentile(directSamples, 50);
    const row = (name: string, samples: number[]) => ({
      name,
      p50Ms: round(percentile(samples, 50)),
      p95Ms: round(percentile(samples, 95)),
      ratioToDirectP50: round(percentile(samples, 50) / direct50),
      addedP50Ms: round(percentile(samples, 50) - direct50),
    });
    const rows = [
      row('direct ollama client call (same image, streamed)', directSamples),
      row('through the stack, moderation only (1000×750 JPEG upload)', singleSamples),
      row('through the stack, all three tasks', allSamples),
    ];
    printTable(
      `Argus overhead against a zero-latency Ollama stand-in (${ITERATIONS} sequential requests each, small tier pinned, cache off)`,
      ['path', 'p50 ms', 'p95 ms', 'p50 ÷ direct', 'p50 added ms'],
      rows.map((r) => [r.name, r.p50Ms, r.p95Ms, r.ratioToDirectP50, r.addedP50Ms]),
    );
    writeResults('overhead', { iterations: ITERATIONS, rows });
  } finally {
    await stack.stop();
    await ollama.stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    `bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
