import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parse, stringify } from 'yaml';
import { z } from 'zod';
import { ArgusError, canonicalJson } from '@argus/contracts';
import { ConfigError } from './env';

/**
 * Finds a file shipped under the repo (or image) root by walking up from here, so the sources under ts-jest and
 * the compiled dist/ tree both find it whatever the working directory is.
 */
export function findShippedFile(relative: string, hint: string, start: string = __dirname): string {
  for (const origin of [start, process.cwd()]) {
    let dir = resolve(origin);
    for (;;) {
      const candidate = join(dir, relative);
      if (existsSync(candidate) && existsSync(join(dir, 'package.json'))) return candidate;
      const parent = dirname(dir);
      if (parent === dir) break;
      dir = parent;
    }
  }
  throw new ConfigError(`Cannot find ${relative} above ${start} or ${process.cwd()}; ${hint}`);
}

/** A YAML file that could not be read, or that is not YAML; `stage` says which, for the caller's message. */
export class YamlFileError extends ConfigError {
  constructor(
    readonly stage: 'read' | 'parse',
    readonly reason: string,
  ) {
    super(reason);
  }
}

/** The parsed YAML document of a file, not yet validated. */
export function readYamlDocument(source: string): unknown {
  let text: string;
  try {
    text = readFileSync(source, 'utf8');
  } catch (error) {
    throw new YamlFileError('read', error instanceof Error ? error.message : String(error));
  }
  try {
    return parse(text) as unknown;
  } catch (error) {
    throw new YamlFileError('parse', error instanceof Error ? error.message : String(error));
  }
}

/** Reads and validates a YAML config file once at boot; errors name the file and the path of each bad field. */
export function loadYamlConfig<Schema extends z.ZodType>(
  schema: Schema,
  source: string,
  what: string,
): z.infer<Schema> {
  let raw: unknown;
  try {
    raw = readYamlDocument(source);
  } catch (error) {
    throw new ConfigError(
      `cannot read ${what} ${source}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `  ${issue.path.join('.') || '(root)'}: ${issue.message}`,
    );
    throw new ConfigError(`Invalid ${what} in ${source}:\n${problems.join('\n')}`);
  }
  return parsed.data;
}

/** A file of named entries with a default, such as listing profiles or moderation policies. */
export interface NamedEntries<Entry> {
  source: string;
  defaultName: string;
  names: string[];
  get(name: string): Entry | undefined;
}

/**
 * A digest of everything a named-entries file says (its default and every entry), for the worker's fingerprint: a
 * reply cached under a policy or profile name must not outlive an edit of that entry.
 */
export function namedEntriesDigest<Entry>(entries: NamedEntries<Entry>): string {
  return createHash('sha256')
    .update(canonicalJson([entries.defaultName, entries.names.map((name) => [name, entries.get(name)])]))
    .digest('hex');
}

/** The requested entry, or the file's default; an unknown name is the caller's error (INVALID_REQUEST). */
export function resolveNamed<Entry>(
  entries: NamedEntries<Entry>,
  requested: string | undefined,
  what: string,
): { name: string; entry: Entry } {
  const name = requested ?? entries.defaultName;
  const entry = entries.get(name);
  if (entry === undefined) {
    throw new ArgusError('INVALID_REQUEST', `unknown ${what} "${name}"; known: ${entries.names.join(', ')}`);
  }
  return { name, entry };
}

const NAME = /^[a-z0-9][a-z0-9-]*$/;

/**
 * Loads `{ version: 1, default: <name>, <collection>: { <name>: entry } }` from the file an environment variable
 * names, or the shipped one; the default must name an entry.
 */
export function loadNamedEntries<EntrySchema extends z.ZodType>(options: {
  entry: EntrySchema;
  collection: string;
  envVariable: string;
  shipped: string;
  what: string;
  env: NodeJS.ProcessEnv;
}): NamedEntries<z.infer<EntrySchema>> {
  const { entry, collection, envVariable, shipped, what, env } = options;
  const fileSchema = z
    .strictObject({
      version: z.literal(1),
      default: z.string(),
      [collection]: z.record(z.string().regex(NAME, 'names are lowercase words joined by -'), entry),
    })
    .refine((file: Record<string, unknown>) => String(file.default) in (file[collection] as object), {
      message: `default must name one of the ${collection}`,
      path: ['default'],
    });
  const variable = env[envVariable];
  const source = variable
    ? resolve(variable)
    : findShippedFile(shipped, `set ${envVariable} to a file of ${what}`);
  // The collection's key is chosen by the caller, so the parsed shape is narrowed by hand here.
  const file = loadYamlConfig(fileSchema, source, what) as Record<string, unknown>;
  const entries = file[collection] as Record<string, z.infer<EntrySchema>>;
  return {
    source,
    defaultName: String(file.default),
    names: Object.keys(entries),
    get: (name) => entries[name],
  };
}

/** YAML text of a plain value (the gateway's /openapi.yaml); yaml stays behind this package. */
export function toYaml(value: unknown): string {
  return stringify(value);
}
