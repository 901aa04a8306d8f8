import { z } from 'zod';

/**
 * Parses an environment against a zod schema once at boot. On failure it throws one error that names every
 * offending variable, so a misconfigured process dies with a message an operator can act on.
 */
export function parseEnv<Schema extends z.ZodType>(
  schema: Schema,
  env: NodeJS.ProcessEnv = process.env,
): z.infer<Schema> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const variable = issue.path.join('.') || '(environment)';
    const received = typeof issue.path[0] === 'string' ? env[issue.path[0]] : undefined;
    return `  ${variable}: ${issue.message}${received === undefined ? '' : ` (got ${JSON.stringify(received)})`}`;
  });
  throw new ConfigError(`Invalid configuration:\n${problems.join('\n')}`);
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export const port = (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback);
export const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);
export const url = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .refine((value) => URL.canParse(value), 'must be a URL');
export const logLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info');

/** `true`/`1` or `false`/`0`; empty means the default. */
export const flag = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', ''])
    .default(fallback ? 'true' : 'false')
    .transform((value) => (value === '' ? fallback : value === 'true' || value === '1'));

/** A comma-separated list, trimmed, without empty entries. */
export const commaList = (fallback = '') =>
  z
    .string()
    .default(fallback)
    .transform((value) =>
      value
        .split(',')
        .map((entry) => entry.trim())
        .filter(Boolean),
    );
