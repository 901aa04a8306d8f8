/**
 * Reads the operators' assets — Grafana dashboards in deploy/grafana/dashboards, Prometheus rules in
 * deploy/prometheus/rules, docs/runbooks.md — and takes PromQL apart just enough to test them: the vector selectors an
 * expression reads, and the metric names behind them. Used by the rule test (static checks, promtool) and by the
 * observability e2e test (every expression against a real Prometheus).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { parse } from 'yaml';

export const ROOT = join(__dirname, '..', '..');
export const DASHBOARD_DIR = join(ROOT, 'deploy', 'grafana', 'dashboards');
export const RULES_DIR = join(ROOT, 'deploy', 'prometheus', 'rules');
export const RULE_TESTS_DIR = join(ROOT, 'deploy', 'prometheus', 'tests');
export const PROMETHEUS_CONFIG = join(ROOT, 'deploy', 'prometheus', 'prometheus.yml');
export const RUNBOOKS = join(ROOT, 'docs', 'runbooks.md');
export const RUNBOOK_URL_PREFIX = 'https://github.com/argus/argus/blob/main/docs/runbooks.md#';

/** Metrics the dashboards and rules may use that the Argus catalog does not define. */
export const EXTERNAL_METRICS: readonly RegExp[] = [
  /^DCGM_FI_DEV_(GPU_UTIL|FB_USED)$/, // NVIDIA dcgm-exporter, next to the Ollama pods
  /^process_[a-z_]+$/, // prom-client default metrics
  /^nodejs_[a-z0-9_]+$/,
  /^up$/, // Prometheus itself
  /^ALERTS(_FOR_STATE)?$/,
];

/** Labels every scrape adds (Kubernetes) or that the histogram series carry. */
export const TARGET_LABELS = ['namespace', 'pod', 'job', 'instance', 'container'] as const;

export interface GrafanaTarget {
  refId?: string;
  expr?: string;
  datasource?: { type?: string; uid?: string };
}
export interface GrafanaPanel {
  id?: number;
  type: string;
  title?: string;
  datasource?: { type?: string; uid?: string };
  fieldConfig?: {
    defaults?: {
      unit?: string;
      thresholds?: { mode?: string; steps?: Array<{ color: string; value: number | null }> };
    };
  };
  targets?: GrafanaTarget[];
  panels?: GrafanaPanel[];
}
export interface GrafanaVariable {
  name: string;
  type: string;
  query?: string | { query?: string };
  datasource?: { type?: string; uid?: string };
}
export interface Dashboard {
  uid?: string;
  title?: string;
  schemaVersion?: number;
  panels?: GrafanaPanel[];
  templating?: { list?: GrafanaVariable[] };
}

export interface DashboardFile {
  file: string;
  dashboard: Dashboard;
}

export function loadDashboards(): DashboardFile[] {
  return readdirSync(DASHBOARD_DIR)
    .filter((file) => file.endsWith('.json'))
    .sort()
    .map((file) => ({
      file,
      dashboard: JSON.parse(readFileSync(join(DASHBOARD_DIR, file), 'utf8')) as Dashboard,
    }));
}

/** Every panel, rows' nested panels included, rows themselves excluded. */
export function allPanels(dashboard: Dashboard): GrafanaPanel[] {
  const out: GrafanaPanel[] = [];
  const visit = (panels: GrafanaPanel[] | undefined) => {
    for (const panel of panels ?? []) {
      if (panel.type === 'row') visit(panel.panels);
      else out.push(panel);
    }
  };
  visit(dashboard.panels);
  return out;
}

export interface PanelQuery {
  /** `argus-overview.json › Images/s by service and outcome › A` */
  id: string;
  file: string;
  panel: string;
  refId: string;
  expr: string;
}

export function panelQueries(files: DashboardFile[] = loadDashboards()): PanelQuery[] {
  return files.flatMap(({ file, dashboard }) =>
    allPanels(dashboard).flatMap((panel) =>
      (panel.targets ?? []).map((target) => ({
        id: `${file} › ${panel.title ?? `panel ${String(panel.id)}`} › ${target.refId ?? '?'}`,
        file,
        panel: panel.title ?? '',
        refId: target.refId ?? '',
        expr: target.expr ?? '',
      })),
    ),
  );
}

export interface VariableQuery {
  id: string;
  name: string;
  query: string;
}

export function variableQueries(files: DashboardFile[] = loadDashboards()): VariableQuery[] {
  return files.flatMap(({ file, dashboard }) =>
    (dashboard.templating?.list ?? [])
      .filter((variable) => variable.type === 'query')
      .map((variable) => ({
        id: `${file} › $${variable.name}`,
        name: variable.name,
        query: typeof variable.query === 'string' ? variable.query : (variable.query?.query ?? ''),
      })),
  );
}

