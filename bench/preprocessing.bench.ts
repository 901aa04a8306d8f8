// P3, preprocessing: the gateway's normalise (ImageProcessor.normalise with the gateway's default limits: header
// read, pixel check, EXIF rotate, cap the long side at 2048, sRGB, JPEG q90, sha256 of the upload) against bare sharp
// doing the same visible work (rotate, resize inside 2048, JPEG q90) on the same generated 12 MP JPEGs, interleaved
// so both see the same machine load; and against Pillow (open, exif_transpose, resize to fit 2048 with LANCZOS, JPEG
// q90) when `python3 -c "import PIL"` works. Target: ours ÷ bare sharp ≤ 1.15 at the median.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { ImageProcessor } from '@argus/imaging';
import { photoJpeg } from '../test/support/fixtures';
import {
  loadAverage,
  percentile,
  printTable,
  round,
  runBench,
  writeResults,
  type SummaryRow,
} from './bench-support';

const ITERATIONS = Number(process.env.BENCH_PREPROCESS_ITERATIONS ?? 16);
const WIDTH = 4000;
const HEIGHT = 3000;
const LONG_SIDE = 2048;
const TARGET_RATIO = 1.15;
/** The gateway's defaults (ARGUS_MAX_IMAGE_BYTES, ARGUS_MAX_IMAGE_PIXELS, ARGUS_MAX_LONG_SIDE). */
const LIMITS = { maxBytes: 25 * 1024 * 1024, maxPixels: 40_000_000, maxLongSide: LONG_SIDE };

const PILLOW = `
import io, sys, time
from PIL import Image, ImageOps
paths, iterations = sys.argv[1:-1], int(sys.argv[-1])
def once(path):
    with Image.open(path) as image:
        image = ImageOps.exif_transpose(image).convert('RGB')
        image.thumbnail((${LONG_SIDE}, ${LONG_SIDE}), Image.LANCZOS)
        out = io.BytesIO()
        image.save(out, 'JPEG', quality=90)
once(paths[0])
for i in range(iterations):
    started = time.perf_counter()
    once(paths[i % len(paths)])
    print((time.perf_counter() - started) * 1000)
`;

function pillowAvailable(): boolean {
  return spawnSync('python3', ['-c', 'import PIL'], { stdio: 'ignore' }).status === 0;
}

