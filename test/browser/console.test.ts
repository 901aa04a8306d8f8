// The web console at /console in real headless Chromium against an in-process stack with API keys: sign-in shows the
// tenant and scopes, a key without a scope gets a clear message, two pending reviews (seeded by a job whose policy
// sends them to review) are resolved from the keyboard with their evidence drawn, and an analysed label gets one box
// per OCR line at the answer's coordinates. Screenshots land in test-results/browser; axe-core finds no serious or
// critical violation; nothing is requested off the machine and the console logs no error.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import type { Browser, Page } from 'playwright-core';
import type { AnalyzeResponse, JobCreated, ReviewList } from '@argus/contracts';
import { hashApiKey } from '@argus/config';
import { labelPng, uniquePhotoJpeg } from '../support/fixtures';
import { startInProcessStack, type InProcessStack } from '../support/in-process-stack';
import { startNats, type NatsHarness } from '../support/nats-harness';
import { OllamaStandIn, type ChatScript, type RecordedChat } from '../support/ollama-stand-in';
import { guardedPage, launchChromium, screenshot, type GuardedPage } from '../support/browser';

jest.setTimeout(120_000);

const SMALL_MODEL = 'qwen2.5vl:3b';
const KEYS = { moderator: 'argus_console-moderator-key', analyst: 'argus_console-analyst-key' };
const KEYS_FILE = `
version: 1
keys:
  - { id: moderator, hash: ${hashApiKey(KEYS.moderator)}, tenant: shop-a, scopes: [analyze, jobs, reviews] }
  - { id: analyst, hash: ${hashApiKey(KEYS.analyst)}, tenant: shop-a, scopes: [analyze] }
`;
const EVIDENCE_BOX = { x: 40, y: 30, width: 120, height: 90 };
const LABEL_LINES = ['ORGANIC HONEY', 'Net wt 500 g', 'Best before 2027'];

/** Every moderation call finds alcohol at 0.85: the default policy sends that to review. */
function moderationAnswer(chat: RecordedChat): ChatScript | undefined {
  if (!chat.images.length) return undefined;
  return {
    content: JSON.stringify({
      categories: [
        {
          id: 'alcohol.beverages',
          confidence: 0.85,
          evidence: { rationale: 'a bottle of wine on the table', box: EVIDENCE_BOX },
        },
      ],
      reason: 'a product photo with a wine bottle',
      confidence: 0.9,
    }),
  };
}

// Undefined until beforeAll got that far, so afterAll stops only what started.
let nats: NatsHarness | undefined;
let ollama: OllamaStandIn | undefined;
let stack: InProcessStack | undefined;
let browser: Browser;
let gateway: string;
let guarded: GuardedPage;
/** The job whose two items the review test resolves. */
let jobId: string;

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

async function pendingReviews(): Promise<ReviewList> {
  const response = await fetch(`${gateway}/v1/reviews?status=pending`, {
    headers: { 'x-api-key': KEYS.moderator },
  });
  return (await response.json()) as ReviewList;
}

async function expectAccessible(page: Page, name: string): Promise<void> {
  const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21aa']).analyze();
  const serious = results.violations.filter((violation) =>
    ['serious', 'critical'].includes(violation.impact ?? ''),
  );
  expect({ name, violations: serious.map((violation) => `${violation.id}: ${violation.help}`) }).toEqual({
    name,
    violations: [],
  });
}

async function signIn(page: Page, key: string): Promise<void> {
  await page.goto(`${gateway}/console`, { waitUntil: 'load' });
  await page.locator('#api-key').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByTestId('identity').waitFor();
}

