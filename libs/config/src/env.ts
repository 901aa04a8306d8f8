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