async function main(): Promise<void> {
  const processor = new ImageProcessor();
  // Three distinct photos so neither side benefits from a warm cache of one input.
  const photos = await Promise.all(
    [
      { r: 200, g: 120, b: 60 },
      { r: 90, g: 160, b: 210 },
      { r: 40, g: 200, b: 90 },
    ].map((background) => photoJpeg(WIDTH, HEIGHT, background)),
  );
  const ours = (photo: Buffer) => processor.normalise(photo, LIMITS);
  const bare = (photo: Buffer) =>
    sharp(photo)
      .rotate()
      .resize({ width: LONG_SIDE, height: LONG_SIDE, fit: 'inside', withoutEnlargement: true })
      .jpeg({ quality: 90 })
      .toBuffer();
  // The breakdown: bare sharp plus one of normalise's extra steps at a time, to show which one costs what.
  const variants: Record<string, (photo: Buffer) => Promise<unknown>> = {
    'bare + metadata() header read first': async (photo) => {
      await sharp(photo, { failOn: 'warning', limitInputPixels: false, pages: 1 }).metadata();
      return bare(photo);
    },
    'bare + sha256 of the upload': async (photo) => {
      processor.sha256(photo);
      return bare(photo);
    },
    'bare + untrusted options (failOn warning, limitInputPixels, pages 1, sequentialRead)': (photo) =>
      sharp(photo, { failOn: 'warning', limitInputPixels: LIMITS.maxPixels, pages: 1, sequentialRead: true })
        .rotate()
        .resize({ width: LONG_SIDE, height: LONG_SIDE, fit: 'inside', withoutEnlargement: true })
        .jpeg({ quality: 90 })
        .toBuffer(),
    "bare + toColourspace('srgb')": (photo) =>
      sharp(photo)
        .rotate()
        .resize({ width: LONG_SIDE, height: LONG_SIDE, fit: 'inside', withoutEnlargement: true })
        .toColourspace('srgb')
        .jpeg({ quality: 90 })
        .toBuffer(),
  };
  for (const photo of photos) {
    await ours(photo);
    await bare(photo);
  }
  const oursMs: number[] = [];
  const bareMs: number[] = [];
  const variantMs: Record<string, number[]> = Object.fromEntries(
    Object.keys(variants).map((name) => [name, []]),
  );
  for (let i = 0; i < ITERATIONS; i += 1) {
    const photo = photos[i % photos.length];
    // Rotate the order, so a load spike does not always land on the same pipeline.
    const all: Array<[number[], () => Promise<unknown>]> = [
      [oursMs, () => ours(photo)],
      [bareMs, () => bare(photo)],
      ...Object.entries(variants).map(([name, run]): [number[], () => Promise<unknown>] => [
        variantMs[name],
        () => run(photo),
      ]),
    ];
    const order = [...all.slice(i % all.length), ...all.slice(0, i % all.length)];
    for (const [samples, run] of order) {
      const started = performance.now();
      await run();
      samples.push(performance.now() - started);
    }
  }
  const load = loadAverage();
  const oursP50 = percentile(oursMs, 50);
  const bareP50 = percentile(bareMs, 50);
  const ratio = oursP50 / bareP50;

  let pillow: { p50Ms: number; p95Ms: number; ratio: number } | undefined;
  let pillowNote = '';
  if (pillowAvailable()) {
    const dir = mkdtempSync(join(tmpdir(), 'argus-bench-pillow-'));
    try {
      const paths = photos.map((photo, index) => {
        const path = join(dir, `photo-${index}.jpg`);
        writeFileSync(path, photo);
        return path;
      });
      const run = spawnSync('python3', ['-c', PILLOW, ...paths, String(ITERATIONS)], { encoding: 'utf8' });
      if (run.status !== 0) throw new Error(`Pillow run failed: ${run.stderr}`);
      const samples = run.stdout.trim().split('\n').map(Number);
      pillow = {
        p50Ms: percentile(samples, 50),
        p95Ms: percentile(samples, 95),
        ratio: oursP50 / percentile(samples, 50),
      };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  } else {
    pillowNote = 'Pillow skipped: `python3 -c "import PIL"` fails on this machine';
  }

  const rows: Array<Array<string | number>> = [
    [
      'ours: ImageProcessor.normalise (gateway limits)',
      round(oursP50, 1),
      round(percentile(oursMs, 95), 1),
      round(ratio, 3),
    ],
    [
      'bare sharp: rotate → resize inside 2048 → JPEG q90',
      round(bareP50, 1),
      round(percentile(bareMs, 95), 1),
      1,
    ],
  ];
  if (pillow)
    rows.push([
      'Pillow: exif_transpose → thumbnail 2048 LANCZOS → JPEG q90',
      round(pillow.p50Ms, 1),
      round(pillow.p95Ms, 1),
      `ours ÷ Pillow ${round(pillow.ratio, 3)}`,
    ]);
  printTable(
    `P3 preprocessing of ${WIDTH}×${HEIGHT} (12 MP) JPEGs to ≤ ${LONG_SIDE} px, ${ITERATIONS} runs each, interleaved; load ${load}`,
    ['pipeline', 'p50 ms', 'p95 ms', 'ours ÷ this (p50)'],
    rows,
  );
  if (pillowNote) process.stdout.write(`\n${pillowNote}\n`);
  const breakdown = Object.fromEntries(
    Object.entries(variantMs).map(([name, samples]) => [name, round(percentile(samples, 50) / bareP50, 3)]),
  );
  printTable(
    'P3 breakdown: bare sharp plus one step of normalise at a time (p50 ÷ bare sharp p50)',
    ['variant', 'p50 ms', '÷ bare'],
    Object.entries(variantMs).map(([name, samples]) => [
      name,
      round(percentile(samples, 50), 1),
      breakdown[name],
    ]),
  );

  const summary: SummaryRow[] = [
    {
      id: 'P3',
      name: 'preprocessing 12 MP JPEG: normalise ÷ bare sharp (p50)',
      measured: `${round(ratio, 3)}× (${round(oursP50, 1)} vs ${round(bareP50, 1)} ms)`,
      value: round(ratio, 3),
      target: `≤ ${TARGET_RATIO}×`,
      pass: ratio <= TARGET_RATIO,
      load,
      note: pillow
        ? `ours ÷ Pillow ${round(pillow.ratio, 3)} (Pillow ${round(pillow.p50Ms, 1)} ms)`
        : pillowNote,
    },
  ];
  writeResults('preprocessing', {
    iterations: ITERATIONS,
    image: `${WIDTH}×${HEIGHT} JPEG q85`,
    oursMs: { p50: oursP50, p95: percentile(oursMs, 95) },
    bareSharpMs: { p50: bareP50, p95: percentile(bareMs, 95) },
    ratio,
    breakdownRatioToBare: breakdown,
    pillow: pillow ?? { skipped: pillowNote },
    loadAverage: load,
    summary,
  });
}

runBench(main);
