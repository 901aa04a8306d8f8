/**
 * Reads helm/argus and follows how its templates use values, for test/integration/helm-chart.test.ts:
 * - the chart's files, values and profiles;
 * - every values path a template reads, through the three forms the templates use (see _helpers.tpl): a full path
 *   (`.Values.a.b`, `$.Values.a.b`, `$root.Values.a.b`), a variable bound from one (`$tier := index .Values.x $k`,
 *   `range $k, $v := .Values.x`, then `$v.a`), or a key of a dict passed to a helper
 *   (`include "h" (dict "svc" .Values.gateway)`, then `.svc.a` or `$svc := .svc` inside "h");
 * - helm itself (a binary from test/support/helm-binaries.ts), to lint and render the chart.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { lexActions, unquote, type Token } from './helm-template-lint';

export const ROOT = join(__dirname, '..', '..');
export const CHART_DIR = join(ROOT, 'helm', 'argus');
export const TEMPLATES_DIR = join(CHART_DIR, 'templates');
export const PROFILES = ['values-cpu.yaml', 'values-gpu-small.yaml', 'values-gpu-tiers.yaml'] as const;
export type Profile = (typeof PROFILES)[number];

export type Values = Record<string, unknown>;

export function readYaml(path: string): Values {
  return (parse(readFileSync(path, 'utf8')) ?? {}) as Values;
}

export function chartValues(): Values {
  return readYaml(join(CHART_DIR, 'values.yaml'));
}

export function profileValues(profile: Profile): Values {
  return readYaml(join(CHART_DIR, profile));
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Helm's merge of a values file over the defaults: maps merge key by key, everything else is replaced. */
export function mergeValues(base: Values, override: Values): Values {
  const merged: Values = { ...base };
  for (const [key, value] of Object.entries(override)) {
    const current = merged[key];
    merged[key] = isPlainObject(current) && isPlainObject(value) ? mergeValues(current, value) : value;
  }
  return merged;
}

/** Every file under templates/, keyed by its path relative to the chart. */
export function templateFiles(): Map<string, string> {
  const files = new Map<string, string>();
  for (const name of readdirSync(TEMPLATES_DIR).sort()) {
    const path = join(TEMPLATES_DIR, name);
    if (statSync(path).isFile()) files.set(`templates/${name}`, readFileSync(path, 'utf8'));
  }
  return files;
}

// ---------------------------------------------------------------------------------------------------------------
// Values usage

/** A values path; `*` stands for every key of a map (a range or an `index` over it). */
export type ValuesPath = readonly string[];
const ROOT_BINDING = ['<root>'];

const isRoot = (path: ValuesPath) => path.length === 1 && path[0] === ROOT_BINDING[0];
const key = (path: ValuesPath) => path.join('.');

class Bindings {
  private readonly table = new Map<string, Map<string, ValuesPath>>();
  private changed = false;

  /** Whether a binding was added since the last call. */
  takeChanged(): boolean {
    const changed = this.changed;
    this.changed = false;
    return changed;
  }

  get(scope: string, name: string): ValuesPath[] {
    return [...(this.table.get(`${scope}\u0000${name}`)?.values() ?? [])];
  }

  add(scope: string, name: string, paths: ValuesPath[]): void {
    const id = `${scope}\u0000${name}`;
    const known = this.table.get(id) ?? new Map<string, ValuesPath>();
    this.table.set(id, known);
    for (const path of paths) {
      if (known.has(key(path))) continue;
      known.set(key(path), path);
      this.changed = true;
    }
  }
}

interface ScopedAction {
  scope: string;
  /** The define the action sits in, if any: dict keys passed to it are read as `.key`. */
  define?: string;
  tokens: Token[];
}

function scopedActions(files: ReadonlyMap<string, string>): ScopedAction[] {
  const result: ScopedAction[] = [];
  for (const [file, source] of files) {
    let define: string | undefined;
    let depth = 0;
    for (const action of lexActions(file, source)) {
      if (action.comment) continue;
      const first = action.tokens.at(0);
      const second = action.tokens.at(1);
      if (first?.kind === 'ident' && first.text === 'define' && second?.kind === 'string') {
        define = unquote(second.text);
        depth = 0;
        continue;
      }
      if (first?.kind === 'ident' && ['if', 'range', 'with', 'block'].includes(first.text)) depth++;
      if (first?.kind === 'ident' && first.text === 'end') {
        if (define !== undefined && depth === 0) {
          define = undefined;
          continue;
        }
        depth--;
      }
      result.push({ scope: define ? `define:${define}` : `file:${file}`, define, tokens: action.tokens });
    }
  }
  return result;
}

