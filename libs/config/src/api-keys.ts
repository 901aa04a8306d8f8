import { createHash, randomBytes } from 'node:crypto';
import { parse } from 'yaml';
import { z } from 'zod';
import { ConfigError } from './env';
import { readYamlDocument } from './yaml-config';

/** What a key may do; each gateway route needs one. */
export const API_SCOPES = ['analyze', 'jobs', 'reviews', 'ops'] as const;
export type ApiScope = (typeof API_SCOPES)[number];

const KEY_PREFIX = 'argus_';
const HASH = /^sha256:[0-9a-f]{64}$/;

/**
 * Keys are 32 random bytes, so a plain SHA-256 is enough at rest: nobody can search a 256-bit space, and a slow hash
 * (bcrypt, scrypt) would only cost CPU on every request. Only the hash is ever configured.
 */
export function hashApiKey(key: string): string {
  return `sha256:${createHash('sha256').update(key, 'utf8').digest('hex')}`;
}

export function generateApiKey(): string {
  return `${KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
}

const apiKeySchema = z.strictObject({
  /** Shown in logs and metrics instead of the key. */
  id: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'ids are 1 to 64 of A-Z a-z 0-9 . _ -'),
  hash: z.string().regex(HASH, 'hash must be "sha256:" and 64 lowercase hex digits (npx argus keys create)'),
  /** Jobs and reviews are visible only to keys of the same tenant. */
  tenant: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'tenants are 1 to 64 of A-Z a-z 0-9 . _ -'),
  /** The moderation policy of requests that name none. */
  policy: z.string().optional(),
  scopes: z.array(z.enum(API_SCOPES)).min(1).default(['analyze', 'jobs']),
  /** Requests per window, per gateway replica. */
  rateLimit: z
    .strictObject({
      requests: z.number().int().positive(),
      perSeconds: z.number().int().positive().default(60),
    })
    .optional(),
});
export type ApiKeyEntry = z.infer<typeof apiKeySchema>;

const apiKeysFileSchema = z
  .strictObject({ version: z.literal(1), keys: z.array(apiKeySchema) })
  .superRefine((file, ctx) => {
    const ids = new Set<string>();
    const hashes = new Set<string>();
    file.keys.forEach((key, index) => {
      if (ids.has(key.id))
        ctx.addIssue({ code: 'custom', path: ['keys', index, 'id'], message: `duplicate id ${key.id}` });
      if (hashes.has(key.hash))
        ctx.addIssue({ code: 'custom', path: ['keys', index, 'hash'], message: 'duplicate hash' });
      ids.add(key.id);
      hashes.add(key.hash);
    });
  });

/**
 * The gateway's API keys: YAML `{ version: 1, keys: [...] }` from ARGUS_API_KEYS (the text, as a Secret passes it)
 * or ARGUS_API_KEYS_FILE (a path). Undefined when neither is set.
 */
export function loadApiKeys(env: NodeJS.ProcessEnv = process.env): ApiKeyEntry[] | undefined {
  const inline = env.ARGUS_API_KEYS?.trim();
  const file = env.ARGUS_API_KEYS_FILE?.trim();
  if (inline && file)
    throw new ConfigError('Invalid configuration:\n  set ARGUS_API_KEYS or ARGUS_API_KEYS_FILE, not both');
  if (!inline && !file) return undefined;
  let raw: unknown;
  const source = file ? file : 'ARGUS_API_KEYS';
  try {
    raw = file ? readYamlDocument(file) : (parse(inline ?? '') as unknown);
  } catch (error) {
    throw new ConfigError(
      `cannot read the API keys in ${source}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  const parsed = apiKeysFileSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `  ${issue.path.join('.') || '(root)'}: ${issue.message}`,
    );
    throw new ConfigError(`Invalid API keys in ${source}:\n${problems.join('\n')}`);
  }
  return parsed.data.keys;
}
