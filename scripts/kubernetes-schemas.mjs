#!/usr/bin/env node
// Regenerates the field tables in test/support/kubernetes-schemas/ that test/support/kubernetes-strict.ts validates the
// chart's rendered objects against, strictly (an unknown field is an error):
// - kubernetes-<version>.json, for the lowest Kubernetes the chart supports (Chart.yaml's kubeVersion), the first
//   with resource.k8s.io/v1 (DRA) and the newest: from @kubernetes/client-node, whose models are generated from
//   Kubernetes' OpenAPI spec (each model's attributeTypeMap gives the fields and their types and formats, its .d.ts
//   which are required). `npm pack` fetches each version's tarball from the npm registry into a temporary folder.
// - crds.json, for the custom resources the chart renders: from the TypeScript declarations that
//   @kubernetes-models/prometheus-operator and @kubernetes-models/keda (installed dev dependencies) generate from
//   the CRDs' openAPIV3Schema; their compiled validators do not reject unknown fields, and they ship no raw schema.
//
//   node scripts/kubernetes-schemas.mjs
//
// Only the types reachable from the kinds below are kept. Table format (test/support/kubernetes-schemas/README.md):
// { source, kinds: { "<apiVersion> <kind>": "<root type>" }, types: { <type>: { required: [...], properties: {
// <field>: "<type>" } } } } where a type is string, integer, number, boolean, IntOrString, Quantity, object
// (free-form), Array<T>, Map<T> (an object with any keys) or the name of another type.
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(ROOT, 'test', 'support', 'kubernetes-schemas');

/** Kubernetes minor → @kubernetes/client-node version generated from that minor's OpenAPI spec. */
const CLIENT_NODE = { 1.27: '0.19.0', 1.34: '1.4.0', 1.36: '2.0.1' };

/** The kinds the chart and the NATS chart it depends on render. */
const KINDS = [
  ['v1', 'ConfigMap'],
  ['v1', 'PersistentVolumeClaim'],
  ['v1', 'Pod'],
  ['v1', 'Secret'],
  ['v1', 'Service'],
  ['v1', 'ServiceAccount'],
  ['apps/v1', 'Deployment'],
  ['apps/v1', 'StatefulSet'],
  ['autoscaling/v2', 'HorizontalPodAutoscaler'],
  ['networking.k8s.io/v1', 'NetworkPolicy'],
  ['policy/v1', 'PodDisruptionBudget'],
  ['resource.k8s.io/v1', 'ResourceClaimTemplate'],
];

/**
 * client-node types resource.Quantity as a plain string; the API also takes a number for one (`cpu: 2`). These are
 * the Quantity fields among the kinds above, marked Quantity again (Map<Quantity> for the maps).
 */
const QUANTITIES = new Set([
  'V1ResourceRequirements.limits',
  'V1ResourceRequirements.requests',
  'V1VolumeResourceRequirements.limits',
  'V1VolumeResourceRequirements.requests',
  'V1EmptyDirVolumeSource.sizeLimit',
  'V1PodSpec.overhead',
  'V1ResourceFieldSelector.divisor',
  'V2MetricTarget.averageValue',
  'V2MetricTarget.value',
  'V1CapacityRequirements.requests',
]);

const run = (command, args, cwd) => execFileSync(command, args, { cwd, encoding: 'utf8' });

/** Unpacks @kubernetes/client-node@version from the npm registry; returns the package folder. */
function fetchClientNode(version, work) {
  const dir = join(work, version);
  mkdirSync(dir, { recursive: true });
  const tarball = run('npm', ['pack', `@kubernetes/client-node@${version}`, '--silent'], dir)
    .trim()
    .split('\n')
    .pop();
  run('tar', ['xzf', tarball], dir);
  return join(dir, 'package');
}

