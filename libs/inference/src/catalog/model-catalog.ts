import { join, resolve } from 'node:path';
import { findShippedFile, readYamlDocument, YamlFileError } from '@argus/config';
import type { z } from 'zod';
import { perTask, TASKS, type Task } from '@argus/contracts';
import {
  CPU_PROMPT_VERSION,
  OLLAMA_TIERS,
  TIER_ORDER,
  modelCatalogSchema,
  type ModelCatalog,
  type ModelInputSpec,
  type OllamaTierName,
  type TierName,
  type VramSpec,
} from './model-catalog.schema';
import { describeInput, familyOfModel, imageTokenCeiling } from './model-family';
import { estimateVramGiB, formatGiB } from './vram-estimate';

export class CatalogError extends Error {
  override name = 'CatalogError';
}

export const DEFAULT_OLLAMA_HOST = 'http://127.0.0.1:11434';
const DEFAULT_OLLAMA_PORT = '11434';
const SHIPPED_CATALOG = join('config', 'model-catalog.yaml');

/** Room in num_ctx for the prompt, the schema and the answer once the image tokens are in. */
const PROMPT_AND_ANSWER_TOKENS = 2048;

export interface ResolvedTaskModel {
  task: Task;
  model: string;
  input: ModelInputSpec;
  promptVersion: string;
  confidenceThreshold: number;
  /** Absent for the cpu tier. */
  vram?: VramSpec;
  /** The VRAM rule's figure for this model on its tier's runner; undefined for the cpu tier. */
  vramEstimateGiB: number | undefined;
  /** Ollama tiers: `num_predict` set in the catalog; absent, the engine derives it from the output schema. */
  numPredict?: number;
  /** Ollama tiers: `think` sent on every chat (false unless the catalog says otherwise). */
  think?: boolean;
}

interface ResolvedTierBase {
  name: TierName;
  description: string;
  parallel: number;
  replicas: number;
  /**
   * Calls in flight to the tier at once, unless ARGUS_TIER_<NAME>_CONCURRENCY says otherwise. For an Ollama tier it is
   * the slots every worker and pod share (parallel × replicas + spare), held through leases in NATS KV; for the
   * in-process CPU tier it is each worker's own (parallel × replicas).
   */
  concurrency: number;
  /** Calls a worker lets wait for a CPU slot; Ollama tiers wait for a shared slot instead (ARGUS_SLOT_WAIT_MS). */
  queueLimit: number;
  tasks: Record<Task, ResolvedTaskModel>;
}

// The optional `undefined` fields let callers read e.g. `spec.url` without narrowing first.
export interface ResolvedCpuTier extends ResolvedTierBase {
  engine: 'cpu';
  url?: undefined;
  vramBudgetGiB?: undefined;
  contextLength?: undefined;
  keepAlive?: undefined;
}

export interface ResolvedOllamaTier extends ResolvedTierBase {
  engine: 'ollama';
  url: string;
  vramBudgetGiB: number;
  contextLength: number;
  keepAlive: string;
}

export type ResolvedTier = ResolvedCpuTier | ResolvedOllamaTier;

export interface TierModelChoice {
  tier: TierName;
  spec: ResolvedTier;
  model: ResolvedTaskModel;
}

export interface ResolvedCatalog {
  /** Absolute path of the file that was loaded. */
  source: string;
  tiers: Record<TierName, ResolvedTier>;
  /** Tiers this process may use, cheapest first. */
  enabled: TierName[];
  /** Problems that do not stop the process but cost latency or quality; log them at boot. */
  warnings: string[];
  /** The enabled tiers that can answer `task`, cheapest first: the order `auto` walks. */
  forTask: (task: Task) => TierModelChoice[];
}

/**
 * Finds the shipped catalog by walking up from `start`, so the same code works from the TypeScript sources
 * (ts-jest, tsx) and from the compiled `dist/` tree, whatever the working directory is.
 */
export function findShippedCatalog(start: string = __dirname): string {
  try {
    return findShippedFile(SHIPPED_CATALOG, 'set ARGUS_MODEL_CATALOG to the catalog file', start);
  } catch (error) {
    throw new CatalogError(messageOf(error));
  }
}

