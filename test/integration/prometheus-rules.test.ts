// The operators' assets without a running stack: promtool checks and unit-tests the rules, every alert carries its
// annotations and a runbook section, every dashboard panel has a datasource, a unit and thresholds, and every metric
// that a panel or rule reads is one the catalog (libs/telemetry/src/metric-names.ts) defines — so renaming a metric
// there fails here, before any Prometheus runs.
import { readFileSync } from 'node:fs';
import { ArgusMetrics, METRIC } from '@argus/telemetry';
import {
  allPanels,
  catalogName,
  findBinary,
  isExternalMetric,
  labelValuesAsQuery,
  loadDashboards,
  loadRules,
  loadRuleTests,
  markdownAnchors,
  panelQueries,
  PROMETHEUS_CONFIG,
  PROMETHEUS_MISSING,
  promtool,
  ruleFiles,
  RUNBOOK_URL_PREFIX,
  RUNBOOKS,
  ruleTestFiles,
  selectorLabels,
  selectorMetric,
  TARGET_LABELS,
  variableQueries,
  vectorSelectors,
} from '../support/observability-assets';

jest.setTimeout(120_000);

const dashboards = loadDashboards();
const rules = loadRules();
const alerts = rules.filter((rule) => rule.kind === 'alert');
const recorded = new Set(rules.filter((rule) => rule.kind === 'record').map((rule) => rule.name));
const catalog = new Set<string>(Object.values(METRIC));

/** Every expression a dashboard or rule evaluates, with where it comes from. */
const expressions = [
  ...panelQueries(dashboards).map((query) => ({ where: query.id, expr: query.expr })),
  ...variableQueries(dashboards).map((variable) => ({
    where: variable.id,
    expr: labelValuesAsQuery(variable.query)?.expr ?? variable.query,
  })),
  ...rules.map((rule) => ({ where: `${rule.file} › ${rule.name}`, expr: rule.expr })),
];

describe('promtool', () => {
  beforeAll(() => {
    if (!findBinary('promtool')) throw new Error(PROMETHEUS_MISSING);
  });

  it('checks the rule files', () => {
    const result = promtool(['check', 'rules', ...ruleFiles()]);
    expect({ status: result.status, output: result.output }).toMatchObject({ status: 0 });
  });

  it('checks the example scrape config and the rule files it loads', () => {
    const result = promtool(['check', 'config', PROMETHEUS_CONFIG]);
    expect({ status: result.status, output: result.output }).toMatchObject({ status: 0 });
    expect(result.output).toContain(`SUCCESS: ${ruleFiles().length} rule files found`);
  });

  it('passes the rule unit tests in deploy/prometheus/tests', () => {
    const result = promtool(['test', 'rules', ...ruleTestFiles()]);
    expect({ status: result.status, output: result.output }).toMatchObject({ status: 0 });
  });
});