/** Every model of a client-node package: name → { fields: [{ name, baseName, type, format }], required: Set }. */
function readModels(pkg) {
  const dir = ['dist/gen/models', 'dist/gen/model'].map((d) => join(pkg, d)).find(existsSync);
  const models = new Map();
  let spec;
  for (const file of readdirSync(dir).filter((name) => name.endsWith('.js'))) {
    const source = readFileSync(join(dir, file), 'utf8');
    spec ??= /(?:OpenAPI spec version|The version of the OpenAPI document): (\S+)/.exec(source)?.[1];
    const match = /(\w+)\.attributeTypeMap = (\[[\s\S]*?\n\]);/.exec(source);
    if (!match) continue;
    const declaration = readFileSync(join(dir, file.replace(/\.js$/, '.d.ts')), 'utf8');
    const required = new Set(
      [...declaration.matchAll(/^\s+'([^']+)':/gm)].map((field) => field[1]).filter(Boolean),
    );
    models.set(match[1], { fields: JSON.parse(match[2]), required });
  }
  const apis = ['dist/gen/apis', 'dist/gen/api'].map((d) => join(pkg, d)).find(existsSync);
  const apiSources = readdirSync(apis)
    .filter((name) => name.endsWith('.js'))
    .map((name) => readFileSync(join(apis, name), 'utf8'));
  return { models, spec, apiSources };
}

const className = (apiVersion, kind) => {
  const version = apiVersion.split('/').pop();
  return `${version[0].toUpperCase()}${version.slice(1)}${kind}`;
};

