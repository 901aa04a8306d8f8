#!/usr/bin/env node
// `npm run bench [name]`: builds if needed, runs each benchmark in bench/ (TypeScript, through tsx), or only those
// whose file name contains `name`, then prints the summary table of every row (bench/summary.ts) from the latest
// results and writes bench/results/summary.json and bench/results/latency.svg.
// BENCH_SKIP_BUILD=1 uses dist/ as it is (e.g. while someone else's half-finished change breaks the build).
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { checkNode, ensureBuild, ensureDependencies, ensureNatsServer, fail, ROOT } from './setup.mjs';

checkNode();
ensureDependencies();
ensureNatsServer();
if (process.env.BENCH_SKIP_BUILD !== '1') ensureBuild();

const tsx = (file) =>
  spawnSync(
    process.execPath,
    [join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), '--tsconfig', join(ROOT, 'tsconfig.json'), file],
    { cwd: ROOT, stdio: 'inherit' },
  );

const only = process.argv[2];
const benches = readdirSync(join(ROOT, 'bench')).filter(
  (file) => file.endsWith('.bench.ts') && (!only || file.includes(only)),
);
if (benches.length === 0) fail(`no benchmark in bench/ matches "${only}"`);
const started = Date.now();
const failed = [];
for (const bench of benches) {
  const benchStarted = Date.now();
  process.stdout.write(`\n=== ${bench} ===\n`);
  const run = tsx(join(ROOT, 'bench', bench));
  process.stdout.write(`(${bench}: ${Math.round((Date.now() - benchStarted) / 1000)} s)\n`);
  // One broken bench must not hide the others' rows: carry on and fail at the end.
  if (run.status !== 0) failed.push(bench);
}
const summary = tsx(join(ROOT, 'bench', 'summary.ts'));
process.stdout.write(`\nnpm run bench took ${Math.round((Date.now() - started) / 1000)} s\n`);
if (failed.length > 0) fail(`${failed.join(', ')} failed`);
if (summary.status !== 0) fail('the summary failed');