/** What the e2e test puts in place of Grafana's variables: the local stack's namespace, every service and tier. */
export const TEST_VARIABLES: Readonly<Record<string, string>> = {
  namespace: 'local',
  service: '.*',
  tier: '.*',
  __rate_interval: '1m',
  __interval: '15s',
  __range: '5m',
  __range_s: '300',
};

/** Replaces `$name` and `${name}` (longest names first, so `$__range_s` is not read as `$__range`). */
export function substituteVariables(
  expr: string,
  values: Readonly<Record<string, string>> = TEST_VARIABLES,
): string {
  return expr.replace(
    /\$\{(\w+)\}|\$(\w+)/g,
    (whole, braced: string | undefined, bare: string | undefined) => {
      const name = braced ?? bare ?? '';
      if (braced !== undefined) return values[name] ?? whole;
      const keys = Object.keys(values)
        .filter((key) => name.startsWith(key))
        .sort((a, b) => b.length - a.length);
      if (keys.length === 0) return whole;
      const key = keys[0];
      return `${values[key]}${name.slice(key.length)}`;
    },
  );
}

/** `label_values(metric{...}, label)` as the PromQL that returns the same values. */
export function labelValuesAsQuery(query: string): { expr: string; label: string } | undefined {
  const match = /^\s*label_values\(\s*(.+?)\s*,\s*(\w+)\s*\)\s*$/s.exec(query);
  if (!match) return undefined;
  return { expr: `group by (${match[2]}) (${match[1]})`, label: match[2] };
}

export interface RuleDef {
  file: string;
  group: string;
  kind: 'alert' | 'record';
  name: string;
  expr: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

interface RuleFile {
  groups: Array<{
    name: string;
    rules: Array<{
      alert?: string;
      record?: string;
      expr: string;
      labels?: Record<string, string>;
      annotations?: Record<string, string>;
    }>;
  }>;
}

export function ruleFiles(): string[] {
  return readdirSync(RULES_DIR)
    .filter((file) => /\.ya?ml$/.test(file))
    .sort()
    .map((file) => join(RULES_DIR, file));
}

export function ruleTestFiles(): string[] {
  return readdirSync(RULE_TESTS_DIR)
    .filter((file) => /\.ya?ml$/.test(file))
    .sort()
    .map((file) => join(RULE_TESTS_DIR, file));
}

export function loadRules(): RuleDef[] {
  return ruleFiles().flatMap((path) => {
    const file = path.slice(RULES_DIR.length + 1);
    const parsed = parse(readFileSync(path, 'utf8')) as RuleFile;
    return parsed.groups.flatMap((group) =>
      group.rules.map((rule) => ({
        file,
        group: group.name,
        kind: rule.alert !== undefined ? ('alert' as const) : ('record' as const),
        name: rule.alert ?? rule.record ?? '',
        expr: rule.expr,
        labels: rule.labels ?? {},
        annotations: rule.annotations ?? {},
      })),
    );
  });
}

export interface RuleTestCase {
  file: string;
  name: string;
  alerts: Array<{ alertname: string; firing: boolean }>;
}

interface RuleTestFile {
  tests?: Array<{
    name?: string;
    alert_rule_test?: Array<{ alertname: string; exp_alerts?: unknown[] | null }>;
  }>;
}

export function loadRuleTests(): RuleTestCase[] {
  return ruleTestFiles().flatMap((path) => {
    const parsed = parse(readFileSync(path, 'utf8')) as RuleTestFile;
    return (parsed.tests ?? []).map((test) => ({
      file: path,
      name: test.name ?? '',
      alerts: (test.alert_rule_test ?? []).map((check) => ({
        alertname: check.alertname,
        firing: (check.exp_alerts ?? []).length > 0,
      })),
    }));
  });
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
export function markdownAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (/^\s*```/.test(line)) fenced = !fenced;
    if (fenced) continue;
    const heading = /^#{1,6}\s+(.+?)\s*#*\s*$/.exec(line);
    if (!heading) continue;
    const base = heading[1]
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.add(count === 0 ? base : `${base}-${count}`);
  }
  return anchors;
}

// PromQL words that are never metric names: aggregations, binary operators and their modifiers.
const KEYWORDS = new Set([
  'sum',
  'min',
  'max',
  'avg',
  'group',
  'stddev',
  'stdvar',
  'count',
  'count_values',
  'bottomk',
  'topk',
  'quantile',
  'limitk',
  'limit_ratio',
  'and',
  'or',
  'unless',
  'atan2',
  'bool',
  'offset',
  'inf',
  'nan',
]);
const GROUPING = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);

function skipString(expr: string, start: number): number {
  const quote = expr[start];
  let i = start + 1;
  while (i < expr.length && expr[i] !== quote) i += expr[i] === '\\' && quote !== '`' ? 2 : 1;
  return i + 1;
}

function skipBalanced(expr: string, start: number, open: string, close: string): number {
  let depth = 0;
  let i = start;
  while (i < expr.length) {
    const c = expr[i];
    if (c === '"' || c === "'" || c === '`') {
      i = skipString(expr, i);
      continue;
    }
    if (c === open) depth += 1;
    if (c === close) {
      depth -= 1;
      if (depth === 0) return i + 1;
    }
    i += 1;
  }
  return i;
}

/**
 * The instant-vector selectors of an expression, as written: `name` or `name{matchers}`, in order, without
 * duplicates. Functions, aggregations and their `by (...)` lists, `offset`, durations, numbers and strings are skipped.
 * Enough PromQL for the expressions in this repository; it is not a full parser.
 */
export function vectorSelectors(expr: string): string[] {
  const found: string[] = [];
  let i = 0;
  while (i < expr.length) {
    const c = expr[i];
    if (c === '#') {
      const end = expr.indexOf('\n', i);
      i = end < 0 ? expr.length : end;
      continue;
    }
    if (c === '"' || c === "'" || c === '`') {
      i = skipString(expr, i);
      continue;
    }
    if (c === '[') {
      i = skipBalanced(expr, i, '[', ']');
      continue;
    }
    if (c === '{') {
      // A selector without a metric name, `{__name__=~"..."}`.
      const end = skipBalanced(expr, i, '{', '}');
      found.push(expr.slice(i, end));
      i = end;
      continue;
    }
    if (/[0-9.]/.test(c)) {
      // A number or a duration such as 1h30m; 0x.. and exponents included.
      const number =
        /^(0x[0-9a-f]+|[0-9]*\.?[0-9]+(e[+-]?[0-9]+)?([0-9]+(ms|s|m|h|d|w|y))*(ms|s|m|h|d|w|y)?)/i.exec(
          expr.slice(i),
        );
      i += number ? Math.max(1, number[0].length) : 1;
      continue;
    }
    if (/[a-zA-Z_:]/.test(c)) {
      const ident = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(expr.slice(i))?.[0] ?? c;
      let j = i + ident.length;
      while (/\s/.test(expr[j] ?? '')) j += 1;
      if (GROUPING.has(ident)) {
        i = expr[j] === '(' ? skipBalanced(expr, j, '(', ')') : j;
        continue;
      }
      if (KEYWORDS.has(ident.toLowerCase()) || expr[j] === '(') {
        i = j;
        continue;
      }
      if (expr[j] === '{') {
        const end = skipBalanced(expr, j, '{', '}');
        found.push(ident + expr.slice(j, end).replace(/\s+/g, ' '));
        i = end;
      } else {
        found.push(ident);
        i = j;
      }
      continue;
    }
    i += 1;
  }
  return [...new Set(found)];
}

/** The metric name of a selector (`argus_x{a="b"}` → `argus_x`); `{__name__="x"}` → `x`. */
export function selectorMetric(selector: string): string {
  const named = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(selector);
  if (named) return named[0];
  return /__name__\s*=~?\s*"([^"]+)"/.exec(selector)?.[1] ?? selector;
}