/** The table of one Kubernetes version; `formats` (other versions' models) fills in integer formats 0.19 lacks. */
function kubernetesTable(minor, version, { models, spec, apiSources }, formats) {
  const kinds = {};
  for (const [apiVersion, kind] of KINDS) {
    const name = className(apiVersion, kind);
    const path = apiVersion === 'v1' ? "'/api/v1/" : `'/apis/${apiVersion}/`;
    // The model must exist and be served by the API of that group version (not a same-named type of another group).
    if (models.has(name) && apiSources.some((api) => api.includes(path) && api.includes(`"${name}"`)))
      kinds[`${apiVersion} ${kind}`] = name;
  }
  const types = {};
  const queue = Object.values(kinds);
  const typeOf = (model, field) => {
    const format =
      field.format ??
      formats
        .map((other) => other.get(model)?.fields.find((f) => f.name === field.name)?.format)
        .find(Boolean);
    const convert = (type) => {
      const array = /^Array<(.+)>$/.exec(type);
      if (array) return `Array<${convert(array[1])}>`;
      const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
      if (map) return `Map<${convert(map[1])}>`;
      if (type === 'string' && QUANTITIES.has(`${model}.${field.name}`)) return 'Quantity';
      if (type === 'string' || type === 'Date') return 'string';
      if (type === 'number') return format === 'int32' || format === 'int64' ? 'integer' : 'number';
      if (type === 'boolean' || type === 'IntOrString') return type;
      if (type === 'object' || type === 'any') return 'object';
      if (!models.has(type)) throw new Error(`${version}: ${model}.${field.name} has unknown type ${type}`);
      queue.push(type);
      return type;
    };
    const converted = convert(field.type);
    if (QUANTITIES.has(`${model}.${field.name}`) && !converted.includes('Quantity'))
      throw new Error(`${version}: ${model}.${field.name} (${field.type}) is listed as a Quantity`);
    return converted;
  };
  while (queue.length > 0) {
    const name = queue.shift();
    if (types[name]) continue;
    const model = models.get(name);
    const properties = {};
    types[name] = { required: [], properties };
    for (const field of model.fields) {
      // Rendered objects never carry a status: dropping it keeps the tables small and flags one that does.
      if (field.baseName === 'status' && /Status$/.test(field.type)) continue;
      properties[field.baseName] = typeOf(name, field);
      if (model.required.has(field.name)) types[name].required.push(field.baseName);
    }
  }
  for (const [name, { properties }] of Object.entries(types))
    for (const field of Object.keys(properties).filter((f) => QUANTITIES.has(`${name}.${f}`)))
      if (!/Quantity/.test(properties[field])) throw new Error(`${name}.${field} is not a Quantity`);
  const sorted = Object.fromEntries(
    Object.keys(types)
      .sort()
      .map((name) => [name, types[name]]),
  );
  return {
    kubernetes: minor,
    source: { package: '@kubernetes/client-node', version, spec, license: 'Apache-2.0' },
    kinds,
    types: sorted,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// CRDs, from the TypeScript declarations of @kubernetes-models/*

const CRDS = [
  ['@kubernetes-models/prometheus-operator', 'monitoring.coreos.com/v1/ServiceMonitor', 'IServiceMonitor'],
  ['@kubernetes-models/prometheus-operator', 'monitoring.coreos.com/v1/PrometheusRule', 'IPrometheusRule'],
  ['@kubernetes-models/prometheus-operator', 'monitoring.coreos.com/v1/PodMonitor', 'IPodMonitor'],
  ['@kubernetes-models/keda', 'keda.sh/v1alpha1/ScaledObject', 'IScaledObject'],
];

function crdTable() {
  const require = createRequire(join(ROOT, 'package.json'));
  const ts = require('typescript');
  // The packages' exports hide their .d.ts and package.json: read them from the folder of their main file.
  const folder = (pkg) => dirname(require.resolve(pkg));
  const packageJson = (pkg) => JSON.parse(readFileSync(join(folder(pkg), 'package.json'), 'utf8'));
  const files = CRDS.map(([pkg, path]) => join(folder(pkg), `${path}.d.ts`));
  const program = ts.createProgram(files, { strict: true, noEmit: true, skipLibCheck: true });
  const checker = program.getTypeChecker();
  const types = {};
  const kinds = {};

  const describe = (type, hint) => {
    if (type.flags & (ts.TypeFlags.Any | ts.TypeFlags.Unknown)) return 'object';
    if (type.isUnion()) {
      const parts = type.types.filter((t) => !(t.flags & (ts.TypeFlags.Undefined | ts.TypeFlags.Null)));
      const kind = (t) =>
        t.flags & ts.TypeFlags.StringLike
          ? 'string'
          : t.flags & ts.TypeFlags.NumberLike
            ? 'number'
            : t.flags & ts.TypeFlags.BooleanLike
              ? 'boolean'
              : 'other';
      const found = new Set(parts.map(kind));
      if (found.size === 1 && !found.has('other')) return [...found][0];
      if (found.size === 2 && found.has('string') && found.has('number')) return 'IntOrString';
      if (parts.length === 1) return describe(parts[0], hint);
      throw new Error(`${hint}: union ${checker.typeToString(type)}`);
    }
    if (type.flags & ts.TypeFlags.StringLike) return 'string';
    if (type.flags & ts.TypeFlags.NumberLike) return 'number';
    if (type.flags & ts.TypeFlags.BooleanLike) return 'boolean';
    if (checker.isArrayType(type)) return `Array<${describe(checker.getTypeArguments(type)[0], hint)}>`;
    const properties = checker.getPropertiesOfType(type);
    const index = checker.getIndexInfoOfType(type, ts.IndexKind.String);
    if (properties.length === 0) return index ? `Map<${describe(index.type, `${hint}.*`)}>` : 'object';
    if (index) return 'object';
    const symbolName = type.aliasSymbol?.name ?? type.getSymbol()?.name;
    const name = symbolName && !symbolName.startsWith('__') ? symbolName.replace(/^I(?=[A-Z])/, '') : hint;
    if (types[name]) return name;
    const entry = { required: [], properties: {} };
    types[name] = entry;
    for (const property of properties) {
      const propertyType = checker.getTypeOfSymbol(property);
      entry.properties[property.name] = describe(propertyType, `${hint}.${property.name}`);
      if (!(property.flags & ts.SymbolFlags.Optional)) entry.required.push(property.name);
    }
    return name;
  };

  const sources = {};
  CRDS.forEach(([pkg, path, interfaceName], i) => {
    const source = program.getSourceFile(files[i]);
    const symbol = checker.getSymbolAtLocation(source).exports.get(interfaceName);
    const type = checker.getDeclaredTypeOfSymbol(symbol);
    const kind = path.split('/').pop();
    const root = describe(type, kind);
    // Like the Kubernetes tables, the schema of what is rendered: no status.
    delete types[root].properties.status;
    kinds[`${path.split('/').slice(0, -1).join('/')} ${kind}`] = root;
    const { version, license } = packageJson(pkg);
    sources[pkg] = { version, license };
  });
  const { version, license } = JSON.parse(
    readFileSync(join(ROOT, 'node_modules', '@kubernetes-models', 'apimachinery', 'package.json'), 'utf8'),
  );
  sources['@kubernetes-models/apimachinery'] = { version, license, for: 'ObjectMeta' };
  // Types only reachable through a status.
  const reachable = new Set();
  const visit = (name) => {
    if (reachable.has(name) || !types[name]) return;
    reachable.add(name);
    for (const type of Object.values(types[name].properties))
      for (const ref of type.match(/[A-Za-z][\w.]*/g) ?? []) visit(ref);
  };
  Object.values(kinds).forEach(visit);
  const kept = Object.keys(types)
    .filter((name) => reachable.has(name))
    .sort();
  return { source: sources, kinds, types: Object.fromEntries(kept.map((name) => [name, types[name]])) };
}

// ---------------------------------------------------------------------------------------------------------------

/** JSON with one line per field (a diff shows which field of which type changed), formatted as Prettier would. */
async function format(table, file) {
  const prettier = await import('prettier');
  const options = (await prettier.resolveConfig(file)) ?? {};
  return prettier.format(layout(table), { ...options, parser: 'json' });
}

function layout(table) {
  const lines = ['{'];
  for (const [key, value] of Object.entries(table)) {
    if (key !== 'types') {
      lines.push(`  ${JSON.stringify(key)}: ${JSON.stringify(value)},`);
      continue;
    }
    lines.push('  "types": {');
    const names = Object.keys(value);
    names.forEach((name, i) => {
      const { required, properties } = value[name];
      lines.push(`    ${JSON.stringify(name)}: {`, `      "required": ${JSON.stringify(required)},`);
      lines.push('      "properties": {');
      const fields = Object.entries(properties);
      fields.forEach(([field, type], j) =>
        lines.push(
          `        ${JSON.stringify(field)}: ${JSON.stringify(type)}${j < fields.length - 1 ? ',' : ''}`,
        ),
      );
      lines.push('      }', `    }${i < names.length - 1 ? ',' : ''}`);
    });
    lines.push('  }');
  }
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

const work = mkdtempSync(join(tmpdir(), 'kubernetes-schemas-'));
try {
  mkdirSync(OUT, { recursive: true });
  const packages = Object.fromEntries(
    Object.entries(CLIENT_NODE).map(([minor, version]) => [
      minor,
      readModels(fetchClientNode(version, work)),
    ]),
  );
  const readme = [];
  for (const [minor, version] of Object.entries(CLIENT_NODE)) {
    const others = Object.entries(packages)
      .filter(([other]) => other !== minor)
      .map(([, pkg]) => pkg.models);
    const table = kubernetesTable(minor, version, packages[minor], others);
    const file = join(OUT, `kubernetes-${minor}.json`);
    writeFileSync(file, await format(table, file));
    readme.push(
      `- kubernetes-${minor}.json: @kubernetes/client-node ${version}, generated from the Kubernetes OpenAPI spec ${table.source.spec} (Apache-2.0, LICENSE-kubernetes-client-node); ${Object.keys(table.kinds).length} kinds, ${Object.keys(table.types).length} types.`,
    );
    if (minor === '1.36')
      writeFileSync(
        join(OUT, 'LICENSE-kubernetes-client-node'),
        readFileSync(join(work, version, 'package', 'LICENSE'), 'utf8'),
      );
  }
  const crds = crdTable();
  writeFileSync(join(OUT, 'crds.json'), await format(crds, join(OUT, 'crds.json')));
  const require = createRequire(join(ROOT, 'package.json'));
  writeFileSync(
    join(OUT, 'LICENSE-kubernetes-models'),
    readFileSync(join(dirname(require.resolve('@kubernetes-models/prometheus-operator')), 'LICENSE'), 'utf8'),
  );
  readme.push(
    `- crds.json: ${Object.entries(crds.source)
      .map(([pkg, { version, license }]) => `${pkg} ${version} (${license})`)
      .join(
        ', ',
      )}, from the TypeScript declarations they generate from the CRDs' openAPIV3Schema (LICENSE-kubernetes-models); ${Object.keys(crds.kinds).join(', ')}.`,
  );
  writeFileSync(
    join(OUT, 'README.md'),
    [
      '# Kubernetes and CRD field tables',
      '',
      'Generated by `node scripts/kubernetes-schemas.mjs` (do not edit); read by test/support/kubernetes-strict.ts, which',
      'test/integration/helm-chart.test.ts uses to validate every rendered object strictly (unknown fields rejected).',
      '',
      ...readme,
      '',
      'Each table: `kinds` maps "<apiVersion> <kind>" to its root type; `types` gives each type its `required` fields and',
      'the type of every field: string, integer, number, boolean, IntOrString, Quantity, object (free-form), Array<T>,',
      'Map<T> (any keys) or another type of the table. Only the types reachable from the kinds are kept, without `status`.',
      '',
    ].join('\n'),
  );
  console.log(readme.join('\n'));
} finally {
  rmSync(work, { recursive: true, force: true });
}
