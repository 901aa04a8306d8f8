// The end of `npm run bench`: collects the summary rows every bench wrote into bench/results/<name>.json, prints
// one table (measured value, target, pass/miss, load average when measured), writes bench/results/summary.json, and
// draws bench/results/latency.svg: the latency distributions (CDFs) of P1 (direct vs via Argus, open loop at the
// fixed rate and closed loop) and of P4's cache hit. Hand-written SVG; no chart library.
// Rows come from the latest results of each bench, so `npm run bench <name>` refreshes only that bench's rows; the
// measuredAt column says which run each row is from.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { machine, ROOT, round, type SummaryRow } from './bench-support';

const RESULTS = join(ROOT, 'bench', 'results');
const ORDER = [
  'P1',
  'P1c',
  'P1f',
  'P2',
  'P2m',
  'P2x',
  'P2j',
  'P3',
  'P4a',
  'P4f',
  'P4b',
  'P5',
  'P5c',
  'P6',
  'P7',
];

interface ResultFile {
  measuredAt?: string;
  summary?: SummaryRow[];
  samples?: Record<string, number[]>;
  rows?: Array<Record<string, unknown>>;
  loadAverage?: string;
  rate?: number;
}

function readResult(name: string): ResultFile | undefined {
  const path = join(RESULTS, `${name}.json`);
  if (!existsSync(path)) return undefined;
  return JSON.parse(readFileSync(path, 'utf8')) as ResultFile;
}

/** batch.bench.ts predates the summary rows: its job-path saturation becomes an informational row here. */
function batchRows(batch: ResultFile | undefined): SummaryRow[] {
  return (batch?.rows ?? []).slice(0, 1).map((row) => ({
    id: 'P2j',
    name: `job-path saturation (batch.bench.ts): one job of ${String(row.items)} images, ${String(row.slots)} slots × ${String(row.serviceTimeMs)} ms`,
    measured: `${round(Number(row.ratio) * 100, 1)}% (${String(row.throughputPerSecond)} of ${String(row.idealPerSecond)}/s)`,
    value: Number(row.ratio),
    target: 'report (P2 judges the sync path)',
    load: typeof row.loadAverage === 'string' ? row.loadAverage : '',
    note: `worker CPU ${JSON.stringify((row.cpuMsPerItem as Record<string, number> | undefined)?.moderation)} ms/item vs budget T/N ${String(row.workerCpuBudgetMsPerItem)} ms`,
  }));
}