const CONTEXT_FIELDS = new Set([
  'Values',
  'Release',
  'Chart',
  'Files',
  'Capabilities',
  'Template',
  'Subcharts',
]);

/** The values paths a field or variable token stands for, in a scope. */
function resolve(token: Token, action: ScopedAction, bindings: Bindings): ValuesPath[] {
  const valuesAt = token.text.indexOf('.Values');
  if (valuesAt >= 0 && (token.text.length === valuesAt + 7 || token.text[valuesAt + 7] === '.')) {
    const rest = token.text.slice(valuesAt + 8);
    return [rest === '' ? [] : rest.split('.')];
  }
  if (token.kind === 'variable') {
    const [name, ...fields] = token.text.split('.');
    return bindings
      .get(action.scope, name)
      .filter((path) => !isRoot(path))
      .map((path) => [...path, ...fields]);
  }
  if (token.kind === 'field' && token.text !== '.' && action.define) {
    const [, name, ...fields] = token.text.split('.');
    if (CONTEXT_FIELDS.has(name)) return [];
    return bindings
      .get(`dict:${action.define}`, name)
      .filter((path) => !isRoot(path))
      .map((path) => [...path, ...fields]);
  }
  return [];
}

/** What a pipeline's first operand binds a variable to: a ref, or `index <ref> …` (an element of it). */
function bindingSource(tokens: Token[]): { index: number; element: boolean } | undefined {
  const head = tokens.at(0);
  if (!head) return undefined;
  if (head.kind === 'field' || head.kind === 'variable') return { index: 0, element: false };
  if (
    head.kind === 'ident' &&
    head.text === 'index' &&
    (tokens[1]?.kind === 'field' || tokens[1]?.kind === 'variable')
  ) {
    return { index: 1, element: true };
  }
  return undefined;
}

function isRootToken(token: Token | undefined): boolean {
  return token !== undefined && (token.text === '$' || token.text === '.');
}

/** One pass over every action: records bindings, and returns the uses seen with the bindings known so far. */
function pass(actions: ScopedAction[], bindings: Bindings): ValuesPath[] {
  const uses: ValuesPath[] = [];
  for (const action of actions) {
    let tokens = action.tokens;
    const skip = new Set<number>();
    let offset = 0;
    const keyword = tokens[0]?.kind === 'ident' ? tokens[0].text : '';
    if (['if', 'range', 'with', 'else'].includes(keyword)) {
      offset = keyword === 'else' && ['if', 'with'].includes(tokens[1]?.text ?? '') ? 2 : 1;
      tokens = tokens.slice(offset);
    }

    // `$v := …`, `$v = …`, `range $k, $v := …`
    if (tokens[0]?.kind === 'variable' && /^\$[A-Za-z0-9_]*$/.test(tokens[0].text)) {
      const names = [tokens[0].text];
      let k = 1;
      if (tokens[1]?.text === ',' && tokens[2]?.kind === 'variable') {
        names.push(tokens[2].text);
        k = 3;
      }
      if (tokens[k]?.text === ':=' || tokens[k]?.text === '=') {
        const source = tokens.slice(k + 1);
        const found = bindingSource(source);
        const target = names[names.length - 1];
        if (found) {
          const ref = source[found.index];
          skip.add(offset + k + 1 + found.index);
          if (isRootToken(ref)) bindings.add(action.scope, target, [ROOT_BINDING]);
          else if (ref.kind === 'field' && ref.text.split('.')[1] === 'root' && action.define) {
            bindings.add(action.scope, target, bindings.get(`dict:${action.define}`, 'root'));
          } else {
            const element = found.element || keyword === 'range';
            bindings.add(
              action.scope,
              target,
              resolve(ref, action, bindings).map((path) => (element ? [...path, '*'] : path)),
            );
          }
        }
        for (let i = 0; i < k; i++) skip.add(offset + i);
      }
    }

    // include/template "name" (dict "k" <ref> …) binds the helper's .k; `include "name" $` passes the root.
    const all = action.tokens;
    all.forEach((token, i) => {
      const call = token.kind === 'ident' && (token.text === 'include' || token.text === 'template');
      const name = all.at(i + 1);
      if (!call || name?.kind !== 'string') return;
      const helper = unquote(name.text);
      if (all[i + 2]?.text !== '(' || all[i + 3]?.text !== 'dict') return;
      let j = i + 4;
      let depth = 0;
      while (j < all.length) {
        const current = all[j];
        if (current.text === ')' && depth === 0) break;
        if (current.kind === 'string' && depth === 0) {
          const dictKey = unquote(current.text);
          const value = all.at(j + 1);
          if (value && (value.kind === 'field' || value.kind === 'variable')) {
            skip.add(j + 1);
            if (isRootToken(value)) bindings.add(`dict:${helper}`, dictKey, [ROOT_BINDING]);
            else bindings.add(`dict:${helper}`, dictKey, resolve(value, action, bindings));
            j += 2;
            continue;
          }
        }
        if (current.text === '(') depth++;
        if (current.text === ')') depth--;
        j++;
      }
    });

    all.forEach((token, i) => {
      if (skip.has(i) || (token.kind !== 'field' && token.kind !== 'variable')) return;
      uses.push(...resolve(token, action, bindings));
    });
  }
  return uses;
}