beforeAll(async () => {
  nats = await startNats();
  ollama = await OllamaStandIn.start({ models: [{ name: SMALL_MODEL }] });
  ollama.script(moderationAnswer);
  const started = await startInProcessStack(nats.url, {
    OLLAMA_HOST: ollama.url,
    ARGUS_TIERS: 'small',
    ARGUS_CACHE_TTL_SECONDS: '0',
    ARGUS_JOB_COMPLETION_CHECK_MS: '50',
  });
  stack = started;
  ({ url: gateway } = await started.startGateway({ ARGUS_API_KEYS: KEYS_FILE }));
  // Two items the policy sends to a person, submitted as the moderator's tenant.
  const items = await Promise.all(
    [0, 1].map(async (index) => ({
      id: `photo-${index + 1}`,
      imageBase64: (await uniquePhotoJpeg(320, 240)).toString('base64'),
    })),
  );
  const created = await fetch(`${gateway}/v1/jobs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': KEYS.moderator },
    body: JSON.stringify({ items, tasks: ['moderation'], tier: 'small' }),
  });
  expect(created.status).toBe(202);
  const job = (await created.json()) as JobCreated;
  expect(job.items.every((item) => item.status === 'queued')).toBe(true);
  jobId = job.jobId;
  await until('two pending reviews', 60_000, async () => {
    const list = await pendingReviews();
    return list.page.total >= 2 ? list : undefined;
  });
  browser = await launchChromium();
  guarded = await guardedPage(browser);
});

afterAll(async () => {
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when launching failed
  await browser?.close();
  await stack?.stop();
  await ollama?.stop();
  await nats?.stop();
});

describe('/console in Chromium', () => {
  it('signs in with a key and shows its tenant and scopes', async () => {
    const { page } = guarded;
    await page.goto(`${gateway}/console`, { waitUntil: 'load' });
    await page.locator('#api-key').waitFor();
    await expectAccessible(page, 'sign-in');
    await screenshot(page, 'console-sign-in');
    await page.locator('#api-key').fill('argus_not-a-key');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByRole('alert').textContent()).resolves.toContain('not known');
    await signIn(page, KEYS.moderator);
    const identity = await page.getByTestId('identity').textContent();
    expect(identity).toContain('moderator');
    expect(identity).toContain('shop-a');
    expect(identity).toContain('analyze, jobs, reviews');
  });

  it('resolves two reviews from the keyboard, with the evidence drawn on the image', async () => {
    const { page } = guarded;
    await page.goto(`${gateway}/console#/reviews`);
    await expect(page.getByTestId('counts').textContent()).resolves.toMatch(/^\s*2 pending reviews/);
    const evidence = page.locator('.box-evidence');
    await evidence.first().waitFor();
    const image = await page.locator('.stage-image').boundingBox();
    const drawn = await evidence.first().boundingBox();
    const natural = await page
      .locator('.stage-image')
      .evaluate((img) => ({ width: (img as unknown as { naturalWidth: number }).naturalWidth }));
    const scale = image!.width / natural.width;
    expect(drawn!.x - image!.x).toBeCloseTo(EVIDENCE_BOX.x * scale, 0);
    expect(drawn!.width).toBeCloseTo(EVIDENCE_BOX.width * scale, 0);
    await expect(page.locator('.item-facts').textContent()).resolves.toContain('alcohol.beverages');
    await expectAccessible(page, 'review queue');
    await screenshot(page, 'console-review');

    await page.locator('body').press('a');
    await expect(page.getByTestId('flash').textContent()).resolves.toContain('Allowed');
    await page.locator('.box-evidence').first().waitFor();
    await page.locator('body').press('b');
    await until('the queue to empty', 10_000, async () =>
      (await page.locator('.empty').count()) > 0 ? true : undefined,
    );
    expect((await pendingReviews()).page.total).toBe(0);

    await page.getByRole('button', { name: 'Resolved' }).click();
    const resolved = page.getByTestId('resolved');
    await resolved.waitFor();
    const rows = await resolved.locator('tbody tr').allTextContents();
    expect(rows).toHaveLength(2);
    expect(rows.join(' ')).toContain('allow');
    expect(rows.join(' ')).toContain('block');
    expect(rows.join(' ')).toContain('moderator');
    await screenshot(page, 'console-resolved');
    const metrics = await (await fetch(`${gateway}/metrics`)).text();
    expect(metrics).toMatch(/argus_review_outcomes_total\{[^}]*human_decision="allow"[^}]*\} 1/);
    expect(metrics).toMatch(/argus_review_outcomes_total\{[^}]*human_decision="block"[^}]*\} 1/);
    // The job's items carry the person's decision, which overrides the model's.
    const status = (await (
      await fetch(`${gateway}/v1/jobs/${jobId}`, { headers: { 'x-api-key': KEYS.moderator } })
    ).json()) as { items: Array<{ review?: { decision: string; reviewer?: string } }> };
    const decisions = status.items.map((item) => item.review?.decision).sort();
    expect(decisions).toEqual(['allow', 'block']);
  });

  it('lists the tenant’s jobs and opens one from the list', async () => {
    const { page } = guarded;
    await page.goto(`${gateway}/console#/jobs`);
    const rows = page.getByTestId('job-list').locator('tbody tr');
    await rows.first().waitFor();
    expect(await rows.count()).toBe(1);
    await expect(rows.first().textContent()).resolves.toMatch(/completed\s*100%/);
    await page.getByRole('button', { name: `Open job ${jobId}` }).click();
    const title = page.locator('.job h2');
    await expect(title.textContent()).resolves.toContain(jobId);
    // Opening from the list moves focus to the job, for keyboard and screen-reader users (fails after 5 s if not).
    await page.waitForFunction('document.activeElement?.tagName === "H2"', undefined, { timeout: 5_000 });
    expect(await page.evaluate<string>('document.activeElement?.textContent ?? ""')).toContain(jobId);
    await expectAccessible(page, 'jobs');
  });

  it('draws one box per OCR line at the coordinates of the answer', async () => {
    const { page } = guarded;
    const folder = mkdtempSync(join(tmpdir(), 'argus-console-'));
    const labelFile = join(folder, 'label.png');
    writeFileSync(labelFile, await labelPng(LABEL_LINES, { fontSize: 44 }));
    await page.goto(`${gateway}/console#/analyse`);
    await page.locator('#image-file').setInputFiles(labelFile);
    await page.getByLabel('moderation').uncheck();
    await page.getByLabel('ocr').check();
    await page.getByLabel('Tier').selectOption('cpu');
    const answered = page.waitForResponse((response) => response.url().endsWith('/v1/analyze'));
    await page.getByRole('button', { name: 'Analyse' }).click();
    const answer = (await (await answered).json()) as AnalyzeResponse;
    const ocr = answer.results.ocr;
    if (ocr?.status !== 'ok') throw new Error(`OCR failed: ${JSON.stringify(ocr)}`);
    const lines = ocr.lines.filter((line) => line.box);
    expect(lines.length).toBeGreaterThanOrEqual(LABEL_LINES.length);
    await page.locator('.box-ocr-line').first().waitFor();
    const boxes = page.locator('.box-ocr-line');
    expect(await boxes.count()).toBe(lines.length);
    const image = (await page.locator('.stage-image').boundingBox())!;
    const scale = image.width / answer.image.width;
    for (const [index, line] of lines.entries()) {
      const drawn = (await boxes.nth(index).boundingBox())!;
      const box = line.box!;
      expect(Math.abs(drawn.x - image.x - box.x * scale)).toBeLessThan(1.5);
      expect(Math.abs(drawn.y - image.y - box.y * scale)).toBeLessThan(1.5);
      expect(Math.abs(drawn.width - box.width * scale)).toBeLessThan(1.5);
      expect(Math.abs(drawn.height - box.height * scale)).toBeLessThan(1.5);
    }
    await expect(page.getByTestId('trace-id').textContent()).resolves.toBe(answer.traceId);
    await boxes.first().hover();
    await expectAccessible(page, 'analyse');
    await screenshot(page, 'console-analyse');
  });

  it('tells a key without the reviews scope what it lacks, and fits a phone-width screen', async () => {
    const phone = await guardedPage(browser, { viewport: { width: 390, height: 844 } });
    try {
      await signIn(phone.page, KEYS.analyst);
      await phone.page.goto(`${gateway}/console#/reviews`);
      const notice = phone.page.getByRole('alert');
      await expect(notice.textContent()).resolves.toContain('needs the “reviews” scope');
      const overflow = await phone.page.evaluate<number>(
        'document.documentElement.scrollWidth - document.documentElement.clientWidth',
      );
      expect(overflow).toBeLessThanOrEqual(0);
      await expectAccessible(phone.page, 'scope missing, phone');
      await screenshot(phone.page, 'console-phone-scope');
      expect(phone.outside).toEqual([]);
      expect(phone.errors).toEqual([]);
    } finally {
      await phone.context.close();
    }
  });

  it('requested nothing from outside the machine and logged no error', () => {
    expect(guarded.outside).toEqual([]);
    // The wrong key at sign-in is answered 401, which Chromium logs as a failed resource load.
    expect(guarded.errors.filter((error) => !error.includes('401'))).toEqual([]);
  });
});
