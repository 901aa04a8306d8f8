// The whole stack as `npm start` runs it: scripts/start.mjs spawns nats-server, the gateway and every task worker as separate
// processes (OpenTelemetry preloaded), and this test drives it over HTTP against the Ollama stand-in.
import type { ChildProcess } from 'node:child_process';
import { TASKS, type AnalyzeResponse, type Problem } from '@argus/contracts';
import { labelPng, multipartBody, photoJpeg, truncatedJpeg } from '../support/fixtures';
import { OllamaStandIn } from '../support/ollama-stand-in';
import { startSpawnedStack, type SpawnedStack } from '../support/spawned-stack';

jest.setTimeout(180_000);

/** The most pixels the small tier's input rules in config/model-catalog.yaml send (qwen2.5vl, sides of 28 px). */
const INPUT_PIXELS = {
  moderation: 1_003_520,
  tagging: 1_003_520,
  ocr: 1_003_520,
  describe: 1_003_520,
} as const;
/** Every task by name: describe runs only when asked for. */
const ALL_TASKS = TASKS.join(',');
const SMALL_MODEL = 'qwen2.5vl:3b';

let ollama: OllamaStandIn;
let spawned: SpawnedStack;
let stack: ChildProcess;
let gatewayUrl: string;
let workerUrls: SpawnedStack['workerUrls'];
const output = () => spawned.output();

beforeAll(async () => {
  ollama = await OllamaStandIn.start({ models: [{ name: SMALL_MODEL }] });
  spawned = await startSpawnedStack({ OLLAMA_HOST: ollama.url, ARGUS_TIERS: 'small' });
  stack = spawned.process;
  gatewayUrl = spawned.gatewayUrl;
  workerUrls = spawned.workerUrls;
});

afterAll(async () => {
  await spawned.stop();
  await ollama.stop();
});

