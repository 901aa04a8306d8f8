// Real Chromium for the browser tests: Debian's package driven by playwright-core (no browser download), started the
// way a CI machine can run it, with every request that would leave the machine refused and recorded.
import { existsSync, mkdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  // /dev/shm is small in many containers; Chromium then crashes tabs.
  '--disable-dev-shm-usage',
];

const CHROMIUM_HELP = `the browser tests need Chromium: on Debian/Ubuntu \`sudo apt-get install -y chromium\` (npm test installs it when it runs as root), or set CHROMIUM_PATH to a Chromium or Chrome executable`;

/** Where screenshots land: test-results/browser, kept by CI with the rest of the test output. */
export const SCREENSHOT_DIR = join(__dirname, '..', '..', 'test-results', 'browser');

export function chromiumExecutable(): string {
  const configured = process.env.CHROMIUM_PATH;
  if (configured) {
    if (!existsSync(configured))
      throw new Error(`CHROMIUM_PATH=${configured} does not exist; ${CHROMIUM_HELP}`);
    return configured;
  }
  const dirs = (process.env.PATH ?? '').split(delimiter).concat(['/usr/bin', '/usr/local/bin']);
  for (const dir of dirs) {
    const candidate = join(dir, 'chromium');
    if (dir && existsSync(candidate)) return candidate;
  }
  throw new Error(`chromium not found; ${CHROMIUM_HELP}`);
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumExecutable(),
    headless: true,
    args: CHROMIUM_ARGS,
    timeout: 60_000,
  });
}

const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** True for URLs that stay on this machine: loopback http(s), and data:, blob: and about: documents. */
export function staysLocal(url: string): boolean {
  const parsed = new URL(url);
  if (['data:', 'blob:', 'about:'].includes(parsed.protocol)) return true;
  return LOCAL_HOSTS.has(parsed.hostname);
}

export interface GuardedPage {
  context: BrowserContext;
  page: Page;
  /** Requests that would have left the machine (refused before they were sent). */
  outside: string[];
  /** Console errors and uncaught page errors, CSP violations among them. */
  errors: string[];
}

/** A fresh context and page whose off-machine requests are aborted and recorded, and whose errors are collected. */
export async function guardedPage(
  browser: Browser,
  options: { viewport?: { width: number; height: number } } = {},
): Promise<GuardedPage> {
  const context = await browser.newContext({ viewport: options.viewport ?? { width: 1280, height: 800 } });
  const outside: string[] = [];
  const errors: string[] = [];
  await context.route('**/*', async (route) => {
    const url = route.request().url();
    if (staysLocal(url)) return route.continue();
    outside.push(url);
    return route.abort('blockedbyclient');
  });
  const page = await context.newPage();
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(error.message));
  return { context, page, outside, errors };
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
