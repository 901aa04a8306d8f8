import { ArgusError } from '@argus/contracts';
import { hashApiKey, loadGatewayConfig } from '@argus/config';
import { AccessControl, presentedKey, scopeFor } from './access-control';

const SHOP_KEY = 'argus_shop-key';
const REVIEWER_KEY = 'argus_reviewer-key';
const KEYS = `
version: 1
keys:
  - id: shop-a
    hash: ${hashApiKey(SHOP_KEY)}
    tenant: shop
    policy: strict
    rateLimit: { requests: 2, perSeconds: 60 }
  - id: reviewer
    hash: ${hashApiKey(REVIEWER_KEY)}
    tenant: shop
    scopes: [reviews]
`;

function control(env: NodeJS.ProcessEnv = {}) {
  return new AccessControl(loadGatewayConfig({ ARGUS_API_KEYS: KEYS, ...env }).auth);
}

async function rejection(promise: Promise<unknown>): Promise<ArgusError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ArgusError) return error;
    throw error;
  }
  throw new Error('expected a rejection');
}

describe('scopeFor', () => {
  it.each([
    ['/v1/analyze', 'analyze'],
    ['/v1/models', 'analyze'],
    ['/v1/jobs', 'jobs'],
    ['/v1/jobs/abc?page=2', 'jobs'],
    ['/v1/reviews/x.y/image', 'reviews'],
    ['/metrics', 'ops'],
    ['/readyz', 'ops'],
    ['/v1/jobsx', 'analyze'],
  ])('%s needs %s', (path, scope) => {
    expect(scopeFor(path)).toBe(scope);
  });
});

describe('presentedKey', () => {
  it('reads a Bearer token or X-API-Key, and nothing else', () => {
    expect(presentedKey({ authorization: 'Bearer abc' })).toBe('abc');
    expect(presentedKey({ authorization: 'bearer  abc ' })).toBe('abc');
    expect(presentedKey({ 'x-api-key': ' abc ' })).toBe('abc');
    expect(presentedKey({ authorization: 'Basic abc' })).toBeUndefined();
    expect(presentedKey({})).toBeUndefined();
  });
});

describe('AccessControl', () => {
  it('is off without keys, and admits everyone', async () => {
    const open = new AccessControl(loadGatewayConfig({}).auth);
    expect(open.enabled).toBe(false);
    expect(await open.admit({}, '/v1/analyze')).toEqual({ headers: {} });
  });

  it('refuses a missing or unknown key with UNAUTHORIZED', async () => {
    const access = control();
    expect((await rejection(access.admit({}, '/v1/analyze'))).code).toBe('UNAUTHORIZED');
    expect((await rejection(access.admit({ authorization: 'Bearer nope' }, '/v1/analyze'))).code).toBe(
      'UNAUTHORIZED',
    );
  });

  it('admits a known key as its tenant with its policy, and refuses routes outside its scopes', async () => {
    const access = control();
    const admitted = await access.admit({ authorization: `Bearer ${SHOP_KEY}` }, '/v1/jobs');
    expect(admitted.caller).toEqual({
      keyId: 'shop-a',
      tenant: 'shop',
      policy: 'strict',
      scopes: ['analyze', 'jobs'],
    });
    const forbidden = await rejection(access.admit({ authorization: `Bearer ${SHOP_KEY}` }, '/v1/reviews'));
    expect(forbidden.code).toBe('FORBIDDEN');
    expect(forbidden.message).toContain('shop-a');
    const reviewer = await access.admit({ 'x-api-key': REVIEWER_KEY }, '/v1/reviews');
    expect(reviewer.caller?.keyId).toBe('reviewer');
  });

  it('limits each key to its rate, with RateLimit headers and a Retry-After in seconds', async () => {
    const access = control();
    const first = await access.admit({ authorization: `Bearer ${SHOP_KEY}` }, '/v1/analyze');
    expect(first.headers).toMatchObject({ 'ratelimit-limit': '2', 'ratelimit-remaining': '1' });
    await access.admit({ authorization: `Bearer ${SHOP_KEY}` }, '/v1/analyze');
    const limited = await rejection(access.admit({ authorization: `Bearer ${SHOP_KEY}` }, '/v1/analyze'));
    expect(limited.code).toBe('RATE_LIMITED');
    expect(limited.details?.retryAfterSeconds).toBeGreaterThan(0);
    expect(limited.details?.retryAfterSeconds).toBeLessThanOrEqual(60);
    // Another key has its own budget.
    expect(
      (await access.admit({ authorization: `Bearer ${REVIEWER_KEY}` }, '/v1/reviews')).caller,
    ).toBeDefined();
  });

  it('leaves probes and metrics open by default, and asks for the ops scope when told to', async () => {
    expect(await control().admit({}, '/metrics')).toEqual({ headers: {} });
    const closed = control({ ARGUS_AUTH_OPS: 'key' });
    expect((await rejection(closed.admit({}, '/healthz'))).code).toBe('UNAUTHORIZED');
    expect((await rejection(closed.admit({ authorization: `Bearer ${SHOP_KEY}` }, '/metrics'))).code).toBe(
      'FORBIDDEN',
    );
  });
});

