// The API description and its browsable reference on a real gateway with API keys on and ARGUS_AUTH_OPS=key: all
// public, the document the same as docs/openapi.json, and the /docs page self-contained (its assets come from the
// gateway, from swagger-ui-dist in node_modules, and no http(s) URL points elsewhere).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { hashApiKey } from '@argus/config';
import { startInProcessStack, type InProcessStack } from '../support/in-process-stack';
import { startNats, type NatsHarness } from '../support/nats-harness';
import { OllamaStandIn } from '../support/ollama-stand-in';

jest.setTimeout(90_000);

const KEYS_FILE = `
version: 1
keys:
  - { id: shop, hash: ${hashApiKey('argus_openapi-test-key')}, tenant: shop }
`;

let nats: NatsHarness;
let ollama: OllamaStandIn;
let stack: InProcessStack;
let gateway: string;

beforeAll(async () => {
  nats = await startNats();
  ollama = await OllamaStandIn.start({ models: [{ name: 'qwen2.5vl:3b' }] });
  stack = await startInProcessStack(nats.url, { OLLAMA_HOST: ollama.url, ARGUS_TIERS: 'small' });
  gateway = (await stack.startGateway({ ARGUS_API_KEYS: KEYS_FILE, ARGUS_AUTH_OPS: 'key' })).url;
});

afterAll(async () => {
  await stack.stop();
  await ollama.stop();
  await nats.stop();
});

const checkedIn = (): unknown =>
  JSON.parse(readFileSync(join(__dirname, '..', '..', 'docs', 'openapi.json'), 'utf8')) as unknown;

describe('API description', () => {
  it('is served as JSON and YAML without a key, the same as docs/openapi.json', async () => {
    const json = await fetch(`${gateway}/openapi.json`);
    expect(json.status).toBe(200);
    expect(json.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await json.json()).toEqual(checkedIn());

    const yaml = await fetch(`${gateway}/openapi.yaml`);
    expect(yaml.status).toBe(200);
    expect(yaml.headers.get('content-type')).toMatch(/^application\/yaml/);
    expect(parse(await yaml.text())).toEqual(checkedIn());
  });

  it('has a browsable reference whose page and assets all come from the gateway', async () => {
    const page = await fetch(`${gateway}/docs`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
    const html = await page.text();
    expect(html.match(/https?:\/\/[^\s"'<>]+/g) ?? []).toEqual([]);

    const referenced = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => match[1]);
    expect(referenced).toEqual(
      expect.arrayContaining(['docs/swagger-ui.css', 'docs/swagger-ui-bundle.js', 'docs/init.js']),
    );
    const types: Record<string, RegExp> = {
      'docs/swagger-ui.css': /^text\/css/,
      'docs/swagger-ui-bundle.js': /^text\/javascript/,
      'docs/init.js': /^text\/javascript/,
      'docs/favicon-32x32.png': /^image\/png/,
    };
    for (const asset of referenced) {
      const response = await fetch(new URL(asset, `${gateway}/docs`));
      expect([asset, response.status]).toEqual([asset, 200]);
      expect(response.headers.get('content-type')).toMatch(types[asset]);
      expect((await response.arrayBuffer()).byteLength).toBeGreaterThan(0);
    }
    const init = await (await fetch(`${gateway}/docs/init.js`)).text();
    expect(init).toContain("url: 'openapi.json'");
  });

  it('serves only the assets it knows, as problem+json 404 otherwise', async () => {
    const response = await fetch(`${gateway}/docs/package.json`);
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  });

  it('still guards the API itself', async () => {
    expect((await fetch(`${gateway}/v1/models`)).status).toBe(401);
  });
});