describe('alert rules', () => {
  const runbookAnchors = markdownAnchors(readFileSync(RUNBOOKS, 'utf8'));
  const ruleTests = loadRuleTests().flatMap((test) => test.alerts);

  it('define the alerts the issue asks for', () => {
    expect(alerts.map((alert) => alert.name).sort()).toEqual(
      expect.arrayContaining([
        'ArgusCacheHitRatioCollapse',
        'ArgusDeadLetterQueueNotEmpty',
        'ArgusImageErrorRatioHigh',
        'ArgusImageLatencyBudgetFastBurn',
        'ArgusImageLatencyBudgetSlowBurn',
        'ArgusJetStreamLagGrowing',
        'ArgusNoTraffic',
        'ArgusTierBreakerOpen',
        'ArgusTierUnavailable',
      ]),
    );
    expect(new Set(alerts.map((alert) => alert.name)).size).toBe(alerts.length);
  });

  it.each(alerts.map((alert) => [alert.name, alert] as const))(
    '%s has a severity, a summary, a templated description and a runbook section',
    (_name, alert) => {
      expect(['page', 'ticket']).toContain(alert.labels.severity);
      expect(alert.annotations.summary).toEqual(expect.any(String));
      expect(alert.annotations.description).toMatch(/\{\{\s*\$(labels|value)/);
      const url = alert.annotations.runbook_url;
      expect(url.startsWith(RUNBOOK_URL_PREFIX)).toBe(true);
      const anchor = url.slice(RUNBOOK_URL_PREFIX.length);
      expect([...runbookAnchors]).toContain(anchor);
      expect(anchor).toBe(alert.name.toLowerCase());
    },
  );

  it.each(alerts.map((alert) => [alert.name] as const))(
    '%s is unit-tested by promtool both firing and not firing',
    (name) => {
      const cases = ruleTests.filter((check) => check.alertname === name);
      expect(cases.some((check) => check.firing)).toBe(true);
      expect(cases.some((check) => !check.firing)).toBe(true);
    },
  );

  it('read only recording rules that exist', () => {
    const missing = rules.flatMap((rule) =>
      vectorSelectors(rule.expr)
        .map(selectorMetric)
        .filter((name) => name.includes(':') && !recorded.has(name))
        .map((name) => `${rule.name} reads ${name}`),
    );
    expect(missing).toEqual([]);
  });
});

describe('dashboards', () => {
  it('are the three the issue asks for, with unique uids and a current schema', () => {
    expect(dashboards.map((d) => d.file)).toEqual([
      'argus-inference-gpu.json',
      'argus-messaging.json',
      'argus-overview.json',
    ]);
    for (const { dashboard } of dashboards) {
      expect(dashboard.uid).toMatch(/^argus-[a-z-]+$/);
      expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(39);
    }
    expect(new Set(dashboards.map((d) => d.dashboard.uid)).size).toBe(dashboards.length);
  });

  it.each(dashboards.map((d) => [d.file, d.dashboard] as const))(
    '%s has a Prometheus datasource variable and namespace, service and tier variables from label_values',
    (_file, dashboard) => {
      const variables = dashboard.templating?.list ?? [];
      expect(variables.find((v) => v.name === 'datasource')).toMatchObject({
        type: 'datasource',
        query: 'prometheus',
      });
      for (const name of ['namespace', 'service', 'tier']) {
        const variable = variables.find((v) => v.name === name);
        expect(variable).toMatchObject({ type: 'query', datasource: { uid: '${datasource}' } });
        const query = typeof variable?.query === 'string' ? variable.query : variable?.query?.query;
        expect(query).toMatch(new RegExp(`^label_values\\(.+, ${name}\\)$`));
      }
    },
  );

  const panels = dashboards.flatMap(({ file, dashboard }) =>
    allPanels(dashboard).map((panel) => [`${file} › ${panel.title ?? '?'}`, panel] as const),
  );

  it.each(panels)('%s has the datasource variable, a unit, thresholds and PromQL targets', (_id, panel) => {
    expect(panel.datasource).toEqual({ type: 'prometheus', uid: '${datasource}' });
    expect(panel.fieldConfig?.defaults?.unit).toEqual(expect.any(String));
    expect(panel.fieldConfig?.defaults?.unit).not.toBe('');
    expect(panel.fieldConfig?.defaults?.thresholds?.steps?.length).toBeGreaterThan(0);
    expect(panel.targets?.length).toBeGreaterThan(0);
    for (const target of panel.targets ?? []) {
      expect(target.datasource).toEqual({ type: 'prometheus', uid: '${datasource}' });
      expect(target.expr).toEqual(expect.any(String));
    }
  });

  it('filter every series they read by the namespace variable', () => {
    const unfiltered = panelQueries(dashboards).flatMap((query) =>
      vectorSelectors(query.expr)
        .filter((selector) => !/namespace=~"\$namespace"/.test(selector))
        .map((selector) => `${query.id}: ${selector}`),
    );
    expect(unfiltered).toEqual([]);
  });
});

describe('metric names in dashboards and rules', () => {
  it('are all in the catalog (METRIC), recording rules, or the external allowlist (DCGM, process_, nodejs_, up)', () => {
    const unknown = expressions.flatMap(({ where, expr }) =>
      vectorSelectors(expr)
        .map(selectorMetric)
        .filter(
          (name) =>
            !catalog.has(catalogName(name, catalog)) && !recorded.has(name) && !isExternalMetric(name),
        )
        .map((name) => `${where}: ${name}`),
    );
    expect(unknown).toEqual([]);
  });

  it('cover every metric of the catalog on some dashboard', () => {
    const shown = new Set(
      panelQueries(dashboards).flatMap((query) =>
        vectorSelectors(query.expr).map((selector) => catalogName(selectorMetric(selector), catalog)),
      ),
    );
    expect([...catalog].filter((name) => !shown.has(name))).toEqual([]);
  });

  it('match only on labels the metric has, or on scrape target labels', () => {
    const metrics = new ArgusMetrics('rules-test');
    const labelsOf = new Map<string, string[]>(
      metrics.registry
        .getMetricsAsArray()
        .map((metric) => [metric.name, (metric as unknown as { labelNames?: string[] }).labelNames ?? []]),
    );
    const wrong = expressions.flatMap(({ where, expr }) =>
      vectorSelectors(expr).flatMap((selector) => {
        const raw = selectorMetric(selector);
        const name = catalogName(raw, catalog);
        const own = labelsOf.get(name);
        if (!catalog.has(name) || own === undefined) return [];
        const allowed = new Set<string>([
          ...own,
          ...TARGET_LABELS,
          ...(raw.endsWith('_bucket') ? ['le'] : []),
        ]);
        return selectorLabels(selector)
          .filter((label) => !allowed.has(label))
          .map((label) => `${where}: ${name} has no label ${label}`);
      }),
    );
    expect(wrong).toEqual([]);
  });
});
