// Local supervision as `npm start` runs it: ARGUS_REPLICAS=2 gives every worker two processes in one NATS queue group,
// and a worker process that dies (kill -9) is restarted with backoff while its twin keeps serving.
import { TASKS, type Problem } from '@argus/contracts';
import { multipartBody, uniquePhotoJpeg } from '../support/fixtures';
import { OllamaStandIn } from '../support/ollama-stand-in';
import { childPidsByHttpPort, isAlive, stackChildren } from '../support/stack-processes';
import { startSpawnedStack, type SpawnedStack } from '../support/spawned-stack';

jest.setTimeout(180_000);

const SMALL_MODEL = 'qwen2.5vl:3b';
/** ARGUS_REQUEST_TIMEOUT_MS for this stack: no request may take longer than this, plus a little slack. */
const DEADLINE_MS = 8_000;
const SLACK_MS = 3_000;
const CONCURRENCY = 4;

let ollama: OllamaStandIn;
let spawned: SpawnedStack;

const portOf = (url: string) => Number(new URL(url).port);

async function answers(url: string): Promise<boolean> {
  try {
    return (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(2_000) })).ok;
  } catch {
    return false;
  }
}

interface Outcome {
  startedAt: number;
  ms: number;
  /** HTTP status, or `hung` when our own bound (deadline + slack) cut it off, or `failed` for a network error. */
  status: number | 'hung' | 'failed';
  code?: string;
  retryAfter?: string | null;
}

async function analyzeOcr(): Promise<Outcome> {
  const body = multipartBody(await uniquePhotoJpeg(480, 360), { tasks: 'ocr', tier: 'small' });
  const startedAt = Date.now();
  try {
    const response = await fetch(`${spawned.gatewayUrl}/v1/analyze`, {
      method: 'POST',
      body,
      signal: AbortSignal.timeout(DEADLINE_MS + SLACK_MS),
    });
    const json = (await response.json()) as Partial<Problem>;
    return {
      startedAt,
      ms: Date.now() - startedAt,
      status: response.status,
      code: response.ok ? undefined : json.code,
      retryAfter: response.headers.get('retry-after'),
    };
  } catch (error) {
    const hung = error instanceof Error && error.name === 'TimeoutError';
    return { startedAt, ms: Date.now() - startedAt, status: hung ? 'hung' : 'failed' };
  }
}

/** CONCURRENCY clients sending OCR requests back to back until `until`. */
async function load(until: number): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (Date.now() < until) outcomes.push(await analyzeOcr());
    }),
  );
  return outcomes;
}

beforeAll(async () => {
  ollama = await OllamaStandIn.start({
    models: [{ name: SMALL_MODEL }],
    gpu: { slots: CONCURRENCY, serviceTimeMs: 300, maxQueue: 32 },
  });
  spawned = await startSpawnedStack({
    OLLAMA_HOST: ollama.url,
    ARGUS_TIERS: 'small',
    ARGUS_REPLICAS: '2',
    ARGUS_REQUEST_TIMEOUT_MS: String(DEADLINE_MS),
    ARGUS_CACHE_TTL_SECONDS: '0',
    // The stand-in emulates no GPU limit here, and a killed replica's tier slots stay held until their leases expire:
    // enough slots that admission control (test/e2e/admission.test.ts) never refuses the faults' traffic.
    ARGUS_TIER_SMALL_CONCURRENCY: '16',
  });
});

afterAll(async () => {
  await spawned.stop();
  await ollama.stop();
});

