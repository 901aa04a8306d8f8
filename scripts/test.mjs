#!/usr/bin/env node
// `npm test`: installs what the suite needs (npm deps, nats-server, chromium, helm), builds for the e2e tier, runs
// unit, integration, e2e and browser tests, and ends with one plain summary line.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  checkNode,
  ensureBuild,
  ensureChromium,
  ensureDependencies,
  ensureNatsServer,
  ensureTestFonts,
  log,
  ROOT,
} from './setup.mjs';
import { ensureHelm, HELM_MAJORS } from './helm.mjs';
import { ensurePrometheus } from './prometheus.mjs';

checkNode();
ensureDependencies();
ensureNatsServer();
ensureTestFonts();
const chromium = ensureChromium();
await ensurePrometheus();
// helm 3 and helm 4 for the chart tests, fetched here (once) so that the download shows before jest starts; the tests
// find them again (test/support/helm-binaries.ts) and fail, saying what to install, for a major that is missing.
const helms = Object.fromEntries(HELM_MAJORS.map((major) => [major, ensureHelm(major)]));
for (const helm of Object.values(helms)) if (helm.problem) log(helm.problem);
ensureBuild();

const results = join(ROOT, '.jest-results.json');
rmSync(results, { force: true });
const jest = join(ROOT, 'node_modules', 'jest', 'bin', 'jest.js');
const run = spawnSync(
  process.execPath,
  [jest, '--ci', '--json', `--outputFile=${results}`, ...process.argv.slice(2)],
  {
    cwd: ROOT,
    stdio: 'inherit',
    env: {
      ...process.env,
      ARGUS_TEST_NATS: process.env.ARGUS_TEST_NATS ?? '',
      CHROMIUM_PATH: chromium,
      ...Object.fromEntries(
        Object.values(helms)
          .filter((helm) => helm.path)
          .map((helm) => [`HELM${helm.major}_BIN`, helm.path]),
      ),
    },
  },
);

if (existsSync(results)) {
  const summary = JSON.parse(readFileSync(results, 'utf8'));
  const skipped = summary.numPendingTests + summary.numTodoTests;
  process.stdout.write(
    `\ntests: ${summary.numPassedTests} passed, ${summary.numFailedTests} failed, ${skipped} skipped\n`,
  );
  if (summary.numRuntimeErrorTestSuites > 0)
    process.stdout.write(`suites that failed to run: ${summary.numRuntimeErrorTestSuites}\n`);
}
process.exit(run.status ?? 1);
