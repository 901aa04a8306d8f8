// The API reference at /docs in real headless Chromium: Swagger UI renders every operation of the document the
// gateway serves, a schema opens, "Try it out" sends a request to the gateway, and nothing is requested from anywhere
// but the gateway (off-machine requests are refused and recorded), with no console or CSP error.
import type { Browser } from 'playwright-core';
import { startInProcessStack, type InProcessStack } from '../support/in-process-stack';
import { startNats, type NatsHarness } from '../support/nats-harness';
import { OllamaStandIn } from '../support/ollama-stand-in';
import { guardedPage, launchChromium, screenshot, type GuardedPage } from '../support/browser';

jest.setTimeout(120_000);

interface OpenApiDocument {
  info: { title: string; version: string };
  paths: Record<string, Record<string, { operationId?: string; summary?: string }>>;
}
const METHODS = ['get', 'put', 'post', 'delete', 'patch'];

let nats: NatsHarness | undefined;
let ollama: OllamaStandIn | undefined;
let stack: InProcessStack | undefined;
let browser: Browser | undefined;
let gateway: string;
let document: OpenApiDocument;
let guarded: GuardedPage;

beforeAll(async () => {
  nats = await startNats();
  ollama = await OllamaStandIn.start({ models: [{ name: 'qwen2.5vl:3b' }] });
  stack = await startInProcessStack(nats.url, { OLLAMA_HOST: ollama.url, ARGUS_TIERS: 'small' });
  gateway = stack.gatewayUrl;
  document = (await (await fetch(`${gateway}/openapi.json`)).json()) as OpenApiDocument;
  browser = await launchChromium();
  guarded = await guardedPage(browser);
  await guarded.page.goto(`${gateway}/docs`, { waitUntil: 'load' });
  await guarded.page.locator('.opblock').first().waitFor({ timeout: 30_000 });
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
  await ollama?.stop();
  await nats?.stop();
});

const operations = () =>
  Object.entries(document.paths).flatMap(([path, item]) =>
    Object.keys(item)
      .filter((method) => METHODS.includes(method))
      .map((method) => ({ path, method })),
  );

describe('/docs in Chromium', () => {
  it('renders the title, the version and one block per operation of the served document', async () => {
    const { page } = guarded;
    await expect(page.locator('.info .title').textContent()).resolves.toContain(document.info.title);
    const rendered: string[] = [];
    for (const block of await page.locator('.opblock').all()) {
      const method = (await block.locator('.opblock-summary-method').textContent())?.toLowerCase();
      const path = await block.locator('.opblock-summary-path').getAttribute('data-path');
      rendered.push(`${method} ${path}`);
    }
    const expected = operations().map(({ method, path }) => `${method} ${path}`);
    expect(rendered.sort()).toEqual(expected.sort());
    expect(expected.length).toBeGreaterThan(10);
    await screenshot(page, 'docs-overview');
  });

  it('opens an operation with its parameters, responses and problem+json schema', async () => {
    const { page } = guarded;
    const block = page.locator('.opblock', { has: page.locator('[data-path="/v1/jobs/{id}"]') }).first();
    await block.locator('.opblock-summary').first().click();
    await block.locator('.parameters').first().waitFor();
    await expect(block.locator('.parameters').first().textContent()).resolves.toContain('id');
    const responses = await block.locator('.responses-table .response-col_status').allTextContents();
    expect(responses.map((status) => status.trim())).toEqual(expect.arrayContaining(['200', '404']));
    await expect(block.textContent()).resolves.toContain('application/problem+json');
    await screenshot(page, 'docs-operation');
  });

  it('"Try it out" sends a request to this gateway and shows its answer', async () => {
    const { page } = guarded;
    const block = page.locator('.opblock', { has: page.locator('[data-path="/v1/models"]') }).first();
    await block.locator('.opblock-summary').first().click();
    await block.locator('button.try-out__btn').click();
    const answered = page.waitForResponse((response) => response.url() === `${gateway}/v1/models`);
    await block.locator('button.execute').click();
    expect((await answered).status()).toBe(200);
    const liveStatus = block.locator('.live-responses-table tr.response .response-col_status').first();
    await liveStatus.waitFor();
    await expect(liveStatus.textContent()).resolves.toContain('200');
    await screenshot(page, 'docs-try-it-out');
  });

  it('requested nothing from outside the machine and logged no error', () => {
    expect(guarded.outside).toEqual([]);
    expect(guarded.errors).toEqual([]);
  });
});