/**
 * Loads, validates and resolves the model catalog once at boot: the file (ARGUS_MODEL_CATALOG or the shipped
 * config/model-catalog.yaml), then the environment overrides. Throws one CatalogError that lists every problem.
 */
export function loadModelCatalog(env: NodeJS.ProcessEnv = process.env): ResolvedCatalog {
  const fromEnv = env.ARGUS_MODEL_CATALOG?.trim();
  const source = fromEnv ? resolve(fromEnv) : findShippedCatalog();
  const catalog = readCatalogFile(source, fromEnv ? ' (from ARGUS_MODEL_CATALOG)' : '');

  const fileProblems = checkCatalog(catalog);
  if (fileProblems.length > 0) throw invalid(source, fileProblems);

  const overrides = readOverrides(env);
  if (overrides.problems.length > 0) {
    throw new CatalogError(
      `Invalid model catalog settings in the environment:\n${bullets(overrides.problems)}`,
    );
  }

  const tiers = resolveTiers(catalog, overrides);
  const enabled = TIER_ORDER.filter((tier) => overrides.enabled.has(tier));
  const warnings = enabled.flatMap((tier) => tierWarnings(tiers[tier]));

  return {
    source,
    tiers,
    enabled,
    warnings,
    forTask: (task) => enabled.map((tier) => ({ tier, spec: tiers[tier], model: tiers[tier].tasks[task] })),
  };
}

function readCatalogFile(source: string, origin: string): ModelCatalog {
  let document: unknown;
  try {
    document = readYamlDocument(source);
  } catch (error) {
    if (!(error instanceof YamlFileError)) throw error;
    throw new CatalogError(
      error.stage === 'read'
        ? `Cannot read the model catalog ${source}${origin}: ${error.reason}`
        : `The model catalog ${source}${origin} is not valid YAML: ${error.reason}`,
    );
  }
  const parsed = modelCatalogSchema.safeParse(document);
  if (!parsed.success) throw invalid(source, parsed.error.issues.flatMap(describeIssue));
  return parsed.data;
}

function describeIssue(issue: z.core.$ZodIssue): string[] {
  // Name each unknown key by its full path: a typo is easiest to find that way.
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => `${formatPath([...issue.path, key])}: unknown key`);
  }
  return [`${formatPath(issue.path)}: ${issue.message}`];
}

function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(root)';
  return path
    .map((part, index) => {
      if (typeof part === 'number') return `[${part}]`;
      const name = String(part);
      return index === 0 ? name : `.${name}`;
    })
    .join('');
}

/** Families Ollama forces to one parallel slot (server/sched.go, `load`: mllama, qwen3vl, qwen3vlmoe). */
const SINGLE_SLOT_FAMILIES: ReadonlySet<string> = new Set(['mllama', 'qwen3-vl']);

/**
 * Rules the schema cannot express: the cpu tier's prompt version and input, VRAM against the budget, one size per
 * model. The Ollama entries' prompt versions are each task's own (its prompt lives in its service folder): its worker
 * checks them at boot with {@link checkPromptVersions}.
 */
