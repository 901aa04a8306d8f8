#!/usr/bin/env node
// Keeps helm/argus in step with its sources, because Helm's .Files can only read inside the chart:
// - copies deploy/grafana/dashboards/*.json, deploy/prometheus/rules/*.yaml and the config/*.yaml files the chart's
//   ConfigMap ships into helm/argus/files/ (removing copies whose source is gone);
// - generates helm/argus/values.schema.json and the parameters table of helm/argus/README.md from the `## @param`
//   annotations of helm/argus/values.yaml with @bitnami/readme-generator-for-helm, then formats both with Prettier.
//
//   node scripts/sync-chart-assets.mjs           # write
//   node scripts/sync-chart-assets.mjs --check   # write nothing; list what differs and exit 1 if anything does
//
// test/integration/helm-chart.test.ts runs --check, so an edited dashboard, rule, config file or value annotation
// that was not synced fails the tests.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const CHART = join(ROOT, 'helm', 'argus');
const require = createRequire(import.meta.url);

/** Source folder → chart folder, and which files of the source are shipped. */
export const COPIES = [
  { from: 'deploy/grafana/dashboards', to: 'helm/argus/files/dashboards', match: /\.json$/ },
  { from: 'deploy/prometheus/rules', to: 'helm/argus/files/prometheus/rules', match: /\.ya?ml$/ },
  {
    from: 'config',
    to: 'helm/argus/files/config',
    match: /^(model-catalog|moderation-policies|listing-profiles|product-categories)\.yaml$/,
  },
];

/**
 * Keys whose objects are Kubernetes structures or free-form maps (resources, security contexts, labels …): their
 * schema stays open. Every other object of values.yaml gets `additionalProperties: false`, so a misspelt key in a
 * profile fails validation instead of being ignored. `nats` is the subchart's: any of its values may be set.
 */
const OPEN_OBJECTS = new Set([
  'resources',
  'requests',
  'limits',
  'podSecurityContext',
  'containerSecurityContext',
  'seccompProfile',
  'capabilities',
  'labels',
  'annotations',
  'nats',
]);

/**
 * Values keys renamed in a release. The schema still admits each (any value), so that a user's old key reaches the
 * templates, whose `fail` names the new key (templates/_helpers.tpl, argus.workerService), rather than being refused
 * with a bare "additional property" error.
 */
const RENAMED_KEYS = [{ path: ['workers', 'productTagging'], to: 'workers.tagging', release: '0.2' }];

function admitRenamedKeys(schema) {
  for (const { path, to, release } of RENAMED_KEYS) {
    let parent = schema;
    for (const key of path.slice(0, -1)) parent = parent.properties[key];
    parent.properties[path.at(-1)] = {
      description: `Renamed to ${to} in ${release}: setting it fails rendering with a message saying so`,
    };
  }
}

function sourceFiles(copy) {
  return readdirSync(join(ROOT, copy.from))
    .filter((name) => copy.match.test(name))
    .sort();
}

/** Every file the chart should hold, with its expected content. */
function expectedCopies() {
  const files = new Map();
  for (const copy of COPIES) {
    for (const name of sourceFiles(copy)) {
      files.set(join(copy.to, name), readFileSync(join(ROOT, copy.from, name), 'utf8'));
    }
  }
  return files;
}

function listFiles(dir) {
  try {
    return readdirSync(join(ROOT, dir)).map((name) => join(dir, name));
  } catch {
    return [];
  }
}

function tighten(schema, key = '') {
  if (schema.type !== 'object' || !schema.properties) return;
  if (OPEN_OBJECTS.has(key)) return;
  if (key !== '') schema.additionalProperties = false;
  for (const [child, sub] of Object.entries(schema.properties)) {
    if (OPEN_OBJECTS.has(child) && sub.type === 'object') continue;
    tighten(sub, child);
  }
}

/** Quantities are strings or numbers (`cpu: 2` and `cpu: "2"` are the same to Kubernetes). */
function quantities(schema, inResources = false) {
  if (!schema || typeof schema !== 'object') return;
  if (inResources && (schema.type === 'string' || schema.type === 'number')) {
    schema.type = ['string', 'number'];
  }
  for (const [key, sub] of Object.entries(schema.properties ?? {})) {
    quantities(sub, inResources || key === 'resources' || key === 'pullResources');
  }
}

async function format(text, parser) {
  const prettier = await import('prettier');
  const options = (await prettier.resolveConfig(join(CHART, 'values.yaml'))) ?? {};
  return prettier.format(text, { ...options, parser });
}

/** values.schema.json and README.md as the generator makes them from values.yaml today. */
async function generated() {
  const { runReadmeGenerator } = require('@bitnami/readme-generator-for-helm');
  const work = mkdtempSync(join(tmpdir(), 'argus-chart-'));
  const readme = join(work, 'README.md');
  const schema = join(work, 'values.schema.json');
  writeFileSync(readme, readFileSync(join(CHART, 'README.md'), 'utf8'));
  const log = console.log;
  const output = [];
  console.log = (...parts) => output.push(parts.join(' '));
  try {
    runReadmeGenerator({ values: join(CHART, 'values.yaml'), readme, schema });
  } catch (error) {
    console.log = log;
    throw new Error(`${error.message}\n${output.filter((line) => line.startsWith('ERROR')).join('\n')}`);
  } finally {
    console.log = log;
  }
  const raw = JSON.parse(readFileSync(schema, 'utf8'));
  tighten(raw);
  quantities(raw);
  admitRenamedKeys(raw);
  const withDialect = { $schema: 'http://json-schema.org/draft-07/schema#', ...raw };
  const result = new Map([
    ['helm/argus/values.schema.json', await format(JSON.stringify(withDialect, null, 2), 'json')],
    ['helm/argus/README.md', await format(readFileSync(readme, 'utf8'), 'markdown')],
  ]);
  rmSync(work, { recursive: true, force: true });
  return result;
}

function read(path) {
  try {
    return readFileSync(join(ROOT, path), 'utf8');
  } catch {
    return undefined;
  }
}

async function main() {
  const check = process.argv.includes('--check');
  const expected = new Map([...expectedCopies(), ...(await generated())]);
  const stale = COPIES.flatMap((copy) => listFiles(copy.to)).filter((path) => !expected.has(path));

  const drift = [];
  for (const [path, content] of expected) {
    if (read(path) === content) continue;
    drift.push(path);
    if (!check) {
      mkdirSync(dirname(join(ROOT, path)), { recursive: true });
      writeFileSync(join(ROOT, path), content);
    }
  }
  for (const path of stale) {
    drift.push(`${path} (no source)`);
    if (!check) rmSync(join(ROOT, path), { force: true });
  }

  if (drift.length === 0) {
    process.stdout.write('helm/argus is in sync with its sources\n');
    return;
  }
  if (check) {
    process.stdout.write(
      `helm/argus is out of date; run \`node scripts/sync-chart-assets.mjs\`:\n${drift.map((path) => `  ${path}`).join('\n')}\n`,
    );
    process.exit(1);
  }
  process.stdout.write(`updated:\n${drift.map((path) => `  ${path}`).join('\n')}\n`);
}

await main();
