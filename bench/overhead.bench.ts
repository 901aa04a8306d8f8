// What Argus adds on top of the model: the median time of one image through the whole stack (gateway → NATS →
// worker → Ollama stand-in with zero service time) next to a direct `ollama` client call to the same stand-in.
// Both are measured in this one run, on this machine; the ratio and the difference are what to read, not the
// absolute numbers.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { Ollama } from 'ollama';
import { modelOutputJsonSchema } from '@argus/contracts';
import { ImageProcessor } from '@argus/imaging';
import { PROMPTS } from '@argus/inference';
import { multipartBody, photoJpeg } from '../test/support/fixtures';
import { freePort } from '../test/support/nats-harness';
import { OllamaStandIn } from '../test/support/ollama-stand-in';

interface StackHandle {
  gatewayUrl: string;
  stop(): Promise<void>;
}

const ROOT = join(__dirname, '..');
const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 200);
const WARMUP = 20;
const MODEL = 'qwen2.5vl:7b';

function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

async function time(iterations: number, run: () => Promise<void>): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < iterations; i += 1) {
    const started = performance.now();
    await run();
    samples.push(performance.now() - started);
  }
  return samples;
}

async function main(): Promise<void> {
  const ollama = await OllamaStandIn.start();
  const ports = await Promise.all(Array.from({ length: 5 }, () => freePort()));
  const { startStack } = (await import(join(ROOT, 'scripts', 'stack.mjs'))) as {
    startStack(options: { env: NodeJS.ProcessEnv; output: (line: string) => void }): Promise<StackHandle>;
  };
  const stack = await startStack({
    env: {
      PORT: String(ports[0]),
      ARGUS_NATS_PORT: String(ports[1]),
      ARGUS_MODERATION_PORT: String(ports[2]),
      ARGUS_TAGGING_PORT: String(ports[3]),
      ARGUS_OCR_PORT: String(ports[4]),
      ARGUS_NATS_STORE_DIR: join(ROOT, '.argus', `bench-nats-${ports[1]}`),
      OLLAMA_HOST: ollama.url,
      LOG_LEVEL: 'warn',
      NATS_URL: '',
    },
    output: () => undefined,
  });

  try {
    const photo = await photoJpeg(1024, 768);
    // The direct call sends what the worker would send: the image at the model's input size, the task schema.
    const modelInput = await new ImageProcessor().resizeForModel(photo, { longSide: 1024 });
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
      for await (const part of stream) void part;
    };
    const throughStack = (tasks: string) => async () => {
      const response = await fetch(`${stack.gatewayUrl}/v1/analyze`, {
        method: 'POST',
        body: multipartBody(photo, { tasks }),
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

    const row = (name: string, samples: number[]) => ({
      name,
      p50Ms: Number(percentile(samples, 50).toFixed(2)),
      p95Ms: Number(percentile(samples, 95).toFixed(2)),
      ratioToDirectP50: Number((percentile(samples, 50) / percentile(directSamples, 50)).toFixed(2)),
      addedP50Ms: Number((percentile(samples, 50) - percentile(directSamples, 50)).toFixed(2)),
    });
    const rows = [
      row('direct ollama client call (1024 px image, streamed)', directSamples),
      row('through the stack, moderation only (1024×768 JPEG upload)', singleSamples),
      row('through the stack, all three tasks', allSamples),
    ];
    const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
    process.stdout.write(
      `\nArgus overhead against a zero-latency Ollama stand-in (${ITERATIONS} sequential requests each)\n${machine}\n\n`,
    );
    process.stdout.write(
      `| path | p50 ms | p95 ms | p50 ÷ direct | p50 added ms |\n|---|---:|---:|---:|---:|\n`,
    );
    for (const r of rows)
      process.stdout.write(
        `| ${r.name} | ${r.p50Ms} | ${r.p95Ms} | ${r.ratioToDirectP50} | ${r.addedP50Ms} |\n`,
      );
    mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
    writeFileSync(
      join(ROOT, 'bench', 'results', 'overhead.json'),
      `${JSON.stringify({ measuredAt: new Date().toISOString(), machine, iterations: ITERATIONS, rows }, null, 2)}\n`,
    );
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