function checkCatalog(catalog: ModelCatalog): string[] {
  const problems: string[] = [];

  for (const task of TASKS) {
    const actual = catalog.tiers.cpu.tasks[task].promptVersion;
    if (actual !== CPU_PROMPT_VERSION) {
      problems.push(
        `tiers.cpu.tasks.${task}.promptVersion: the cpu engines use "${CPU_PROMPT_VERSION}", not "${actual}"`,
      );
    }
    const { input } = catalog.tiers.cpu.tasks[task];
    if ('family' in input) {
      problems.push(
        `tiers.cpu.tasks.${task}.input: the cpu engines take { longSide: N } or { square: N }, not the ` +
          `${input.family} family's rule`,
      );
    }
  }

  for (const tier of OLLAMA_TIERS) {
    const spec = catalog.tiers[tier];
    const runner = { contextLength: spec.contextLength, parallel: spec.parallel };
    const reported = new Map<string, { vram: VramSpec; task: Task }>();

    for (const task of TASKS) {
      const entry = spec.tasks[task];
      const path = `tiers.${tier}.tasks.${task}`;
      const problem = inputProblem(entry.model, entry.input);
      if (problem) problems.push(`${path}.input: ${problem}`);
      const family = familyOfModel(entry.model);
      if (spec.parallel > 1 && family !== undefined && SINGLE_SLOT_FAMILIES.has(family)) {
        // Argus would admit `parallel` calls that Ollama then runs one at a time, each waiting past its deadline.
        problems.push(
          `tiers.${tier}.parallel: ${entry.model} (${path}) is a ${family} model, which Ollama runs one request at a ` +
            `time whatever OLLAMA_NUM_PARALLEL says (server/sched.go, load); set parallel: 1`,
        );
      }
      // A repair call carries the cut-off answer and a new one: both must fit the context beside the image.
      if (entry.numPredict !== undefined && entry.numPredict > spec.contextLength / 2) {
        problems.push(
          `${path}.numPredict: ${entry.numPredict} tokens is more than half the tier's ${spec.contextLength}-token ` +
            `context; a repair call holds the previous answer and a new one, and the image and prompt need room too`,
        );
      }

      const seen = reported.get(entry.model);
      if (seen) {
        // One tag on one runner is one allocation; two sizes for it mean one of them is a copy-paste slip.
        if (!sameVram(seen.vram, entry.vram)) {
          problems.push(
            `${path}.vram: ${entry.model} already has different vram figures under ${seen.task}; one model has one size`,
          );
        }
        continue;
      }
      reported.set(entry.model, { vram: entry.vram, task });

      const estimate = estimateVramGiB(entry.vram, runner);
      if (estimate > spec.vramBudgetGiB) {
        problems.push(
          `${tier} tier: ${entry.model} needs an estimated ${formatGiB(estimate)} GiB of VRAM but the tier's budget ` +
            `is ${spec.vramBudgetGiB} GiB (${path}; weights × 1.2 + KV cache for ${spec.contextLength} tokens × ` +
            `${spec.parallel} slots + projector)`,
        );
      }
    }
  }
  return problems;
}

/**
 * Every Ollama tier's entry for `task` must name the prompt its engines send, `expected`: an answer cached under one
 * prompt version must not be served for another. The catalog does not know the prompts (each lives with its task), so
 * the worker that runs the task calls this at boot, with the version from the task's definition; it throws the same
 * CatalogError as a bad file, listing every entry that differs. Disabled tiers are checked too, as the file is.
 */
export function checkPromptVersions(
  catalog: Pick<ResolvedCatalog, 'source' | 'tiers'>,
  task: Task,
  expected: string,
): void {
  const problems = OLLAMA_TIERS.flatMap((tier) => {
    const entry = catalog.tiers[tier].tasks[task];
    return entry.promptVersion === expected
      ? []
      : [
          `tiers.${tier}.tasks.${task}.promptVersion: "${entry.promptVersion}" is not a ${task} prompt; ` +
            `expected "${expected}"`,
        ];
  });
  if (problems.length > 0) throw invalid(catalog.source, problems);
}

function sameVram(a: VramSpec, b: VramSpec): boolean {
  return (
    a.weightsGiB === b.weightsGiB &&
    a.projectorGiB === b.projectorGiB &&
    a.kvCacheKiBPerToken === b.kvCacheKiBPerToken &&
    a.overrideGiB === b.overrideGiB
  );
}

interface Overrides {
  urls: Partial<Record<OllamaTierName, string>>;
  ollamaHost: string;
  concurrency: Partial<Record<TierName, number>>;
  enabled: Set<TierName>;
  problems: string[];
}

