// `argus analyze` against a real gateway: real nats-server, the Ollama stand-in on the small tier, the gateway and the
// three workers in process. The CLI runs as its own process from the build (bin/argus.mjs loads dist), the way
// `npx argus` runs it, so this needs `npm run build` first (`npm test` builds). Every wait is bounded.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { uniquePhotoJpeg } from '../support/fixtures';
import { startInProcessStack, type InProcessStack } from '../support/in-process-stack';
import { startNats, type NatsHarness } from '../support/nats-harness';
import { OllamaStandIn } from '../support/ollama-stand-in';

jest.setTimeout(180_000);

const ROOT = join(__dirname, '..', '..');
const BIN = join(ROOT, 'cli', 'bin', 'argus.mjs');
const BUILT = join(ROOT, 'dist', 'cli', 'src', 'main.js');
const SMALL_MODEL = 'qwen2.5vl:3b';
const CLI_TIMEOUT_MS = 90_000;

const CSV_HEADER =
  'file,item_id,job_id,status,decision,moderation_categories,failed_checks,category,ocr_text,error_code,error_message,alt_text,answer';

let nats: NatsHarness;
let ollama: OllamaStandIn;
let stack: InProcessStack;
let gatewayUrl: string;
let dir: string;

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI as a child process; async, so the in-process stack keeps serving meanwhile. */
function argus(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: dir,
      env: { ...process.env, ARGUS_GATEWAY_URL: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`argus ${args.join(' ')} did not exit in ${CLI_TIMEOUT_MS} ms\n${stderr}\n${stdout}`));
    }, CLI_TIMEOUT_MS);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

beforeAll(async () => {
  if (!existsSync(BUILT)) throw new Error(`${BUILT} is missing: run \`npm run build\` before this test`);
  nats = await startNats();
  ollama = await OllamaStandIn.start({ models: [{ name: SMALL_MODEL }] });
  stack = await startInProcessStack(nats.url, {
    OLLAMA_HOST: ollama.url,
    ARGUS_TIERS: 'small',
    ARGUS_CACHE_TTL_SECONDS: '0',
    ARGUS_JOB_MAX_DELIVER: '3',
    ARGUS_JOB_BUDGET_MS: '5000',
    ARGUS_JOB_RETRY_BASE_MS: '50',
    ARGUS_JOB_RETRY_MAX_MS: '200',
  });
  gatewayUrl = (await stack.startGateway()).url;
  dir = await mkdtemp(join(tmpdir(), 'argus-cli-it-'));
  await mkdir(join(dir, 'catalog', 'shoes'), { recursive: true });
  await mkdir(join(dir, 'good'));
  for (const name of ['catalog/a.jpg', 'catalog/b.jpg', 'catalog/shoes/c.jpg', 'catalog/shoes/d e.jpg']) {
    await writeFile(join(dir, name), await uniquePhotoJpeg(320, 240));
  }
  await writeFile(join(dir, 'catalog', 'notes.txt'), 'not an image, skipped');
  await writeFile(
    join(dir, 'catalog', 'shoes', 'corrupt.jpg'),
    Buffer.from('these bytes are not a JPEG at all'),
  );
  for (const name of ['good/1.jpg', 'good/2.jpg'])
    await writeFile(join(dir, name), await uniquePhotoJpeg(320, 240));
});