(process.platform === 'linux' ? describe : describe.skip)('npm start with ARGUS_REPLICAS=2', () => {
  it('runs two processes per worker, each with its own probes-and-metrics port, all in the startup table', async () => {
    expect(spawned.output()).toContain('(2 replicas each');
    const pids = childPidsByHttpPort(spawned.process.pid);
    for (const [name, urls] of Object.entries(spawned.replicaUrls)) {
      expect(urls).toHaveLength(2);
      for (const [index, url] of urls.entries()) {
        expect(spawned.output()).toMatch(
          new RegExp(`\\n {4}${name}-${index + 1} +${url}/metrics {3}${url}/readyz\\n`),
        );
        expect(await answers(url)).toBe(true);
        expect(pids.get(portOf(url))).toEqual(expect.any(Number));
      }
    }
    expect(new Set(pids.values()).size).toBe(2 * TASKS.length);
  });

  it('restarts a kill -9ed OCR replica while the other one keeps answering, and no request hangs', async () => {
    const [, victimUrl] = spawned.replicaUrls.ocr;
    const victim = childPidsByHttpPort(spawned.process.pid).get(portOf(victimUrl));
    expect(victim).toEqual(expect.any(Number));

    const started = Date.now();
    const traffic = load(started + 7_000);
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const killedAt = Date.now();
    process.kill(victim!, 'SIGKILL');
    const outcomes = await traffic;

    await spawned.waitForOutput(
      /\[argus\] ocr-2 exited with code 137 \(SIGKILL\); restarting in 0\.5 s\n/,
      5_000,
    );

    // Nothing hangs: every request ends within its deadline, successfully or with a retryable-looking error.
    expect(outcomes.filter(({ status }) => status === 'hung' || status === 'failed')).toEqual([]);
    for (const outcome of outcomes) expect(outcome.ms).toBeLessThan(DEADLINE_MS + SLACK_MS);
    const failures = outcomes.filter(({ status }) => status !== 200);
    for (const failure of failures) {
      // In flight on the killed replica: a fast 503 with Retry-After, or the deadline's 504.
      if (failure.status === 503) {
        expect(failure).toMatchObject({
          code: 'MODEL_UNAVAILABLE',
          retryAfter: expect.any(String) as unknown,
        });
      } else {
        expect(failure).toMatchObject({ status: 504, code: 'INFERENCE_TIMEOUT' });
      }
    }
    // Only requests already on the killed replica may fail; each client had at most one in flight.
    expect(failures.length).toBeLessThanOrEqual(CONCURRENCY);
    // (NATS drops the dead replica's subscription as soon as the kernel closes its connection: allow a moment.)
    expect(failures.every(({ startedAt }) => startedAt < killedAt + 1_000)).toBe(true);
    // The surviving replica takes the whole load.
    const afterKill = outcomes.filter(({ startedAt }) => startedAt > killedAt + 1_000);
    expect(afterKill.length).toBeGreaterThanOrEqual(CONCURRENCY);
    expect(afterKill.every(({ status }) => status === 200)).toBe(true);

    // The killed replica comes back on its own port, as a new process.
    const deadline = Date.now() + 45_000;
    while (!(await answers(victimUrl)) && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 250));
    expect(await answers(victimUrl)).toBe(true);
    const successor = childPidsByHttpPort(spawned.process.pid).get(portOf(victimUrl));
    expect(successor).toEqual(expect.any(Number));
    expect(successor).not.toBe(victim);
    expect(isAlive(victim!)).toBe(false);
    expect(spawned.output()).toMatch(
      new RegExp(`\\[argus\\] ocr-2 restarted \\(pid ${successor}, restart 1\\)`),
    );

    const after = await analyzeOcr();
    expect(after.status).toBe(200);
  });

  it('stops every replica on SIGTERM and restarts nothing while stopping', async () => {
    const pids = stackChildren(spawned.process.pid).map((child) => child.pid);
    expect(pids.length).toBe(2 + 2 * TASKS.length); // nats, gateway, 2 × each worker
    const exited = new Promise<number | null>((resolve) => spawned.process.once('exit', resolve));
    const stopAt = spawned.output().length;
    spawned.process.kill('SIGTERM');
    expect(await exited).toBe(0);
    const stopping = spawned.output().slice(stopAt);
    expect(stopping).toContain('[argus] stopped.');
    expect(stopping).not.toMatch(/restarting in|restarted \(pid/);
    expect(pids.filter(isAlive)).toEqual([]);
    await expect(fetch(`${spawned.gatewayUrl}/healthz`)).rejects.toThrow();
  });
});