const escapeXml = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** CDF lines on a log-scaled latency axis, one per series, with p50/p99 marks and a legend. */
export function latencySvg(
  title: string,
  series: Array<{ name: string; colour: string; samples: number[] }>,
): string {
  const width = 1040;
  const height = 480;
  const left = 70;
  const right = 340;
  const top = 50;
  const bottom = 60;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const all = series.flatMap((s) => s.samples).filter((v) => v > 0 && Number.isFinite(v));
  const minMs = 10 ** Math.floor(Math.log10(Math.max(0.1, Math.min(...all))));
  const maxMs = 10 ** Math.ceil(Math.log10(Math.max(...all)));
  const x = (ms: number) =>
    left +
    (plotW * (Math.log10(Math.max(ms, minMs)) - Math.log10(minMs))) / (Math.log10(maxMs) - Math.log10(minMs));
  const y = (fraction: number) => top + plotH * (1 - fraction);
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="${left}" y="24" font-size="15" font-weight="bold">${escapeXml(title)}</text>`,
  );
  // Grid: decades and 2×, 5× on x; tenths on y.
  // Labels at 2× and 5× only while there is room for them.
  const decades = Math.log10(maxMs / minMs);
  const label = (ms: number) => (ms >= 1000 ? `${ms / 1000} s` : ms >= 1 ? `${ms}` : ms.toFixed(1));
  for (let decade = minMs; decade <= maxMs; decade *= 10) {
    for (const step of [1, 2, 5]) {
      const ms = decade * step;
      if (ms > maxMs) break;
      const gx = x(ms).toFixed(1);
      parts.push(
        `<line x1="${gx}" y1="${top}" x2="${gx}" y2="${top + plotH}" stroke="${step === 1 ? '#bbb' : '#eee'}"/>`,
      );
      if (step === 1 || decades <= 4)
        parts.push(
          `<text x="${gx}" y="${top + plotH + 16}" text-anchor="middle" fill="#444">${label(ms)}</text>`,
        );
    }
  }
  for (let i = 0; i <= 10; i += 1) {
    const gy = y(i / 10).toFixed(1);
    parts.push(
      `<line x1="${left}" y1="${gy}" x2="${left + plotW}" y2="${gy}" stroke="${i % 5 === 0 ? '#bbb' : '#eee'}"/>`,
      `<text x="${left - 6}" y="${Number(gy) + 4}" text-anchor="end" fill="#444">${i * 10}%</text>`,
    );
  }
  parts.push(
    `<text x="${left + plotW / 2}" y="${height - 18}" text-anchor="middle">latency in ms, log scale (from the due time for fixed-rate runs)</text>`,
    `<text transform="translate(18 ${top + plotH / 2}) rotate(-90)" text-anchor="middle">share of requests at or below</text>`,
    `<line x1="${left}" y1="${y(0.99)}" x2="${left + plotW}" y2="${y(0.99)}" stroke="#999" stroke-dasharray="4 3"/>`,
    `<text x="${left + plotW - 4}" y="${y(0.99) - 4}" text-anchor="end" fill="#666">p99</text>`,
  );
  series.forEach((s, index) => {
    const sorted = [...s.samples].sort((a, b) => a - b);
    if (sorted.length === 0) return;
    // At most ~400 points per line keeps the file small without changing the shape.
    const stride = Math.max(1, Math.floor(sorted.length / 400));
    const points: string[] = [];
    for (let i = 0; i < sorted.length; i += stride)
      points.push(`${x(sorted[i]).toFixed(1)},${y((i + 1) / sorted.length).toFixed(1)}`);
    points.push(`${x(sorted[sorted.length - 1]).toFixed(1)},${y(1).toFixed(1)}`);
    parts.push(`<polyline fill="none" stroke="${s.colour}" stroke-width="2" points="${points.join(' ')}"/>`);
    const p50 = sorted[Math.floor(sorted.length * 0.5)];
    const p99 = sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))];
    parts.push(`<circle cx="${x(p50).toFixed(1)}" cy="${y(0.5).toFixed(1)}" r="3.5" fill="${s.colour}"/>`);
    const ly = top + 10 + index * 44;
    parts.push(
      `<line x1="${left + plotW + 16}" y1="${ly}" x2="${left + plotW + 40}" y2="${ly}" stroke="${s.colour}" stroke-width="3"/>`,
      `<text x="${left + plotW + 46}" y="${ly + 4}">${escapeXml(s.name)}</text>`,
      `<text x="${left + plotW + 46}" y="${ly + 20}" fill="#444">p50 ${round(p50)} ms, p99 ${round(p99)} ms, n=${sorted.length}</text>`,
    );
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

function main(): void {
  const files = readdirSync(RESULTS)
    .filter((file) => file.endsWith('.json') && file !== 'summary.json')
    .map((file) => file.slice(0, -'.json'.length));
  const rows: Array<SummaryRow & { measuredAt: string; source: string }> = [];
  for (const name of files) {
    const result = readResult(name);
    const own = name === 'batch' ? batchRows(result) : (result?.summary ?? []);
    for (const row of own)
      rows.push({ ...row, measuredAt: result?.measuredAt ?? '', source: `${name}.json` });
  }
  rows.sort((a, b) => {
    const ia = ORDER.indexOf(a.id);
    const ib = ORDER.indexOf(b.id);
    return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib);
  });
  const missing = ['P1', 'P2', 'P3', 'P4a', 'P5', 'P6', 'P7'].filter(
    (id) => !rows.some((row) => row.id === id),
  );

  process.stdout.write(`\nSummary (${machine()})\n\n`);
  process.stdout.write(
    '| row | what | measured | target | result | load 1/5/15 when measured | measured at |\n|---|---|---:|---:|---|---:|---|\n',
  );
  for (const row of rows) {
    const verdict = row.pass === undefined ? 'info' : row.pass ? 'pass' : 'MISS';
    process.stdout.write(
      `| ${row.id} | ${row.name} | ${row.measured} | ${row.target} | ${verdict} | ${row.load} | ${row.measuredAt.slice(0, 19)} |\n`,
    );
  }
  for (const row of rows) if (row.note) process.stdout.write(`\n${row.id}: ${row.note}`);
  process.stdout.write('\n');
  if (missing.length > 0) process.stdout.write(`\nno results yet for ${missing.join(', ')}\n`);

  writeFileSync(
    join(RESULTS, 'summary.json'),
    `${JSON.stringify({ generatedAt: new Date().toISOString(), machine: machine(), rows, missing }, null, 2)}\n`,
  );

  const overhead = readResult('overhead');
  const tiers = readResult('tiers');
  const rate = typeof overhead?.rate === 'number' ? overhead.rate : '?';
  const series = [
    {
      name: `P1 direct ollama client, ${rate}/s open loop`,
      colour: '#1f77b4',
      samples: overhead?.samples?.direct ?? [],
    },
    {
      name: `P1 via Argus, ${rate}/s open loop`,
      colour: '#d62728',
      samples: overhead?.samples?.viaArgus ?? [],
    },
    {
      name: 'P1 direct, closed loop',
      colour: '#6baed6',
      samples: overhead?.samples?.directClosedLoop ?? [],
    },
    {
      name: 'P1 via Argus, closed loop',
      colour: '#fc9272',
      samples: overhead?.samples?.viaArgusClosedLoop ?? [],
    },
    { name: 'P4 cache hit via gateway', colour: '#2ca02c', samples: tiers?.samples?.cacheHit ?? [] },
  ].filter((s) => s.samples.length > 0);
  if (series.length > 0) {
    writeFileSync(
      join(RESULTS, 'latency.svg'),
      latencySvg(`Latency CDFs (${machine()}; P1 ${overhead?.measuredAt?.slice(0, 16) ?? 'n/a'})`, series),
    );
    process.stdout.write('\nwrote bench/results/summary.json and bench/results/latency.svg\n');
  }
}

main();