afterAll(async () => {
  await stack.stop();
  await ollama.stop();
  await nats.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('argus analyze', () => {
  it('walks a folder, reports every image in CSV, fails the corrupt one and exits 1', async () => {
    const result = await argus([
      'analyze',
      'catalog',
      '--tier',
      'small',
      '--gateway',
      gatewayUrl,
      '--out',
      'report.csv',
      '--concurrency',
      '2',
    ]);

    expect(result.code).toBe(1);
    expect(result.stderr).toContain('found 5 images (1 other file skipped); submitting 1 job');
    expect(result.stderr).toMatch(/^progress: \d+\/5 items \(\d+%\)/m);
    expect(result.stderr).toContain(
      'progress: 5/5 items (100%), done 4, failed 1, pending 0; jobs 1/1 finished',
    );

    const rows = (await readFile(join(dir, 'report.csv'), 'utf8')).trim().split('\n');
    expect(rows[0]).toBe(CSV_HEADER);
    expect(rows).toHaveLength(1 + 5);
    const byFile = new Map(
      rows.slice(1).map((row) => {
        const cells = row.match(/("([^"]|"")*"|[^,]*)(,|$)/g)!.map((cell) => cell.replace(/,$/, ''));
        return [
          cells[0],
          {
            itemId: cells[1],
            jobId: cells[2],
            status: cells[3],
            decision: cells[4],
            errorCode: cells[9],
          },
        ];
      }),
    );
    expect([...byFile.keys()]).toEqual([
      'catalog/a.jpg',
      'catalog/b.jpg',
      'catalog/shoes/c.jpg',
      'catalog/shoes/corrupt.jpg',
      'catalog/shoes/d e.jpg',
    ]);
    for (const file of ['catalog/a.jpg', 'catalog/b.jpg', 'catalog/shoes/c.jpg', 'catalog/shoes/d e.jpg']) {
      expect(byFile.get(file)).toMatchObject({ status: 'done', errorCode: '' });
      expect(byFile.get(file)?.decision).toMatch(/^(allow|review|block)$/);
    }
    expect(byFile.get('catalog/a.jpg')?.itemId).toBe('catalog_a.jpg');
    expect(byFile.get('catalog/shoes/d e.jpg')?.itemId).toBe('item-5');
    const corrupt = byFile.get('catalog/shoes/corrupt.jpg');
    expect(corrupt?.status).toBe('failed');
    expect(corrupt?.errorCode).toMatch(/^(IMAGE_DECODE_FAILED|UNSUPPORTED_MEDIA_TYPE)$/);
    expect(new Set([...byFile.values()].map((row) => row.jobId)).size).toBe(1);

    expect(result.stdout).toMatch(/^total\s+5$/m);
    expect(result.stdout).toMatch(/^done\s+4$/m);
    expect(result.stdout).toMatch(/^failed\s+1$/m);
    expect(result.stdout).toMatch(new RegExp(`^${corrupt?.errorCode ?? '-'}\\s+1$`, 'm'));
  });

  it('exits 0 with a JSON report when every image is fine (gateway from ARGUS_GATEWAY_URL)', async () => {
    const result = await argus(
      ['analyze', 'good', '--tier', 'small', '--tasks', 'moderation,ocr', '--out', 'report.json'],
      {
        ARGUS_GATEWAY_URL: gatewayUrl,
      },
    );
    expect(result.code).toBe(0);
    const report = JSON.parse(await readFile(join(dir, 'report.json'), 'utf8')) as {
      items: Array<{ file: string; status: string; errors: unknown[]; results: Record<string, unknown> }>;
    };
    expect(report.items.map((item) => [item.file, item.status, item.errors])).toEqual([
      ['good/1.jpg', 'done', []],
      ['good/2.jpg', 'done', []],
    ]);
    for (const item of report.items) expect(Object.keys(item.results).sort()).toEqual(['moderation', 'ocr']);
    expect(result.stdout).toMatch(/^done\s+2$/m);
  });

  it('exits 2 with a hint when the gateway is not running', async () => {
    const result = await argus(['analyze', 'good', '--gateway', 'http://127.0.0.1:9']);
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n').pop()).toMatch(
      /^argus: cannot reach the Argus gateway at http:\/\/127\.0\.0\.1:9 .*start the stack with `npm start` or pass --gateway <url>$/,
    );
  });
});

describe('argus analyze against a gateway with API keys', () => {
  let keyedUrl: string;
  let key: string;

  beforeAll(async () => {
    // The key and its entry come from `argus keys create`, the way an operator makes them.
    const created = await argus(['keys', 'create', '--tenant', 'it-cli', '--id', 'it-cli']);
    expect(created.code).toBe(0);
    key = /^ {2}(argus_\S+)$/m.exec(created.stdout)?.[1] ?? '';
    expect(key).not.toBe('');
    const entry = created.stdout.slice(created.stdout.indexOf('\n- id: ') + 1);
    keyedUrl = (await stack.startGateway({ ARGUS_API_KEYS: `version: 1\nkeys:\n${entry}` })).url;
  });

  it('exits 2 with one line about the key when no key is given', async () => {
    const result = await argus(['analyze', 'good', '--tasks', 'ocr', '--gateway', keyedUrl], {
      ARGUS_API_KEY: '',
    });
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n').pop()).toMatch(
      /^argus: the gateway at \S+ requires an API key \(UNAUTHORIZED\); pass --api-key <key> or set ARGUS_API_KEY/,
    );
  });

  it('exits 0 with the key from ARGUS_API_KEY, and never prints it', async () => {
    const result = await argus(
      ['analyze', 'good', '--tier', 'small', '--tasks', 'ocr', '--gateway', keyedUrl],
      {
        ARGUS_API_KEY: key,
      },
    );
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^done\s+2$/m);
    expect(result.stdout + result.stderr).not.toContain(key);
  });
});
