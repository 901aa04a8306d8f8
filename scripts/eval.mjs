#!/usr/bin/env node
// `npm run eval -- [--dataset DIR] [--tier T] [--gateway URL] …`: installs and builds what is missing, then runs the
// eval harness (eval/run-eval.ts, through tsx) with the given arguments. docs/eval.md describes them.
// `npm run eval:generate -- [DIR]` only writes the synthetic dataset (eval/generate-synthetic.ts);
// `node scripts/eval.mjs collect [DIR]` only collects the real-image dataset (eval/collect-realworld.ts).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import {
  checkNode,
  ensureBuild,
  ensureDependencies,
  ensureNatsServer,
  ensureTestFonts,
  ROOT,
} from './setup.mjs';

const args = process.argv.slice(2);
const SCRIPTS = { generate: 'generate-synthetic.ts', collect: 'collect-realworld.ts' };
const only = args[0] !== undefined && Object.hasOwn(SCRIPTS, args[0]) ? SCRIPTS[args[0]] : undefined;

checkNode();
ensureDependencies();
// Both datasets render text (labels, captions) with DejaVu Sans; without the font every glyph would be blank.
ensureTestFonts();
if (!only) {
  // A run against --gateway needs neither NATS nor a build, but both are cheap to check and keep one code path.
  ensureNatsServer();
  ensureBuild();
}

const run = spawnSync(
  process.execPath,
  [
    join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'),
    '--tsconfig',
    join(ROOT, 'tsconfig.json'),
    join(ROOT, 'eval', only ?? 'run-eval.ts'),
    ...(only ? args.slice(1) : args),
  ],
  { cwd: process.cwd(), stdio: 'inherit' },
);
process.exit(run.status ?? 1);
