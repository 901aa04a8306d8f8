import { parseArgs } from 'node:util';
import { TASKS, TIER_CHOICES, type Task, type TierChoice } from '@argus/contracts';

/** The gateway's default address (PORT 8080 in libs/config), unless ARGUS_GATEWAY_URL or --gateway say otherwise. */
export const DEFAULT_GATEWAY_URL = 'http://127.0.0.1:8080';
export const GATEWAY_ENV = 'ARGUS_GATEWAY_URL';
export const DEFAULT_CONCURRENCY = 4;
export const MAX_CONCURRENCY = 64;

export const REPORT_FORMATS = ['json', 'csv'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

/** A mistake in how the CLI was called; exit code 2. */
export class UsageError extends Error {}

export interface AnalyzeOptions {
  command: 'analyze';
  paths: string[];
  /** Absent: the gateway's default (every task). */
  tasks?: Task[];
  tier?: TierChoice;
  policy?: string;
  profile?: string;
  gatewayUrl: string;
  out?: { path: string; format: ReportFormat };
  concurrency: number;
}

export type Command = AnalyzeOptions | { command: 'help' };

export const HELP = `Usage: argus analyze <files or folders...> [options]

Submits every image found (recursively) to the Argus gateway as async jobs, shows progress,
writes a report and prints a summary.

Options:
  --tasks <list>       comma list of ${TASKS.join(', ')} (default: all)
  --tier <tier>        ${TIER_CHOICES.join(' | ')} (default: the gateway's, auto)
  --policy <name>      moderation policy (default: the gateway's)
  --profile <name>     listing-compliance profile for tagging (default: the gateway's)
  --gateway <url>      gateway address (default: $${GATEWAY_ENV} or ${DEFAULT_GATEWAY_URL})
  -o, --out <file>     write a report: a .json file (full results) or a .csv file (one row per image)
  --concurrency <n>    uploads and status requests in flight, 1-${MAX_CONCURRENCY} (default: ${DEFAULT_CONCURRENCY})
  -h, --help           show this help

Images: .jpg .jpeg .png .webp .gif .tif .tiff .avif .heic; other files are skipped.
Exit codes: 0 every image done without errors, 1 some image failed or a job could not be created,
2 usage error, no images or gateway unreachable, 130 interrupted (Ctrl-C).
`;

const OPTIONS = {
  tasks: { type: 'string' },
  tier: { type: 'string' },
  policy: { type: 'string' },
  profile: { type: 'string' },
  gateway: { type: 'string' },
  out: { type: 'string', short: 'o' },
  concurrency: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Parses argv (without node and the script); throws UsageError with a one-line message. */
export function parseCommandLine(argv: readonly string[], env: NodeJS.ProcessEnv = {}): Command {
  const parsed = parseOrExplain(argv);
  const { values, positionals } = parsed;
  if (values.help) return { command: 'help' };
  if (positionals.length === 0) throw new UsageError('missing command; try `argus analyze <folder>`');
  const [command, ...paths] = positionals;
  if (command !== 'analyze') throw new UsageError(`unknown command "${command}"; the command is analyze`);
  if (paths.length === 0) throw new UsageError('name at least one file or folder of images to analyze');
  return {
    command: 'analyze',
    paths,
    ...(values.tasks !== undefined ? { tasks: parseTasks(values.tasks) } : {}),
    ...(values.tier !== undefined ? { tier: parseTier(values.tier) } : {}),
    ...(values.policy !== undefined ? { policy: nonEmpty('--policy', values.policy) } : {}),
    ...(values.profile !== undefined ? { profile: nonEmpty('--profile', values.profile) } : {}),
    gatewayUrl: parseGatewayUrl(values.gateway ?? (env[GATEWAY_ENV] || DEFAULT_GATEWAY_URL)),
    ...(values.out !== undefined ? { out: parseOut(values.out) } : {}),
    concurrency:
      values.concurrency === undefined ? DEFAULT_CONCURRENCY : parseConcurrency(values.concurrency),
  };
}

function parseOrExplain(argv: readonly string[]) {
  try {
    return parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    const code = (error as { code?: string }).code;
    const message = error instanceof Error ? error.message : String(error);
    const flag = /'(-[^' ]*)/.exec(message)?.[1] ?? /(--?[\w-]+)/.exec(message)?.[1] ?? '';
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') throw new UsageError(`unknown flag ${flag}; see --help`);
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') throw new UsageError(`${flag} needs a value`);
    throw new UsageError(message);
  }
}

function nonEmpty(flag: string, value: string): string {
  const trimmed = value.trim();
  if (trimmed === '') throw new UsageError(`${flag} needs a value`);
  return trimmed;
}

export function parseTasks(value: string): Task[] {
  const names = value
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  if (names.length === 0) throw new UsageError(`--tasks needs one or more of ${TASKS.join(', ')}`);
  const tasks: Task[] = [];
  for (const name of names) {
    const task = TASKS.find((known) => known === name);
    if (task === undefined) throw new UsageError(`unknown task "${name}"; choose from ${TASKS.join(', ')}`);
    if (!tasks.includes(task)) tasks.push(task);
  }
  return tasks;
}

function parseTier(value: string): TierChoice {
  const tier = TIER_CHOICES.find((known) => known === value.trim());
  if (tier === undefined)
    throw new UsageError(`unknown tier "${value}"; choose from ${TIER_CHOICES.join(', ')}`);
  return tier;
}

export function parseGatewayUrl(value: string): string {
  const trimmed = value.trim();
  const url = URL.canParse(trimmed) ? new URL(trimmed) : undefined;
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new UsageError(`--gateway must be an http(s) URL, e.g. ${DEFAULT_GATEWAY_URL}; got "${value}"`);
  }
  return url.href.replace(/\/+$/, '');
}

function parseOut(value: string): { path: string; format: ReportFormat } {
  const path = nonEmpty('--out', value);
  const extension = /\.([^./\\]+)$/.exec(path)?.[1]?.toLowerCase();
  const format = REPORT_FORMATS.find((known) => known === extension);
  if (format === undefined) throw new UsageError(`--out must end in .json or .csv; got "${value}"`);
  return { path, format };
}

function parseConcurrency(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isInteger(n) || n < 1 || n > MAX_CONCURRENCY) {
    throw new UsageError(`--concurrency must be a whole number from 1 to ${MAX_CONCURRENCY}; got "${value}"`);
  }
  return n;
}
