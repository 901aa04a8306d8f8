// Every dashboard panel and every rule, against a real Prometheus scraping the stack that `npm start` starts.
//
// The stack runs as `npm start` runs it (scripts/start.mjs), with a small GPU tier served by the Ollama stand-in and a
// medium tier pointed at a closed port (a tier that is down). A real Prometheus (Debian package, 127.0.0.1, temp
// TSDB) scrapes the gateway and the three workers every second and loads deploy/prometheus/rules. Traffic produces
// successes, a cache hit, an escalation (tier=auto), image_decode_failed (a truncated JPEG) and model_unavailable
// (the medium tier). Then, through Prometheus' HTTP API:
// - every dashboard expression, variables substituted, must evaluate and return data;
// - every vector selector in it (metric plus matchers) must match series — so `x or vector(0)` cannot hide a
//   missing metric;
// - every recording rule must return data; every alert expression must evaluate, and every selector it reads must
//   match series. An alert's condition (`... > 0.05`, `== 0`) is rightly empty on a healthy stack, so alerts are not
//   required to return data: their inputs are;
// - every rule must be healthy in /api/v1/rules, and the alert for the medium tier must be pending.
// Only series listed in NEEDS_WHAT_THIS_MACHINE_LACKS may have no data; the test fails if one of them is not used.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { multipartBody, photoJpeg, truncatedJpeg, uniquePhotoJpeg } from '../support/fixtures';
import { freePort } from '../support/nats-harness';
import { startSpawnedStack, type SpawnedStack } from '../support/spawned-stack';
import {
  findBinary,
  labelValuesAsQuery,
  loadDashboards,
  loadRules,
  panelQueries,
  PROMETHEUS_MISSING,
  ruleFiles,
  selectorMetric,
  substituteVariables,
  TEST_VARIABLES,
  variableQueries,
  vectorSelectors,
} from '../support/observability-assets';
import { OllamaStandIn } from '../support/ollama-stand-in';

jest.setTimeout(180_000);

/**
 * Series that cannot exist on this machine, and why. Nothing else may come back empty.
 * - DCGM: needs an NVIDIA GPU and dcgm-exporter beside the Ollama pods.
 * - Review outcomes: need a person to resolve a review (test/integration/job-events.test.ts checks the counter).
 */
const NEEDS_WHAT_THIS_MACHINE_LACKS: Readonly<Record<string, string>> = {
  DCGM_FI_DEV_GPU_UTIL: 'an NVIDIA GPU with dcgm-exporter',
  DCGM_FI_DEV_FB_USED: 'an NVIDIA GPU with dcgm-exporter',
  argus_review_outcomes_total: 'a person resolving a review',
};

const SMALL_MODEL = 'qwen2.5vl:3b';
const SERVICES = ['gateway', 'moderation', 'tagging', 'ocr'] as const;

interface QueryResult {
  status: 'success' | 'error';
  error?: string;
  data?: { resultType: string; result: Array<{ metric: Record<string, string>; value: [number, string] }> };
}

let ollama: OllamaStandIn;
let stack: SpawnedStack | undefined;
let prometheus: ChildProcess | undefined;
let prometheusOutput = '';
let workDir: string;
let prometheusUrl: string;
const ports: Record<(typeof SERVICES)[number], number> = {
  gateway: 0,
  moderation: 0,
  tagging: 0,
  ocr: 0,
};
const statuses: Record<string, number[]> = {};
const startedAt = Date.now();

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what} within ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function query(expr: string): Promise<QueryResult> {
  const response = await fetch(`${prometheusUrl}/api/v1/query`, {
    method: 'POST',
    body: new URLSearchParams({ query: expr }),
    signal: AbortSignal.timeout(10_000),
  });
  return (await response.json()) as QueryResult;
}

async function series(expr: string): Promise<number> {
  const result = await query(expr);
  return result.status === 'success' ? (result.data?.result.length ?? 0) : 0;
}

async function analyze(label: string, image: Buffer, fields: Record<string, string>): Promise<void> {
  const response = await fetch(`http://127.0.0.1:${ports.gateway}/v1/analyze`, {
    method: 'POST',
    body: multipartBody(image, fields),
    signal: AbortSignal.timeout(90_000),
  });
  await response.arrayBuffer();
  (statuses[label] ??= []).push(response.status);
}

