// Time per image of the embedded CPU tier, each engine on its own, in this process: what `npm start` without a GPU
// costs per image.
import { ImageProcessor } from '@argus/imaging';
import { NsfwClassifier, TesseractOcr } from '@argus/inference';
import { labelPng, photoJpeg } from '../test/support/fixtures';
import { percentile, printTable, round, time, writeResults } from './bench-support';

const ITERATIONS = Number(process.env.BENCH_CPU_ITERATIONS ?? 30);

async function main(): Promise<void> {
  const processor = new ImageProcessor();
  const nsfw = new NsfwClassifier();
  const tesseract = new TesseractOcr();
  const loadStarted = performance.now();
  await nsfw.warm();
  const nsfwLoadMs = performance.now() - loadStarted;
  const ocrStarted = performance.now();
  await tesseract.warm();
  const tesseractLoadMs = performance.now() - ocrStarted;
  try {
    const photo = await photoJpeg(1600, 1200);
    const label = await labelPng([
      'ORGANIC OAT MILK',
      'Best before 2027-03-14',
      'Lot 4471',
      'Ingredients: water, oats, salt',
    ]);
    const rows: Array<Array<string | number>> = [];
    const results: Record<string, unknown> = { nsfwLoadMs, tesseractLoadMs };
    const measure = async (name: string, run: () => Promise<unknown>) => {
      await time(3, async () => {
        await run();
      });
      const samples = await time(ITERATIONS, async () => {
        await run();
      });
      rows.push([name, round(percentile(samples, 50), 1), round(percentile(samples, 95), 1)]);
      results[name] = { p50Ms: percentile(samples, 50), p95Ms: percentile(samples, 95) };
    };
    await measure('moderation: resize to 224² + nsfwjs MobileNetV2 (tfjs wasm)', async () =>
      nsfw.classify(await processor.toRawRgb(photo, 224)),
    );
    await measure('tagging: sharp measurements (colours, exposure, sharpness) of a 1600×1200 photo', () =>
      processor.measure(photo),
    );
    await measure('ocr: preprocessing + tesseract LSTM on a 4-line label', async () =>
      tesseract.recognize((await processor.prepareForOcr(label)).data),
    );
    printTable(
      `CPU engines, time per image (${ITERATIONS} runs each, one process, warm)`,
      ['engine', 'p50 ms', 'p95 ms'],
      rows,
    );
    process.stdout.write(
      `\nload once per process: nsfwjs ${Math.round(nsfwLoadMs)} ms, tesseract ${Math.round(tesseractLoadMs)} ms\n`,
    );
    writeResults('cpu-engines', { iterations: ITERATIONS, results });
  } finally {
    await tesseract.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    `bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