describe('API key configuration', () => {
  it('refuses ARGUS_AUTH=required without keys, and bad entries with their path', () => {
    expect(() => loadGatewayConfig({ ARGUS_AUTH: 'required' })).toThrow(/ARGUS_AUTH=required needs API keys/);
    expect(() =>
      loadGatewayConfig({ ARGUS_API_KEYS: 'version: 1\nkeys:\n  - { id: a, hash: md5, tenant: t }' }),
    ).toThrow(/keys\.0\.hash/);
    expect(() =>
      loadGatewayConfig({
        ARGUS_API_KEYS: `version: 1\nkeys:\n  - { id: a, hash: ${hashApiKey('x')}, tenant: t }\n  - { id: a, hash: ${hashApiKey('y')}, tenant: t }`,
      }),
    ).toThrow(/duplicate id a/);
  });

  it('ARGUS_AUTH=off turns configured keys off', () => {
    expect(loadGatewayConfig({ ARGUS_API_KEYS: KEYS, ARGUS_AUTH: 'off' }).auth.enabled).toBe(false);
  });

  it('leaves the API description and its reference open, even with ARGUS_AUTH_OPS=key', async () => {
    const closed = control({ ARGUS_AUTH_OPS: 'key' });
    for (const path of ['/openapi.json', '/openapi.yaml', '/docs', '/docs/swagger-ui.css']) {
      expect(await closed.admit({}, path)).toEqual({ headers: {} });
    }
    expect((await rejection(closed.admit({}, '/docsx'))).code).toBe('UNAUTHORIZED');
  });

  it('leaves the console shell and its assets open: they hold no data', async () => {
    const closed = control({ ARGUS_AUTH_OPS: 'key' });
    for (const path of ['/console', '/console/app.js', '/console/preact.mjs']) {
      expect(await closed.admit({}, path)).toEqual({ headers: {} });
    }
    expect((await rejection(closed.admit({}, '/consolex'))).code).toBe('UNAUTHORIZED');
  });

  it('lets any valid key ask who it is, whatever its scopes, but not an unknown one', async () => {
    const access = control();
    const reviewer = await access.admit({ 'x-api-key': REVIEWER_KEY }, '/v1/whoami');
    expect(reviewer.caller).toMatchObject({ keyId: 'reviewer', scopes: ['reviews'] });
    expect((await rejection(access.admit({}, '/v1/whoami'))).code).toBe('UNAUTHORIZED');
    expect((await rejection(access.admit({ 'x-api-key': 'argus_nope' }, '/v1/whoami'))).code).toBe(
      'UNAUTHORIZED',
    );
    expect((await rejection(access.admit({ 'x-api-key': REVIEWER_KEY }, '/v1/whoami/x'))).code).toBe(
      'FORBIDDEN',
    );
  });
});