function readOverrides(env: NodeJS.ProcessEnv): Overrides {
  const problems: string[] = [];
  const urls: Partial<Record<OllamaTierName, string>> = {};
  const concurrency: Partial<Record<TierName, number>> = {};

  for (const tier of OLLAMA_TIERS) {
    const variable = `ARGUS_TIER_${tier.toUpperCase()}_URL`;
    const value = env[variable]?.trim();
    if (!value) continue;
    const url = normaliseUrl(value);
    if (url === undefined)
      problems.push(`${variable} must be a URL such as http://ollama-${tier}:11434 (got "${value}")`);
    else urls[tier] = url;
  }

  const host = env.OLLAMA_HOST?.trim();
  const ollamaHost = host ? normaliseUrl(host) : DEFAULT_OLLAMA_HOST;
  if (ollamaHost === undefined)
    problems.push(`OLLAMA_HOST must be a URL such as ${DEFAULT_OLLAMA_HOST} (got "${host ?? ''}")`);

  for (const tier of TIER_ORDER) {
    const variable = `ARGUS_TIER_${tier.toUpperCase()}_CONCURRENCY`;
    const value = env[variable]?.trim();
    if (!value) continue;
    const parsed = /^\d+$/.test(value) ? Number(value) : Number.NaN;
    if (!Number.isSafeInteger(parsed) || parsed < 1) {
      problems.push(`${variable} must be a whole number of at least 1 (got "${value}")`);
    } else {
      concurrency[tier] = parsed;
    }
  }

  return {
    urls,
    ollamaHost: ollamaHost ?? DEFAULT_OLLAMA_HOST,
    concurrency,
    enabled: readEnabledTiers(env.ARGUS_TIERS, problems),
    problems,
  };
}

/** ARGUS_TIERS limits the GPU tiers; cpu stays on because it is the fallback when no Ollama answers. */
function readEnabledTiers(value: string | undefined, problems: string[]): Set<TierName> {
  const names = (value ?? '')
    .split(',')
    .map((name) => name.trim().toLowerCase())
    .filter(Boolean);
  if (names.length === 0) return new Set(TIER_ORDER);

  const enabled = new Set<TierName>(['cpu']);
  for (const name of names) {
    const tier = TIER_ORDER.find((candidate) => candidate === name);
    if (tier) enabled.add(tier);
    else problems.push(`ARGUS_TIERS: unknown tier "${name}"; use a comma list of ${TIER_ORDER.join(', ')}`);
  }
  return enabled;
}

/**
 * Reads a URL the way Ollama's own clients read OLLAMA_HOST, so one value serves both: `host`, `host:port` and
 * `:port` mean plain http on port 11434 unless a port is given; an explicit scheme is taken as written.
 */
function normaliseUrl(value: string): string | undefined {
  const explicit = /^[a-z][a-z0-9+.-]*:\/\//i.test(value);
  const candidate = explicit ? value : `http://${value.startsWith(':') ? `127.0.0.1${value}` : value}`;
  if (!URL.canParse(candidate)) return undefined;
  const url = new URL(candidate);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  if (!explicit && url.port === '') url.port = DEFAULT_OLLAMA_PORT;
  return url.href.replace(/\/+$/, '');
}

