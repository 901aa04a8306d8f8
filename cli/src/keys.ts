import { randomBytes } from 'node:crypto';
import { generateApiKey, hashApiKey, type ApiScope } from '@argus/config';
import type { KeysCreateOptions } from './args';

/** One entry of the gateway's keys file (`keys:` in ARGUS_API_KEYS / ARGUS_API_KEYS_FILE), as printed. */
export interface KeyFileEntry {
  id: string;
  hash: string;
  tenant: string;
  policy?: string;
  scopes: ApiScope[];
  rateLimit?: { requests: number; perSeconds: number };
}

export interface CreatedKey {
  /** The key in the clear: shown once, never stored. */
  key: string;
  entry: KeyFileEntry;
}

/** `<tenant>-<8 random hex>`, the tenant cut so the id stays within 64 characters. */
export function defaultKeyId(
  tenant: string,
  random: () => string = () => randomBytes(4).toString('hex'),
): string {
  const suffix = random();
  return `${tenant.slice(0, 64 - suffix.length - 1)}-${suffix}`;
}

export function createKey(options: KeysCreateOptions, generate: () => string = generateApiKey): CreatedKey {
  const key = generate();
  const entry: KeyFileEntry = {
    id: options.id ?? defaultKeyId(options.tenant),
    hash: hashApiKey(key),
    tenant: options.tenant,
    ...(options.policy !== undefined ? { policy: options.policy } : {}),
    scopes: [...options.scopes],
    ...(options.rateLimit !== undefined ? { rateLimit: { ...options.rateLimit } } : {}),
  };
  return { key, entry };
}

/**
 * A string as a YAML scalar: plain when it cannot be read as anything else (ids, tenants, `sha256:` hashes), else
 * double-quoted; a JSON string is a valid YAML double-quoted scalar. (`yaml` itself is libs/config's to import.)
 */
export function yamlString(value: string): string {
  const plain =
    /^[A-Za-z_][A-Za-z0-9._:-]*$/.test(value) &&
    !value.endsWith(':') &&
    !/^(true|false|null|yes|no|on|off|y|n)$/i.test(value);
  return plain ? value : JSON.stringify(value);
}

/** The entry as a YAML list item, ready to go under `keys:` in the keys file. */
export function entryYaml(entry: KeyFileEntry): string {
  const lines = [
    `- id: ${yamlString(entry.id)}`,
    `  hash: ${yamlString(entry.hash)}`,
    `  tenant: ${yamlString(entry.tenant)}`,
  ];
  if (entry.policy !== undefined) lines.push(`  policy: ${yamlString(entry.policy)}`);
  lines.push('  scopes:', ...entry.scopes.map((scope) => `    - ${yamlString(scope)}`));
  if (entry.rateLimit !== undefined) {
    lines.push(
      '  rateLimit:',
      `    requests: ${entry.rateLimit.requests}`,
      `    perSeconds: ${entry.rateLimit.perSeconds}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** What `argus keys create` prints on stdout. */
export function renderCreatedKey(created: CreatedKey, json: boolean): string {
  if (json) return `${JSON.stringify(created, null, 2)}\n`;
  return [
    'API key (shown only this once; it cannot be shown again, so store it now, e.g. in a secret manager):',
    '',
    `  ${created.key}`,
    '',
    'Add this entry under `keys:` in the gateway keys file (ARGUS_API_KEYS_FILE, or the ARGUS_API_KEYS text);',
    'it holds only the hash of the key:',
    '',
    entryYaml(created.entry).trimEnd(),
    '',
  ].join('\n');
}

/** The hash for the keys file of a key given on the command line or on stdin (trailing newline dropped). */
export function hashOfKey(key: string): string {
  const trimmed = key.trim();
  if (trimmed === '') throw new Error('no key given');
  return hashApiKey(trimmed);
}
