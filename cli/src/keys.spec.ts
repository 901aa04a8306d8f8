import { parse } from 'yaml';
import { hashApiKey, loadApiKeys } from '@argus/config';
import type { KeysCreateOptions } from './args';
import { createKey, defaultKeyId, entryYaml, hashOfKey, renderCreatedKey } from './keys';

const options = (overrides: Partial<KeysCreateOptions> = {}): KeysCreateOptions => ({
  command: 'keys-create',
  tenant: 'acme',
  scopes: ['analyze', 'jobs'],
  json: false,
  ...overrides,
});

describe('createKey', () => {
  it('makes a fresh argus_ key whose hash is in the entry, with a <tenant>-<8 hex> id', () => {
    const a = createKey(options());
    const b = createKey(options());
    expect(a.key).toMatch(/^argus_[A-Za-z0-9_-]{43}$/);
    expect(a.key).not.toBe(b.key);
    expect(a.entry).toEqual({
      id: expect.stringMatching(/^acme-[0-9a-f]{8}$/) as unknown,
      hash: hashApiKey(a.key),
      tenant: 'acme',
      scopes: ['analyze', 'jobs'],
    });
    expect(a.entry.id).not.toBe(b.entry.id);
  });

  it('keeps the id, policy, scopes and rate limit it is given', () => {
    const { entry } = createKey(
      options({ id: 'ci', policy: 'strict', scopes: ['ops'], rateLimit: { requests: 10, perSeconds: 5 } }),
      () => 'argus_fixed',
    );
    expect(entry).toEqual({
      id: 'ci',
      hash: hashApiKey('argus_fixed'),
      tenant: 'acme',
      policy: 'strict',
      scopes: ['ops'],
      rateLimit: { requests: 10, perSeconds: 5 },
    });
  });

  it('cuts a long tenant so the default id stays within 64 characters', () => {
    const id = defaultKeyId('t'.repeat(64), () => '0123abcd');
    expect(id).toHaveLength(64);
    expect(id).toMatch(/^t{55}-0123abcd$/);
  });
});

describe('renderCreatedKey', () => {
  /** The key line and the YAML snippet of the text output. */
  function parts(text: string): { key: string; snippet: string } {
    const key = /^ {2}(argus_\S+)$/m.exec(text)?.[1];
    const snippet = text.slice(text.indexOf('\n- id: ') + 1);
    if (!key) throw new Error(`no key in\n${text}`);
    return { key, snippet };
  }

  it('prints the key once with a warning, and an entry for the keys file that the gateway accepts', () => {
    const created = createKey(options({ policy: 'strict', rateLimit: { requests: 100, perSeconds: 60 } }));
    const text = renderCreatedKey(created, false);
    expect(text).toContain('cannot be shown again');
    expect(text.split(created.key)).toHaveLength(2);
    const { key, snippet } = parts(text);
    expect(key).toBe(created.key);

    const [entry] = parse(snippet) as Array<Record<string, unknown>>;
    expect(entry).toEqual(created.entry);
    expect(entry.hash).toBe(hashApiKey(key));

    // Pasted under `keys:`, the snippet is a keys file the gateway loads.
    const keys = loadApiKeys({ ARGUS_API_KEYS: `version: 1\nkeys:\n${snippet}` });
    expect(keys).toEqual([created.entry]);
  });

  it('prints {key, entry} as JSON with --json', () => {
    const created = createKey(options());
    const json = JSON.parse(renderCreatedKey(created, true)) as { key: string; entry: { hash: string } };
    expect(json).toEqual({ key: created.key, entry: created.entry });
    expect(json.entry.hash).toBe(hashApiKey(json.key));
  });

  it.each([
    'strict',
    'true',
    'No',
    '123',
    '1.5',
    'a: b',
    '#x',
    'say "hi"',
    "it's",
    ' x ',
    'ü-policy',
    'a:',
    '-x',
    '~',
  ])('writes policy %j so that YAML reads it back as the same string', (policy) => {
    const entry = { id: '0.9', hash: hashApiKey('k'), tenant: 'null', policy, scopes: ['jobs' as const] };
    expect(parse(`keys:\n${entryYaml(entry)}`)).toEqual({ keys: [entry] });
  });

  it('writes the entry as one YAML list item', () => {
    expect(entryYaml({ id: 'k', hash: 'sha256:00', tenant: 't', scopes: ['jobs'] })).toBe(
      '- id: k\n  hash: sha256:00\n  tenant: t\n  scopes:\n    - jobs\n',
    );
  });
});

describe('hashOfKey', () => {
  it('is the gateway hash of the key, ignoring a trailing newline from stdin', () => {
    expect(hashOfKey('argus_abc\n')).toBe(hashApiKey('argus_abc'));
    expect(hashOfKey('argus_abc')).toMatch(/^sha256:[0-9a-f]{64}$/);
  });
});