function resolveTiers(catalog: ModelCatalog, overrides: Overrides): Record<TierName, ResolvedTier> {
  // By default one call more than an Ollama server has slots waits in Ollama's own queue, so a slot that finishes
  // starts the next image at once instead of idling for the reply's round trip and the next request (98% of N/T
  // against 89%, docs/performance.md). The CPU tier runs in the worker's process, where a spare call would only contend.
  const capacity = (
    tier: TierName,
    parallel: number,
    replicas: number,
    spare: number,
    queueLimit: number | undefined,
  ) => {
    const concurrency = overrides.concurrency[tier] ?? parallel * replicas + spare;
    return { concurrency, queueLimit: queueLimit ?? 2 * concurrency };
  };

  const cpu = catalog.tiers.cpu;
  const cpuTasks = mapTasks((task) => ({ task, ...cpu.tasks[task], vramEstimateGiB: undefined }));
  const resolvedCpu: ResolvedCpuTier = {
    name: 'cpu',
    engine: 'cpu',
    description: cpu.description,
    parallel: cpu.parallel,
    replicas: cpu.replicas,
    ...capacity('cpu', cpu.parallel, cpu.replicas, 0, cpu.queueLimit),
    tasks: cpuTasks,
  };

  const ollama = (tier: OllamaTierName): ResolvedOllamaTier => {
    const spec = catalog.tiers[tier];
    const runner = { contextLength: spec.contextLength, parallel: spec.parallel };
    return {
      name: tier,
      engine: 'ollama',
      description: spec.description,
      url:
        overrides.urls[tier] ??
        (spec.url === null ? undefined : normaliseUrl(spec.url)) ??
        overrides.ollamaHost,
      vramBudgetGiB: spec.vramBudgetGiB,
      contextLength: spec.contextLength,
      keepAlive: spec.keepAlive,
      parallel: spec.parallel,
      replicas: spec.replicas,
      ...capacity(tier, spec.parallel, spec.replicas, spec.spare ?? spec.replicas, 0),
      tasks: mapTasks((task) => ({
        task,
        ...spec.tasks[task],
        vramEstimateGiB: estimateVramGiB(spec.tasks[task].vram, runner),
      })),
    };
  };

  return { cpu: resolvedCpu, small: ollama('small'), medium: ollama('medium'), large: ollama('large') };
}

function mapTasks(build: (task: Task) => ResolvedTaskModel): Record<Task, ResolvedTaskModel> {
  return { ...perTask(build) };
}

/** Costs worth knowing at boot: models that cannot all stay loaded, and images that crowd the context. */
function tierWarnings(spec: ResolvedTier): string[] {
  const warnings = TASKS.flatMap((task) => inputWarnings(spec, spec.tasks[task]));
  if (spec.engine === 'cpu') return warnings;

  const distinct = new Map<string, number>();
  for (const task of TASKS) {
    const { model, vramEstimateGiB } = spec.tasks[task];
    if (vramEstimateGiB !== undefined) distinct.set(model, vramEstimateGiB);
  }
  const total = [...distinct.values()].reduce((sum, value) => sum + value, 0);
  if (distinct.size > 1 && total > spec.vramBudgetGiB) {
    const parts = [...distinct].map(([model, gib]) => `${model} ${formatGiB(gib)}`).join(' + ');
    warnings.push(
      `${spec.name} tier: its ${distinct.size} models need an estimated ${formatGiB(total)} GiB together (${parts}) ` +
        `but the budget is ${spec.vramBudgetGiB} GiB; Ollama will unload one to load another, adding the load ` +
        `time to those requests`,
    );
  }
  return warnings;
}

/**
 * An Ollama model whose tag names a vision family must use that family's rule: any other size is resized again
 * inside Ollama, and its image tokens would be guessed instead of known.
 */
function inputProblem(model: string, input: ModelInputSpec): string | undefined {
  const family = familyOfModel(model);
  if (family === undefined) return undefined;
  if ('family' in input && input.family === family) return undefined;
  return (
    `${model} is a ${family} model, so its input must be { family: ${family} } (Ollama's own rule for it, ` +
    `docs/models.md); ${describeInput(input)} would be resized again inside Ollama`
  );
}

/** The image tokens of an input rule against the tier's context (the rule of libs/imaging model-input.ts). */
function inputWarnings(spec: ResolvedTier, entry: ResolvedTaskModel): string[] {
  if (spec.engine === 'cpu') return [];
  const imageTokens = imageTokenCeiling(entry.input);
  if (imageTokens === undefined || imageTokens + PROMPT_AND_ANSWER_TOKENS <= spec.contextLength) return [];
  return [
    `${spec.name} tier, ${entry.task}: ${entry.model} input ${describeInput(entry.input)} can take ${imageTokens} ` +
      `image tokens, leaving less than ${PROMPT_AND_ANSWER_TOKENS} of the ${spec.contextLength}-token context for ` +
      `the prompt and the answer`,
  ];
}

function invalid(source: string, problems: string[]): CatalogError {
  return new CatalogError(`Invalid model catalog ${source}:\n${bullets(problems)}`);
}

function bullets(lines: string[]): string {
  return lines.map((line) => `  - ${line}`).join('\n');
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
