// The eval harness end to end, as a user runs it: `npm run eval:generate -- DIR` writes the synthetic dataset, then
// `npm run eval -- --dataset DIR --tier cpu` starts the stack the way `npm start` does (scripts/stack.mjs), sends
// every item through the gateway and scores the answers. The CPU tier must meet the floors the eval documents.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDataset } from '../../eval/dataset';
import { SYNTHETIC_CHECK_IDS as CHECK_IDS } from '../../eval/generate-synthetic';
import type { EvalReport } from '../../eval/run-eval';

/** Build (when sources changed), generation, stack start and about 75 requests on a 2-core machine. */
jest.setTimeout(420_000);

const ROOT = join(__dirname, '..', '..');
const EVAL = join(ROOT, 'scripts', 'eval.mjs');

interface Run {
  code: number | null;
  output: string;
}

/** Runs `node args…`, bounded: past the timeout the process group is killed and the run fails. */
function runNode(args: string[], timeoutMs: number): Promise<Run> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  // The eval must start its own nats-server, as `npm start` does for a user with no NATS_URL.
  delete env.NATS_URL;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      reject(
        new Error(`node ${args.join(' ')} did not finish within ${timeoutMs} ms:\n${output.slice(-4000)}`),
      );
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

function digest(dir: string): string {
  const hash = createHash('sha256');
  hash.update(readFileSync(join(dir, 'dataset.jsonl')));
  for (const file of readdirSync(join(dir, 'images')).sort()) {
    hash.update(file).update(readFileSync(join(dir, 'images', file)));
  }
  return hash.digest('hex');
}

let dir: string;
let again: string;
let evalRun: Run;
let report: EvalReport;
const started = Date.now();

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'argus-eval-'));
  again = mkdtempSync(join(tmpdir(), 'argus-eval-again-'));
  const generated = await runNode([EVAL, 'generate', dir], 120_000);
  if (generated.code !== 0) throw new Error(`eval:generate failed:\n${generated.output}`);
  const resultsFile = join(dir, 'results.json');
  evalRun = await runNode(
    [EVAL, '--dataset', dir, '--tier', 'cpu', '--out', resultsFile, '--min-f1', '0.95', '--max-cer', '0.02'],
    360_000,
  );
  process.stdout.write(`eval e2e: ${Math.round((Date.now() - started) / 1000)} s\n${evalRun.output}`);
  // Exit code 1 with results written is a failed quality gate, which the tests below spell out; without results the
  // run itself failed.
  if (!existsSync(resultsFile))
    throw new Error(`the eval exited with ${String(evalRun.code)}:\n${evalRun.output}`);
  report = JSON.parse(readFileSync(resultsFile, 'utf8')) as EvalReport;
});

afterAll(() => {
  for (const folder of [dir, again]) if (folder) rmSync(folder, { recursive: true, force: true });
});

describe('npm run eval on the synthetic dataset, CPU tier', () => {
  it('generates a dataset where every listing check fails on at least 4 images of its own', () => {
    const items = parseDataset(readFileSync(join(dir, 'dataset.jsonl'), 'utf8'));
    for (const id of CHECK_IDS) {
      const failing = items.filter((item) => item.expected.compliance?.[id] === false).length;
      expect({ id, atLeast4: failing >= 4 }).toEqual({ id, atLeast4: true });
    }
    // Every listing photo is labelled with all seven checks.
    for (const item of items.filter((i) => i.expected.compliance)) {
      expect(Object.keys(item.expected.compliance ?? {}).sort()).toEqual([...CHECK_IDS].sort());
    }
    expect(items.filter((item) => item.expected.text !== undefined).length).toBeGreaterThanOrEqual(10);
  });

  it('generates the same bytes every time', async () => {
    const generated = await runNode([EVAL, 'generate', again], 120_000);
    expect(generated.code).toBe(0);
    expect(digest(again)).toBe(digest(dir));
  });

  it('passes its own --min-f1 0.95 --max-cer 0.02 gate and answers every request on the cpu tier', () => {
    expect(report.gates.failures).toEqual([]);
    expect(evalRun.code).toBe(0);
    expect(report.errors.messages).toEqual([]);
    expect(report.errors).toMatchObject({ requests: 0, byTask: {} });
    const tiers = new Set(
      report.items.flatMap((item) => Object.values(item.tasksOutcome).map((o) => o.tier)),
    );
    expect([...tiers]).toEqual(['cpu']);
  });

  it('scores every listing check at F1 ≥ 0.95', () => {
    for (const id of CHECK_IDS) {
      const f1 = report.compliance?.checks[id]?.f1 ?? null;
      expect({ id, f1, atLeast095: f1 !== null && f1 >= 0.95 }).toEqual({ id, f1, atLeast095: true });
    }
  });

  it('reads the labels and receipts with a character error rate of at most 2 %', () => {
    expect(report.ocr?.cer).toBeLessThanOrEqual(0.02);
  });

  it('flags every photo with a phone number, URL or e-mail as text.contact_info', () => {
    const contact = report.items.filter((item) =>
      item.moderation?.expectedCategories?.includes('text.contact_info'),
    );
    expect(contact.length).toBeGreaterThanOrEqual(4);
    for (const item of contact) {
      expect({ id: item.id, categories: item.moderation?.categories?.map((c) => c.id) }).toEqual({
        id: item.id,
        categories: expect.arrayContaining(['text.contact_info']) as string[],
      });
    }
  });
});
