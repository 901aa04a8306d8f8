#!/usr/bin/env node
// Installs what `npm start` and `npm test` need, or says exactly what is missing. Safe to run repeatedly.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const MIN_NODE_MAJOR = 20;

export function log(message) {
  process.stdout.write(`[argus] ${message}\n`);
}

export function fail(message) {
  process.stderr.write(`[argus] ${message}\n`);
  process.exit(1);
}

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { cwd: ROOT, stdio: 'inherit', ...options });
  return result.status === 0;
}

export function checkNode() {
  const major = Number(process.versions.node.split('.')[0]);
  if (major < MIN_NODE_MAJOR)
    fail(`Node.js ${MIN_NODE_MAJOR} or newer is required; this is ${process.version}.`);
}

export function ensureDependencies() {
  const marker = join(ROOT, 'node_modules', '.package-lock.json');
  const lock = join(ROOT, 'package-lock.json');
  if (existsSync(marker) && statSync(marker).mtimeMs >= statSync(lock).mtimeMs) return;
  log('installing npm dependencies (npm ci)…');
  // .npmrc says the same for a plain `npm ci`; the variable keeps it working once npm stops passing unknown keys on.
  const env = { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip' };
  if (!run('npm', ['ci', '--no-audit', '--no-fund'], { env })) fail('npm ci failed; see the output above.');
}

export function findOnPath(binary) {
  const dirs = (process.env.PATH ?? '').split(delimiter).concat(['/usr/sbin', '/usr/bin', '/usr/local/bin']);
  for (const dir of dirs) {
    const candidate = join(dir, binary);
    if (dir && existsSync(candidate)) return candidate;
  }
  return undefined;
}

const NATS_HELP = `nats-server is required to run Argus locally (or set NATS_URL to an existing NATS with JetStream).
  Debian/Ubuntu: sudo apt-get install -y nats-server
  macOS:         brew install nats-server
  Other:         download a release from the nats-io/nats-server project and put nats-server on PATH`;

/**
 * Installs Debian packages with apt-get when this is a root shell that has it; true when they installed. Tries
 * without `apt-get update` first, so a machine with fresh lists installs offline from its cache.
 */
export function aptInstall(packages, { extraArgs = [], env: extraEnv = {} } = {}) {
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!findOnPath('apt-get') || !isRoot) return false;
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive', ...extraEnv };
  const install = () => run('apt-get', ['install', '-y', '-qq', ...extraArgs, ...packages], { env });
  return install() || (run('apt-get', ['update', '-qq'], { env }) && install());
}

export function ensureNatsServer() {
  const found = findOnPath('nats-server');
  if (found) return found;
  log('nats-server not found; installing it with apt-get…');
  if (aptInstall(['nats-server'])) {
    const installed = findOnPath('nats-server');
    if (installed) return installed;
  }
  fail(NATS_HELP);
}

/**
 * The OCR tests render labels with DejaVu Sans through sharp's SVG renderer; without the font every glyph is blank.
 * Only the test command needs it.
 */
export function ensureTestFonts() {
  const font = '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf';
  if (existsSync(font) || process.platform !== 'linux') return;
  log('installing the DejaVu fonts the OCR tests render labels with (apt-get install fonts-dejavu-core)…');
  if (aptInstall(['fonts-dejavu-core']) && existsSync(font)) return;
  fail(
    `The OCR tests need the DejaVu fonts: install the package fonts-dejavu-core (Debian/Ubuntu) or fonts-dejavu.`,
  );
}

const CHROMIUM_HELP = `The browser tests drive Chromium through playwright-core and need a chromium binary.
  Debian/Ubuntu: sudo apt-get install -y chromium
  Other:         install Chromium or Chrome and set CHROMIUM_PATH to its executable`;

/** The browser the browser tests drive: CHROMIUM_PATH, else chromium on PATH, else Debian's package installed. */
export function ensureChromium() {
  const configured = process.env.CHROMIUM_PATH;
  if (configured) {
    if (existsSync(configured)) return configured;
    fail(`CHROMIUM_PATH is ${configured}, which does not exist.\n${CHROMIUM_HELP}`);
  }
  const found = findOnPath('chromium');
  if (found) return found;
  log('chromium not found; installing the Debian package chromium with apt-get (for the browser tests)…');
  if (aptInstall(['chromium'])) {
    const installed = findOnPath('chromium');
    if (installed) return installed;
  }
  fail(CHROMIUM_HELP);
}

const SOURCE_DIRS = ['services', 'libs', 'cli'];
const BUILD_INPUTS = ['tsconfig.json', 'tsconfig.build.json', 'package-lock.json'];
const STAMP = join(ROOT, 'dist', '.build-stamp');

function newestMtime(path) {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = 0;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

export function ensureBuild() {
  const sources = Math.max(
    ...SOURCE_DIRS.map((dir) => newestMtime(join(ROOT, dir))),
    ...BUILD_INPUTS.map((file) => statSync(join(ROOT, file)).mtimeMs),
  );
  if (existsSync(STAMP) && statSync(STAMP).mtimeMs >= sources) return;
  log('building (npm run build)…');
  if (!run('npm', ['run', '--silent', 'build'])) fail('the build failed; see the output above.');
  writeFileSync(STAMP, new Date().toISOString());
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  checkNode();
  ensureDependencies();
  if (!process.env.NATS_URL) log(`nats-server: ${ensureNatsServer()}`);
  ensureBuild();
  log('setup complete.');
}