/** The label names a selector matches on. */
export function selectorLabels(selector: string): string[] {
  const braces = /\{(.*)\}/s.exec(selector)?.[1] ?? '';
  const labels: string[] = [];
  const matcher = /([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)/g;
  for (let m = matcher.exec(braces); m; m = matcher.exec(braces)) labels.push(m[1]);
  return labels;
}

/** `argus_x_seconds_bucket` → `argus_x_seconds` when that is a histogram in `known`; otherwise the name itself. */
export function catalogName(metric: string, known: ReadonlySet<string>): string {
  if (known.has(metric)) return metric;
  const base = metric.replace(/_(bucket|count|sum)$/, '');
  return known.has(base) ? base : metric;
}

export function isExternalMetric(metric: string): boolean {
  return EXTERNAL_METRICS.some((pattern) => pattern.test(metric));
}

/** An executable on PATH (or the sbin folders apt uses), as scripts/setup.mjs finds binaries. */
export function findBinary(name: string): string | undefined {
  const dirs = (process.env.PATH ?? '').split(delimiter).concat(['/usr/sbin', '/usr/bin', '/usr/local/bin']);
  return dirs.map((dir) => join(dir, name)).find((candidate) => existsSync(candidate));
}

export const PROMETHEUS_MISSING =
  'prometheus/promtool not found on PATH. `npm test` installs them (Debian package prometheus); otherwise run ' +
  '`sudo apt-get install -y --no-install-recommends prometheus`, or `brew install prometheus`.';

export function promtool(args: string[]): { status: number | null; output: string } {
  const binary = findBinary('promtool');
  if (!binary) throw new Error(PROMETHEUS_MISSING);
  const result = spawnSync(binary, args, { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}