function stop(child: ChildProcess | undefined, graceMs: number): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const killer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(killer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

beforeAll(async () => {
  const prometheusBinary = findBinary('prometheus');
  if (!prometheusBinary) throw new Error(PROMETHEUS_MISSING);
  workDir = mkdtempSync(join(tmpdir(), 'argus-e2e-observability-'));
  // Realistic answers (percent confidences among them) so the normalisation counter has series to draw.
  ollama = await OllamaStandIn.start({
    models: [{ name: SMALL_MODEL, sizeVram: 3_400_000_000 }],
    output: 'realistic',
  });
  const [deadTierPort, prometheusPort] = await Promise.all([freePort(), freePort()]);
  stack = await startSpawnedStack({
    OLLAMA_HOST: ollama.url,
    ARGUS_TIERS: 'small,medium',
    // Nothing listens there: the medium tier is down, so tier=medium answers MODEL_UNAVAILABLE.
    ARGUS_TIER_MEDIUM_URL: `http://127.0.0.1:${deadTierPort}`,
    ARGUS_TIER_CHECK_INTERVAL_MS: '2000',
    LOG_LEVEL: 'warn',
  });
  const port = (url: string) => Number(new URL(url).port);
  Object.assign(ports, {
    gateway: port(stack.gatewayUrl),
    moderation: port(stack.workerUrls.moderation),
    tagging: port(stack.workerUrls.tagging),
    ocr: port(stack.workerUrls.ocr),
  });

  const jobs = SERVICES.map(
    (service) => `  - job_name: argus-${service}
    static_configs:
      - targets: ['127.0.0.1:${ports[service]}']
        labels:
          namespace: ${TEST_VARIABLES.namespace}`,
  ).join('\n');
  writeFileSync(
    join(workDir, 'prometheus.yml'),
    `global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n` +
      `rule_files:\n${ruleFiles()
        .map((file) => `  - ${JSON.stringify(file)}`)
        .join('\n')}\nscrape_configs:\n${jobs}\n`,
  );
  prometheusUrl = `http://127.0.0.1:${prometheusPort}`;
  prometheus = spawn(
    prometheusBinary,
    [
      `--config.file=${join(workDir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(workDir, 'tsdb')}`,
      `--web.listen-address=127.0.0.1:${prometheusPort}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  prometheus.stdout?.on('data', (chunk: Buffer) => (prometheusOutput += chunk.toString()));
  prometheus.stderr?.on('data', (chunk: Buffer) => (prometheusOutput += chunk.toString()));

  await until(`prometheus ready (${prometheusOutput.slice(-2000)})`, 30_000, async () =>
    (await fetch(`${prometheusUrl}/-/ready`)).ok ? true : undefined,
  );

  const photo = await photoJpeg(800, 600);
  await Promise.all([
    // The same image twice on one tier: a miss, then a cache hit in every worker.
    (async () => {
      await analyze('small', photo, { tier: 'small' });
      await analyze('small', photo, { tier: 'small' });
    })(),
    // tier=auto starts on the CPU tier and escalates to small.
    (async () => analyze('auto', await uniquePhotoJpeg(800, 600), {}))(),
    (async () => analyze('truncated', await truncatedJpeg(), {}))(),
    (async () => analyze('medium', await uniquePhotoJpeg(800, 600), { tier: 'medium' }))(),
  ]);

  // Scraped: all five gateway images and the cache hits are in Prometheus, the recording rules have run, and two
  // more scrapes give every new series the two samples rate() needs.
  await until('Prometheus to see the traffic', 30_000, async () => {
    const images = await query(`sum(argus_image_duration_seconds_count{service="gateway"})`);
    const seen = Number(images.data?.result[0]?.value[1] ?? 0);
    const hits = await series(`argus_cache_lookups_total{result="hit"}`);
    const recorded = await series('namespace_service:argus_images:rate5m');
    return seen >= 5 && hits >= 3 && recorded > 0 ? true : undefined;
  });
  await new Promise((resolve) => setTimeout(resolve, 2_500));
}, 240_000);

afterAll(async () => {
  await stack?.stop();
  await stop(prometheus, 10_000);
  await ollama.stop();
  rmSync(workDir, { recursive: true, force: true });
  process.stdout.write(`observability e2e: ${((Date.now() - startedAt) / 1000).toFixed(1)} s\n`);
});

const allowlisted = (selector: string) => selectorMetric(selector) in NEEDS_WHAT_THIS_MACHINE_LACKS;

/** Problems with one expression: it does not evaluate, returns nothing (when data is required), or reads nothing. */
async function check(expr: string, requireData: boolean): Promise<string[]> {
  const problems: string[] = [];
  const result = await query(expr);
  if (result.status !== 'success') return [`does not evaluate: ${result.error ?? 'unknown error'}`];
  const selectors = vectorSelectors(expr);
  if (requireData && (result.data?.result.length ?? 0) === 0 && !selectors.some(allowlisted))
    problems.push('returns no data');
  for (const selector of selectors) {
    if (allowlisted(selector)) continue;
    if ((await series(selector)) === 0) problems.push(`no series for ${selector}`);
  }
  return problems;
}

describe('Prometheus scraping the stack started by npm start', () => {
  it('answered the traffic as intended', () => {
    expect(statuses).toEqual({ small: [200, 200], auto: [200], truncated: [422], medium: [503] });
  });

  it('scrapes all four services', async () => {
    const response = await fetch(`${prometheusUrl}/api/v1/targets?state=active`);
    const body = (await response.json()) as {
      data: { activeTargets: Array<{ labels: Record<string, string>; health: string; lastError: string }> };
    };
    const health = Object.fromEntries(
      body.data.activeTargets.map((target) => [
        target.labels.job,
        `${target.health} ${target.lastError}`.trim(),
      ]),
    );
    expect(health).toEqual(Object.fromEntries(SERVICES.map((service) => [`argus-${service}`, 'up'])));
  });

  it('finds values for every dashboard variable', async () => {
    const problems: string[] = [];
    for (const variable of variableQueries(loadDashboards())) {
      const asQuery = labelValuesAsQuery(substituteVariables(variable.query));
      if (!asQuery) {
        problems.push(`${variable.id}: not a label_values() query`);
        continue;
      }
      const values = (await query(asQuery.expr)).data?.result.map((r) => r.metric[asQuery.label]) ?? [];
      if (values.length === 0) problems.push(`${variable.id}: no values`);
    }
    expect(problems).toEqual([]);
  });

  it.each(loadDashboards().map((d) => [d.file] as const))(
    'evaluates every panel of %s with data',
    async (file) => {
      const problems: string[] = [];
      for (const panel of panelQueries(loadDashboards().filter((d) => d.file === file))) {
        for (const problem of await check(substituteVariables(panel.expr), true))
          problems.push(`${panel.id}: ${problem}`);
      }
      expect(problems).toEqual([]);
    },
  );

  it('evaluates every recording rule with data', async () => {
    const problems: string[] = [];
    for (const rule of loadRules().filter((r) => r.kind === 'record')) {
      for (const problem of await check(rule.expr, true)) problems.push(`${rule.name}: ${problem}`);
      if ((await series(rule.name)) === 0) problems.push(`${rule.name}: not recorded by Prometheus`);
    }
    expect(problems).toEqual([]);
  });

  it('evaluates every alert expression, and every series an alert reads exists', async () => {
    const problems: string[] = [];
    for (const rule of loadRules().filter((r) => r.kind === 'alert')) {
      for (const problem of await check(rule.expr, false)) problems.push(`${rule.name}: ${problem}`);
    }
    expect(problems).toEqual([]);
  });

  it('has every rule healthy, and the alert for the medium tier that is down pending', async () => {
    const response = await fetch(`${prometheusUrl}/api/v1/rules`);
    const body = (await response.json()) as {
      data: { groups: Array<{ rules: Array<{ name: string; health: string; lastError?: string }> }> };
    };
    const unhealthy = body.data.groups
      .flatMap((group) => group.rules)
      .filter((rule) => rule.health !== 'ok')
      .map((rule) => `${rule.name}: ${rule.health} ${rule.lastError ?? ''}`);
    expect(unhealthy).toEqual([]);
    const pending = await query(
      'ALERTS{alertname="ArgusTierUnavailable", tier="medium", namespace="local", alertstate="pending"}',
    );
    expect(new Set(pending.data?.result.map((r) => r.metric.task))).toEqual(
      new Set(['moderation', 'tagging', 'ocr']),
    );
  });

  it('allowlists only series that panels or rules read', () => {
    const read = new Set(
      [...panelQueries(loadDashboards()).map((p) => p.expr), ...loadRules().map((r) => r.expr)].flatMap(
        (expr) => vectorSelectors(expr).map(selectorMetric),
      ),
    );
    expect(Object.keys(NEEDS_WHAT_THIS_MACHINE_LACKS).filter((name) => !read.has(name))).toEqual([]);
  });
});