/** Every values path the templates read (with `*` for map keys), after following bindings to a fixed point. */
export function valuesUsedByTemplates(files: ReadonlyMap<string, string>): ValuesPath[] {
  const actions = scopedActions(files);
  const bindings = new Bindings();
  for (let round = 0; round < 20; round++) {
    pass(actions, bindings);
    if (!bindings.takeChanged()) break;
  }
  const unique = new Map<string, ValuesPath>();
  for (const path of pass(actions, bindings)) unique.set(key(path), path);
  return [...unique.values()];
}

/**
 * Why a path read by a template does not exist in values.yaml, or undefined when it does. `*` must match every key
 * of a non-empty map; a path may go into an empty map, an empty list or a list (free-form), never into a scalar.
 */
export function missingValue(values: unknown, path: ValuesPath, at: string[] = []): string | undefined {
  if (path.length === 0) return undefined;
  const [head, ...rest] = path;
  if (Array.isArray(values)) return undefined;
  if (!isPlainObject(values)) return `${at.join('.')} is a ${typeof values}, not a map with "${head}"`;
  const keys = Object.keys(values);
  if (keys.length === 0) return undefined;
  if (head === '*') {
    for (const child of keys) {
      const problem = missingValue(values[child], rest, [...at, child]);
      if (problem) return problem;
    }
    return undefined;
  }
  if (!(head in values)) return `${[...at, head].join('.')} is not in values.yaml`;
  return missingValue(values[head], rest, [...at, head]);
}

/** The leaves of values.yaml: scalars, lists and empty maps, as dotted paths. */
export function valueLeaves(values: unknown, at: string[] = []): string[][] {
  if (isPlainObject(values) && Object.keys(values).length > 0) {
    return Object.entries(values).flatMap(([child, value]) => valueLeaves(value, [...at, child]));
  }
  return [at];
}

/** A read path covers a leaf when one is a prefix of the other, `*` matching any key. */
export function covers(used: ValuesPath, leaf: readonly string[]): boolean {
  const length = Math.min(used.length, leaf.length);
  for (let i = 0; i < length; i++) if (used[i] !== '*' && used[i] !== leaf[i]) return false;
  return true;
}

// ---------------------------------------------------------------------------------------------------------------
// helm

export interface HelmRun {
  status: number | null;
  output: string;
}

export function runHelm(helm: string, args: string[], timeoutMs = 120_000): HelmRun {
  const result = spawnSync(helm, args, {
    encoding: 'utf8',
    timeout: timeoutMs,
    env: { ...process.env, HELM_CACHE_HOME: join(tmpdir(), 'argus-helm-cache') },
  });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

export interface PreparedChart {
  dir: string;
  /** False when the NATS dependency could not be fetched (no network): the copy renders without it. */
  withNats: boolean;
  note: string;
  cleanup(): void;
}

/**
 * A copy of the chart ready to render: `helm dependency build` fetches the NATS chart; offline, the dependency is
 * dropped from the copy's Chart.yaml so Argus's own templates still render and validate.
 */
export function prepareChart(helm: string): PreparedChart {
  const work = mkdtempSync(join(tmpdir(), 'argus-chart-'));
  const dir = join(work, 'argus');
  cpSync(CHART_DIR, dir, { recursive: true });
  const cleanup = () => {
    rmSync(work, { recursive: true, force: true });
  };
  const build = runHelm(helm, ['dependency', 'build', dir], 90_000);
  if (build.status === 0) return { dir, withNats: true, note: 'NATS subchart fetched', cleanup };
  const chartYaml = join(dir, 'Chart.yaml');
  const text = readFileSync(chartYaml, 'utf8');
  writeFileSync(chartYaml, text.slice(0, text.indexOf('dependencies:')));
  return {
    dir,
    withNats: false,
    note: `NATS subchart not fetched (helm dependency build failed: ${build.output.trim().split('\n').pop() ?? ''}); rendering Argus's templates without it`,
    cleanup,
  };
}

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
  [field: string]: unknown;
}

export function parseManifests(text: string): K8sObject[] {
  return parseAllDocuments(text)
    .map((document) => document.toJS() as K8sObject | null)
    .filter((object): object is K8sObject => object !== null && typeof object === 'object');
}
