import { parseArgs } from 'node:util';
import { API_SCOPES, type ApiScope } from '@argus/config';
import { DEFAULT_TASKS, TASKS, TIER_CHOICES } from '@argus/contracts';
import type { Task, TierChoice } from './gateway-api';

/** The gateway's default address (PORT 8080 in libs/config), unless ARGUS_GATEWAY_URL or --gateway say otherwise. */
export const DEFAULT_GATEWAY_URL = 'http://127.0.0.1:8080';
export const GATEWAY_ENV = 'ARGUS_GATEWAY_URL';
/** The API key `argus analyze` sends when --api-key is not given. */
export const API_KEY_ENV = 'ARGUS_API_KEY';
/** What `argus keys create` grants when --scopes is not given (the gateway's default too). */
export const DEFAULT_KEY_SCOPES: readonly ApiScope[] = ['analyze', 'jobs'];
/** Tenants and key ids: the keys file's rule (libs/config/src/api-keys.ts). */
export const KEY_NAME = /^[A-Za-z0-9._-]{1,64}$/;
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
  /** Describe: a question about each image, answered from what is visible. */
  question?: string;
  /** Describe: the language of captions, alt text and answers (BCP 47). */
  language?: string;
  gatewayUrl: string;
  out?: { path: string; format: ReportFormat };
  concurrency: number;
  /** Sent as `Authorization: Bearer <key>`; never printed. */
  apiKey?: string;
}

export interface KeysCreateOptions {
  command: 'keys-create';
  tenant: string;
  /** Absent: `<tenant>-<8 random hex digits>`. */
  id?: string;
  policy?: string;
  scopes: ApiScope[];
  rateLimit?: { requests: number; perSeconds: number };
  json: boolean;
}

export interface KeysHashOptions {
  command: 'keys-hash';
  /** `-`: read the key from stdin. */
  key: string;
}

export type Command = AnalyzeOptions | KeysCreateOptions | KeysHashOptions | { command: 'help' };

export const HELP = `Usage: argus analyze <files or folders...> [options]
       argus keys create --tenant <tenant> [key options]
       argus keys hash <key | ->

analyze: submits every image found (recursively) to the Argus gateway as async jobs, shows progress,
writes a report and prints a summary.

Options:
  --tasks <list>       comma list of ${TASKS.join(', ')} (default: ${DEFAULT_TASKS.join(', ')})
  --tier <tier>        ${TIER_CHOICES.join(' | ')} (default: the gateway's, auto)
  --policy <name>      moderation policy (default: the gateway's)
  --profile <name>     listing-compliance profile for tagging (default: the gateway's)
  --question <text>    describe: a question about each image, answered from what is visible ("unknown" if not)
  --language <tag>     describe: language of captions, alt text and answers, BCP 47 (default: en)
  --gateway <url>      gateway address (default: $${GATEWAY_ENV} or ${DEFAULT_GATEWAY_URL})
  -o, --out <file>     write a report: a .json file (full results) or a .csv file (one row per image)
  --concurrency <n>    uploads and status requests in flight, 1-${MAX_CONCURRENCY} (default: ${DEFAULT_CONCURRENCY})
  --api-key <key>      API key, sent as "Authorization: Bearer <key>" (default: $${API_KEY_ENV})
  -h, --help           show this help

Images: .jpg .jpeg .png .webp .gif .tif .tiff .avif .heic; other files are skipped.
Exit codes: 0 every image done without errors, 1 some image failed or a job could not be created,
2 usage error, no images, gateway unreachable or API key refused, 130 interrupted (Ctrl-C).

keys create: makes a new API key, prints it once and the entry to add to the gateway's keys file.
  --tenant <tenant>    the tenant the key acts for (required)
  --id <id>            key id shown in logs and metrics (default: <tenant>-<8 random hex>)
  --policy <name>      moderation policy for requests that name none
  --scopes <list>      comma list of ${API_SCOPES.join(', ')} (default: ${DEFAULT_KEY_SCOPES.join(',')})
  --requests <n>       rate limit: requests per window (default: the gateway's)
  --per-seconds <s>    rate limit window in seconds, with --requests (default: 60)
  --json               print {"key", "entry"} as JSON
keys hash: prints the hash of a key ("-" reads it from stdin) for the keys file.
`;

