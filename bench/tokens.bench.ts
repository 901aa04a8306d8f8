// P7, tokens: the image tokens each model is charged at the sizes Argus actually sends. For every Ollama tier and task
// of config/model-catalog.yaml, one upload goes through the stack (gateway normalise to ≤ 2048 px, worker
// resizeForModel to the catalog's input) to an Ollama stand-in, which records the size of the image that arrived.
// Image tokens come from the model family's own rule (modelInputSize in libs/imaging model-input.ts, ported from
// Ollama's image processors; for qwen2.5vl one token per 28 × 28 px of the SmartResize size), applied to the size
// sent, the same function the worker resized with and the catalog's context check uses. The row also checks that
// the size sent is the one the rule gives the stored image, and that Ollama would not resize it again. The stand-in's
// prompt_eval_count (argus_inference_tokens_total{kind="input"}) is its own approximation and is only noted. No
// target: the row reports what a request costs in context, against the tier's num_ctx (catalog check: image tokens
// + 2048 ≤ num_ctx).
import { modelInputSize } from '@argus/imaging';
import { describeInput, loadModelCatalog } from '@argus/inference';
import { multipartBody, photoJpeg } from '../test/support/fixtures';
import { OllamaStandIn } from '../test/support/ollama-stand-in';
import {
  loadAverage,
  printTable,
  runBench,
  startBenchStack,
  writeResults,
  type SummaryRow,
} from './bench-support';

const UPLOADS = [
  { label: '12 MP photo 4000×3000', width: 4000, height: 3000 },
  { label: 'listing photo 1000×750', width: 1000, height: 750 },
] as const;
const TASKS = ['moderation', 'tagging', 'ocr'] as const;

async function inputTokens(workerUrl: string, tier: string): Promise<number> {
  const text = await (await fetch(`${workerUrl}/metrics`)).text();
  let total = 0;
  for (const line of text.split('\n')) {
    const match = /^argus_inference_tokens_total\{([^}]*)\} (\S+)/.exec(line);
    if (match && match[1].includes('kind="input"') && match[1].includes(`tier="${tier}"`))
      total += Number(match[2]);
  }
  return total;
}

async function main(): Promise<void> {
  const env = { ARGUS_TIERS: 'small,medium,large', ARGUS_CACHE_TTL_SECONDS: '0' };
  const catalog = loadModelCatalog(env);
  const tiers = catalog.enabled.map((name) => catalog.tiers[name]).filter((spec) => spec.engine === 'ollama');
  const models = [...new Set(tiers.flatMap((spec) => TASKS.map((task) => spec.tasks[task].model)))];
  const standIn = await OllamaStandIn.start({ models: models.map((name) => ({ name })) });
  const stack = await startBenchStack({
    ...env,
    OLLAMA_HOST: standIn.url,
    ARGUS_TIER_MEDIUM_URL: standIn.url,
    ARGUS_TIER_LARGE_URL: standIn.url,
  });
  try {
    const photos = await Promise.all(UPLOADS.map((upload) => photoJpeg(upload.width, upload.height)));
    const rows: Array<Array<string | number>> = [];
    const results: Array<Record<string, unknown>> = [];
    for (const spec of tiers) {
      for (const task of TASKS) {
        const entry = spec.tasks[task];
        for (const [index, upload] of UPLOADS.entries()) {
          const workerUrl = stack.workerUrls[task];
          const before = await inputTokens(workerUrl, spec.name);
          const chatsBefore = standIn.chats.length;
          const response = await fetch(`${stack.gatewayUrl}/v1/analyze`, {
            method: 'POST',
            body: multipartBody(photos[index], { tasks: task, tier: spec.name }),
          });
          const body = (await response.json()) as {
            image?: { width: number; height: number };
            results?: Record<string, { status?: string }>;
          };
          if (response.status !== 200 || body.results?.[task]?.status !== 'ok')
            throw new Error(`${spec.name} ${task}: ${response.status} ${JSON.stringify(body).slice(0, 300)}`);
          const chat = standIn.chats.slice(chatsBefore).at(-1);
          const image = chat?.images[0];
          if (!image) throw new Error(`${spec.name} ${task}: no image reached the stand-in`);
          const reported = (await inputTokens(workerUrl, spec.name)) - before;
          const { input } = entry;
          if (!('family' in input))
            throw new Error(`${spec.name} ${task}: ${describeInput(input)} has no family rule`);
          const stored = body.image;
          if (!stored) throw new Error(`${spec.name} ${task}: the answer names no stored image size`);
          const expected = modelInputSize(input, stored.width, stored.height);
          const sent = modelInputSize(input, image.width, image.height);
          if (expected.width !== image.width || expected.height !== image.height)
            throw new Error(
              `${spec.name} ${task}: sent ${image.width}×${image.height}, the rule gives ` +
                `${expected.width}×${expected.height} for the stored ${stored.width}×${stored.height}`,
            );
          // Sent again through the rule, a size Ollama leaves alone comes back unchanged.
          const resizedAgain = sent.width !== image.width || sent.height !== image.height;
          const tokens = sent.tokens;
          const inputSpec = describeInput(input);
          rows.push([
            spec.name,
            task,
            entry.model,
            inputSpec,
            upload.label,
            `${image.width}×${image.height}`,
            resizedAgain ? 'yes' : 'no',
            tokens,
            reported,
            `${spec.contextLength}`,
          ]);
          results.push({
            tier: spec.name,
            task,
            model: entry.model,
            input: entry.input,
            upload: upload.label,
            stored,
            sent: { width: image.width, height: image.height, bytes: image.bytes, format: image.format },
            ollamaResizesAgain: resizedAgain,
            imageTokens: tokens,
            standInPromptTokens: reported,
            contextLength: spec.contextLength,
          });
        }
      }
    }
    const load = loadAverage();
    printTable(
      `P7 image tokens per model at the size actually sent (the family's rule, modelInputSize); load ${load}`,
      [
        'tier',
        'task',
        'model',
        'catalog input',
        'upload',
        'sent to the model',
        'Ollama resizes again',
        'image tokens',
        'stand-in prompt_eval_count (approx.)',
        'num_ctx',
      ],
      rows,
    );
    const at12mp = results.filter((r) => r.upload === UPLOADS[0].label && r.tier === 'small');
    const summary: SummaryRow[] = [
      {
        id: 'P7',
        name: 'image tokens per request at the size sent, 12 MP upload (small tier; same sizes on every tier)',
        measured: at12mp
          .map((r) => {
            const sent = r.sent as { width: number; height: number };
            return `${String(r.task)} ${String(r.imageTokens)} (${sent.width}×${sent.height})`;
          })
          .join(', '),
        value: Math.max(...at12mp.map((r) => r.imageTokens as number)),
        target: 'report (≤ num_ctx − 2048; catalog check)',
        pass: at12mp.every(
          (r) => (r.imageTokens as number) + 2048 <= (r.contextLength as number) && !r.ollamaResizesAgain,
        ),
        load,
        note:
          `models: ${models.join(', ')}; tokens by the family rule (libs/imaging model-input.ts) at the size sent, ` +
          `which Ollama does not resize again; the stand-in's own prompt_eval_count: ${at12mp
            .map((r) => `${String(r.task)} ${String(r.standInPromptTokens)}`)
            .join(', ')}`,
      },
    ];
    writeResults('tokens', { rows: results, loadAverage: load, summary });
  } finally {
    await stack.stop();
    await standIn.stop();
  }
}

runBench(main);