describe('the stack started by npm start', () => {
  it('prints the gateway URL, worker metrics URLs and an example curl', () => {
    expect(output()).toContain(`gateway          ${gatewayUrl}   (ready)`);
    for (const url of Object.values(workerUrls)) expect(output()).toContain(`${url}/metrics`);
    expect(output()).toContain(`curl -F image=@photo.jpg ${gatewayUrl}/v1/analyze`);
  });

  it('analyses a 12 MP photo through every task, with one trace id from the gateway to every Ollama call', async () => {
    const photo = await photoJpeg(4000, 3000);
    const response = await fetch(`${gatewayUrl}/v1/analyze`, {
      method: 'POST',
      body: multipartBody(photo, { tier: 'small', tasks: ALL_TASKS, question: 'What is in the picture?' }),
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as AnalyzeResponse;
    for (const task of TASKS)
      expect(body.results[task]).toMatchObject({ status: 'ok', engine: 'ollama', tier: 'small' });
    expect(body.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(body.traceId).not.toBe('0'.repeat(32));
    expect(response.headers.get('x-trace-id')).toBe(body.traceId);

    const chats = ollama.chats;
    expect(chats).toHaveLength(TASKS.length);
    for (const chat of chats) {
      expect(chat.headers.traceparent).toMatch(new RegExp(`^00-${body.traceId}-[0-9a-f]{16}-0[01]$`));
      expect(chat.format).toMatchObject({ type: 'object', properties: expect.any(Object) as unknown });
      const task = chat.prompt.includes('Transcribe')
        ? 'ocr'
        : chat.prompt.includes('Classify')
          ? 'moderation'
          : chat.prompt.includes('altText')
            ? 'describe'
            : 'tagging';
      const image = chat.images[0];
      expect(image.width * image.height).toBeLessThanOrEqual(INPUT_PIXELS[task]);
      expect([image.width % 28, image.height % 28]).toEqual([0, 0]);
      // Exactly the size qwen2.5vl's own image processor makes of it: Ollama resizes nothing again.
      expect([image.modelWidth, image.modelHeight]).toEqual([image.width, image.height]);
    }
  });

  it('answers from the real CPU engines when asked for the cpu tier', async () => {
    const label = await labelPng(['FRESH BASIL', 'Net wt 25 g']);
    const response = await fetch(`${gatewayUrl}/v1/analyze`, {
      method: 'POST',
      body: multipartBody(label, { tier: 'cpu', tasks: ALL_TASKS }),
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as AnalyzeResponse;
    expect(body.results.ocr).toMatchObject({ engine: 'cpu', tier: 'cpu', text: 'FRESH BASIL\nNet wt 25 g' });
    expect(body.results.describe).toMatchObject({ engine: 'cpu', needsGpuTier: ['caption.subject'] });
    expect(body.results.describe?.status === 'ok' && body.results.describe.caption).toContain('FRESH BASIL');
    expect(body.results.moderation).toMatchObject({ engine: 'cpu', decision: 'allow' });
    expect(body.results.tagging).toMatchObject({ engine: 'cpu', category: null });
  });

  it('links latency samples to traces: OpenMetrics scrapes carry the trace id as exemplar, plain text none', async () => {
    const response = await fetch(`${gatewayUrl}/v1/analyze`, {
      method: 'POST',
      body: multipartBody(await photoJpeg(1200, 900), { tier: 'small', tasks: ALL_TASKS }),
    });
    const { traceId } = (await response.json()) as AnalyzeResponse;
    for (const url of [gatewayUrl, ...Object.values(workerUrls)]) {
      const scrape = await fetch(`${url}/metrics`, {
        headers: { accept: 'application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5' },
      });
      expect(scrape.headers.get('content-type')).toContain('application/openmetrics-text');
      const body = await scrape.text();
      expect(body).toMatch(
        new RegExp(`argus_image_duration_seconds_bucket\\{[^}]*\\} \\d+ # \\{trace_id="${traceId}"\\}`),
      );
      expect(body.trimEnd().endsWith('# EOF')).toBe(true);
      const plain = await (await fetch(`${url}/metrics`)).text();
      expect(plain).not.toContain('trace_id');
    }
    // The same trace id on the JSON log lines of the gateway and of every worker that handled the image.
    const logged = output()
      .split('\n')
      .map((line) => /^\[([a-z-]+)\] (\{.*\})$/.exec(line))
      .filter((match): match is RegExpExecArray => match !== null)
      .map((match) => ({ service: match[1], line: JSON.parse(match[2]) as Record<string, unknown> }))
      .filter(({ line }) => line.trace_id === traceId);
    expect(new Set(logged.map(({ service }) => service))).toEqual(new Set(['gateway', ...TASKS]));
    for (const { line } of logged)
      expect(line).toMatchObject({ span_id: expect.stringMatching(/^[0-9a-f]{16}$/) as unknown });
  });

  it('exposes the per-image histogram with service and task labels on every worker', async () => {
    for (const [task, url] of Object.entries(workerUrls)) {
      const metrics = await (await fetch(`${url}/metrics`)).text();
      expect(metrics).toMatch(
        new RegExp(
          `argus_image_duration_seconds_count\\{service="[a-z-]+",task="${task}",[^}]*outcome="ok"\\} [1-9]`,
        ),
      );
    }
  });

  it('answers a truncated JPEG with 4xx problem+json and keeps serving', async () => {
    const bad = await fetch(`${gatewayUrl}/v1/analyze`, {
      method: 'POST',
      body: multipartBody(await truncatedJpeg()),
    });
    expect(bad.status).toBe(422);
    expect(bad.headers.get('content-type')).toContain('application/problem+json');
    const problem = (await bad.json()) as Problem;
    expect(problem).toMatchObject({ code: 'IMAGE_DECODE_FAILED', status: 422 });
    expect(problem.traceId).toMatch(/^[0-9a-f]{32}$/);

    const good = await fetch(`${gatewayUrl}/v1/analyze`, {
      method: 'POST',
      body: multipartBody(await photoJpeg(640, 480), { tasks: 'ocr', tier: 'small' }),
    });
    expect(good.status).toBe(200);
  });

  it('serves the web console, its own modules and Preact from the built gateway, and says keys are off', async () => {
    const page = await fetch(`${gatewayUrl}/console`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await page.text();
    expect(html).toContain('<meta name="argus-auth" content="off" />');
    for (const asset of ['app.js', 'reviews.js', 'console.css', 'preact.mjs', 'htm-preact.mjs']) {
      const response = await fetch(`${gatewayUrl}/console/${asset}`);
      expect([asset, response.status]).toEqual([asset, 200]);
      expect((await response.arrayBuffer()).byteLength).toBeGreaterThan(100);
    }
    const whoami = (await (await fetch(`${gatewayUrl}/v1/whoami`)).json()) as { authEnabled: boolean };
    expect(whoami.authEnabled).toBe(false);
  });

  it('stops every process cleanly on SIGTERM', async () => {
    const exited = new Promise<number | null>((resolve) => stack.once('exit', resolve));
    stack.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(output()).toContain('[argus] stopped.');
    await expect(fetch(`${gatewayUrl}/healthz`)).rejects.toThrow();
  });
});
