// What the web console relies on, over HTTP on a real gateway: GET /v1/whoami for any valid key whatever its scopes
// (and saying so when keys are off), and the console's shell and assets served publicly under a strict CSP.
import type { Problem, Whoami } from '@argus/contracts';
import { hashApiKey } from '@argus/config';
import { startInProcessStack, type InProcessStack } from '../support/in-process-stack';
import { startNats, type NatsHarness } from '../support/nats-harness';
import { OllamaStandIn } from '../support/ollama-stand-in';

jest.setTimeout(120_000);

const REVIEWER_KEY = 'argus_console-reviewer-key';
const KEYS_FILE = `
version: 1
keys:
  - { id: reviewer, hash: ${hashApiKey(REVIEWER_KEY)}, tenant: shop-a, policy: strict, scopes: [reviews] }
`;

let nats: NatsHarness;
let ollama: OllamaStandIn;
let stack: InProcessStack;
let keyed: string;

beforeAll(async () => {
  nats = await startNats();
  ollama = await OllamaStandIn.start({ models: [{ name: 'qwen2.5vl:3b' }] });
  stack = await startInProcessStack(nats.url, { OLLAMA_HOST: ollama.url, ARGUS_TIERS: 'small' });
  ({ url: keyed } = await stack.startGateway({ ARGUS_API_KEYS: KEYS_FILE }));
});

afterAll(async () => {
  await stack.stop();
  await ollama.stop();
  await nats.stop();
});

describe('GET /v1/whoami', () => {
  it('answers a key with only the reviews scope: its id, tenant, scopes and policy', async () => {
    const response = await fetch(`${keyed}/v1/whoami`, { headers: { 'x-api-key': REVIEWER_KEY } });
    expect(response.status).toBe(200);
    const body = (await response.json()) as Whoami;
    expect(body).toMatchObject({
      authEnabled: true,
      keyId: 'reviewer',
      tenant: 'shop-a',
      scopes: ['reviews'],
      policy: 'strict',
    });
    expect(body.policies).toEqual(expect.arrayContaining(['default', 'strict']));
    expect(body.profiles).toContain(body.defaultProfile);
  });

  it('refuses a missing or unknown key with 401 problem+json', async () => {
    const attempts: Array<Record<string, string>> = [{}, { 'x-api-key': 'argus_unknown' }];
    for (const headers of attempts) {
      const response = await fetch(`${keyed}/v1/whoami`, { headers });
      expect(response.status).toBe(401);
      expect(((await response.json()) as Problem).code).toBe('UNAUTHORIZED');
    }
  });

  it('says when keys are off', async () => {
    const body = (await (await fetch(`${stack.gatewayUrl}/v1/whoami`)).json()) as Whoami;
    expect(body).toMatchObject({
      authEnabled: false,
      keyId: null,
      tenant: null,
      scopes: ['analyze', 'jobs', 'reviews', 'ops'],
    });
  });
});

describe('/console', () => {
  it('serves the shell without a key, under a CSP that allows only its own scripts', async () => {
    const response = await fetch(`${keyed}/console`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/html');
    const csp = response.headers.get('content-security-policy') ?? '';
    expect(csp).toMatch(/script-src 'self' 'sha256-[A-Za-z0-9+/=]+'/);
    expect(csp).not.toContain('unsafe-inline');
    const page = await response.text();
    expect(page).toContain('<meta name="argus-auth" content="required" />');
    for (const asset of ['app.js', 'console.css', 'preact.mjs', 'hooks.mjs', 'htm.mjs', 'htm-preact.mjs']) {
      const file = await fetch(`${keyed}/console/${asset}`);
      expect({ asset, status: file.status }).toEqual({ asset, status: 200 });
      await file.arrayBuffer();
    }
    const missing = await fetch(`${keyed}/console/secrets.js`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as Problem).code).toBe('NOT_FOUND');
  });
});