const OPTIONS = {
  tasks: { type: 'string' },
  tier: { type: 'string' },
  policy: { type: 'string' },
  profile: { type: 'string' },
  question: { type: 'string' },
  language: { type: 'string' },
  gateway: { type: 'string' },
  out: { type: 'string', short: 'o' },
  concurrency: { type: 'string' },
  'api-key': { type: 'string' },
  tenant: { type: 'string' },
  id: { type: 'string' },
  scopes: { type: 'string' },
  requests: { type: 'string' },
  'per-seconds': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Flag = keyof typeof OPTIONS;
type Values = ReturnType<typeof parseOrExplain>['values'];

const ANALYZE_FLAGS: readonly Flag[] = [
  'tasks',
  'tier',
  'policy',
  'profile',
  'question',
  'language',
  'gateway',
  'out',
  'concurrency',
  'api-key',
  'help',
];
const KEYS_CREATE_FLAGS: readonly Flag[] = [
  'tenant',
  'id',
  'policy',
  'scopes',
  'requests',
  'per-seconds',
  'json',
  'help',
];
const KEYS_HASH_FLAGS: readonly Flag[] = ['help'];

/** Parses argv (without node and the script); throws UsageError with a one-line message. */
export function parseCommandLine(argv: readonly string[], env: NodeJS.ProcessEnv = {}): Command {
  const parsed = parseOrExplain(argv);
  const { values, positionals } = parsed;
  if (values.help) return { command: 'help' };
  if (positionals.length === 0) throw new UsageError('missing command; try `argus analyze <folder>`');
  const [command, ...rest] = positionals;
  if (command === 'keys') return parseKeys(rest, values);
  if (command !== 'analyze')
    throw new UsageError(`unknown command "${command}"; the commands are analyze and keys`);
  onlyFlags('analyze', values, ANALYZE_FLAGS);
  const paths = rest;
  if (paths.length === 0) throw new UsageError('name at least one file or folder of images to analyze');
  const apiKey = parseApiKey(values['api-key'], env[API_KEY_ENV]);
  return {
    command: 'analyze',
    paths,
    ...(values.tasks !== undefined ? { tasks: parseTasks(values.tasks) } : {}),
    ...(values.tier !== undefined ? { tier: parseTier(values.tier) } : {}),
    ...(values.policy !== undefined ? { policy: nonEmpty('--policy', values.policy) } : {}),
    ...(values.profile !== undefined ? { profile: nonEmpty('--profile', values.profile) } : {}),
    ...(values.question !== undefined ? { question: nonEmpty('--question', values.question) } : {}),
    ...(values.language !== undefined ? { language: nonEmpty('--language', values.language) } : {}),
    gatewayUrl: parseGatewayUrl(values.gateway ?? (env[GATEWAY_ENV] || DEFAULT_GATEWAY_URL)),
    ...(values.out !== undefined ? { out: parseOut(values.out) } : {}),
    concurrency:
      values.concurrency === undefined ? DEFAULT_CONCURRENCY : parseConcurrency(values.concurrency),
    ...(apiKey !== undefined ? { apiKey } : {}),
  };
}

function parseKeys(rest: string[], values: Values): KeysCreateOptions | KeysHashOptions {
  const [sub, ...args] = rest;
  if (sub === 'create') {
    onlyFlags('keys create', values, KEYS_CREATE_FLAGS);
    if (args.length > 0) throw new UsageError(`keys create takes no arguments; got "${args[0]}"`);
    if (values.tenant === undefined) throw new UsageError('keys create needs --tenant <tenant>');
    const tenant = parseKeyName('--tenant', values.tenant);
    if (values['per-seconds'] !== undefined && values.requests === undefined)
      throw new UsageError('--per-seconds needs --requests');
    return {
      command: 'keys-create',
      tenant,
      ...(values.id !== undefined ? { id: parseKeyName('--id', values.id) } : {}),
      ...(values.policy !== undefined ? { policy: nonEmpty('--policy', values.policy) } : {}),
      scopes: values.scopes === undefined ? [...DEFAULT_KEY_SCOPES] : parseScopes(values.scopes),
      ...(values.requests !== undefined
        ? {
            rateLimit: {
              requests: positiveInteger('--requests', values.requests),
              perSeconds:
                values['per-seconds'] === undefined
                  ? 60
                  : positiveInteger('--per-seconds', values['per-seconds']),
            },
          }
        : {}),
      json: values.json === true,
    };
  }
  if (sub === 'hash') {
    onlyFlags('keys hash', values, KEYS_HASH_FLAGS);
    // The key is not echoed in any message: it may be a real one.
    if (args.length !== 1) throw new UsageError('keys hash takes one key, or - to read it from stdin');
    return { command: 'keys-hash', key: args[0] };
  }
  throw new UsageError(
    rest.length === 0
      ? 'keys needs a subcommand: create or hash'
      : `unknown subcommand "keys ${sub}"; use keys create or keys hash`,
  );
}

/** Flags of another command are usage errors, not silently ignored. */
function onlyFlags(command: string, values: Values, allowed: readonly Flag[]): void {
  for (const [flag, value] of Object.entries(values) as Array<[Flag, unknown]>) {
    if (value !== undefined && !allowed.includes(flag))
      throw new UsageError(`--${flag} is not an option of ${command}; see --help`);
  }
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

/** --api-key, else $ARGUS_API_KEY; undefined when neither is set. The key itself never goes into a message. */
export function parseApiKey(flag: string | undefined, fromEnv: string | undefined): string | undefined {
  const source = flag !== undefined ? '--api-key' : `$${API_KEY_ENV}`;
  const value = (flag ?? fromEnv ?? '').trim();
  if (value === '') {
    if (flag !== undefined) throw new UsageError('--api-key needs a value');
    return undefined;
  }
  // A header value: printable ASCII without spaces, as the gateway's `Bearer <key>` parser expects.
  if (!/^[\x21-\x7e]+$/.test(value))
    throw new UsageError(`${source} must be one word of printable ASCII characters (the key as created)`);
  return value;
}

export function parseKeyName(flag: string, value: string): string {
  if (!KEY_NAME.test(value))
    throw new UsageError(`${flag} must be 1 to 64 of A-Z a-z 0-9 . _ -; got "${value}"`);
  return value;
}

export function parseScopes(value: string): ApiScope[] {
  const names = value
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  if (names.length === 0) throw new UsageError(`--scopes needs one or more of ${API_SCOPES.join(', ')}`);
  const scopes: ApiScope[] = [];
  for (const name of names) {
    const scope = API_SCOPES.find((known) => known === name);
    if (scope === undefined)
      throw new UsageError(`unknown scope "${name}"; choose from ${API_SCOPES.join(', ')}`);
    if (!scopes.includes(scope)) scopes.push(scope);
  }
  return scopes;
}

function positiveInteger(flag: string, value: string): number {
  const n = Number(value.trim());
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1)
    throw new UsageError(`${flag} must be a whole number of 1 or more; got "${value}"`);
  return n;
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
