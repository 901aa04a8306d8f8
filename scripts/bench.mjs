#!/usr/bin/env node
// `npm run bench`: builds if needed, then runs each benchmark in bench/ (TypeScript, through tsx).
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { checkNode, ensureBuild, ensureDependencies, ensureNatsServer, fail, ROOT } from './setup.mjs';

checkNode();
ensureDependencies();
ensureNatsServer();
ensureBuild();

const only = process.argv[2];
const benches = readdirSync(join(ROOT, 'bench')).filter(
  (file) => file.endsWith('.bench.ts') && (!only || file.includes(only)),
);
for (const bench of benches) {
  const run = spawnSync(
    process.execPath,
    [
      join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'),
      '--tsconfig',
      join(ROOT, 'tsconfig.json'),
      join(ROOT, 'bench', bench),
    ],
    {
      cwd: ROOT,
      stdio: 'inherit',
    },
  );
  if (run.status !== 0) fail(`${bench} failed`);
}
