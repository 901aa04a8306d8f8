import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { hashApiKey } from '@argus/config';
import { MAX_JOB_ITEMS } from '@argus/contracts';
import { jobStatus, moderationOk, taggingOk } from '../test/job-samples';
import type { JobItemStatus } from './gateway-api';
import { run, type CliEnvironment } from './main';
import type { ReportItem } from './report';

/** A gateway in a fetch function: records uploads, answers statuses from a script. */
class FakeGateway {
  readonly uploads: Array<{ fields: Record<string, string>; names: string[] }> = [];
  inFlight = 0;
  maxInFlight = 0;
  polls = 0;
  /** Polls that answer `pending` before a job completes. */
  pendingPolls = 1;
  createProblem: { status: number; body: unknown } | undefined;
  unreachable = false;
  /** The gateway forgets its jobs (expired, or another gateway without the KV): status answers 404. */
  forgetful = false;
  /** When set, every /v1 request needs `Authorization: Bearer <requiredKey>` (and /healthz too with guardProbes). */
  requiredKey: string | undefined;
  guardProbes = false;
  /** Scopes of the required key; without `jobs`, /v1/jobs answers 403. */
  keyScopes = ['analyze', 'jobs'];
  /** The next N status polls answer 429 with this Retry-After. */
  rateLimitedPolls = 0;
  retryAfter = '2';
  readonly authorizations: Array<string | null> = [];
  private readonly jobs = new Map<string, string[]>();

  readonly fetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    if (this.unreachable) throw new TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } });
    const url = new URL(input instanceof Request ? input.url : input);
    const authorization = new Headers(init?.headers).get('authorization');
    this.authorizations.push(authorization);
    if (this.requiredKey !== undefined && (url.pathname !== '/healthz' || this.guardProbes)) {
      if (authorization === null)
        return Response.json({ code: 'UNAUTHORIZED', detail: 'send an API key' }, { status: 401 });
      if (authorization !== `Bearer ${this.requiredKey}`)
        return Response.json(
          { code: 'UNAUTHORIZED', detail: 'the API key is not known (revoked, or mistyped)' },
          { status: 401 },
        );
      if (url.pathname.startsWith('/v1/jobs') && !this.keyScopes.includes('jobs'))
        return Response.json(
          { code: 'FORBIDDEN', detail: 'API key ci may not use jobs routes; its scopes are analyze' },
          { status: 403 },
        );
    }
    if (url.pathname === '/healthz') return Response.json({ status: 'ok' });
    if (url.pathname.startsWith('/v1/jobs/') && this.rateLimitedPolls > 0) {
      this.rateLimitedPolls--;
      return Response.json(
        { code: 'RATE_LIMITED', detail: 'slow down' },
        { status: 429, headers: { 'retry-after': this.retryAfter } },
      );
    }
    if (init?.method === 'POST' && url.pathname === '/v1/jobs') return this.create(init.body as FormData);
    const match = /^\/v1\/jobs\/([^/]+)$/.exec(url.pathname);
    if (match?.[1]) return this.status(match[1], url.searchParams);
    return Response.json({ code: 'NOT_FOUND' }, { status: 404 });
  };

  private async create(form: FormData): Promise<Response> {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    await new Promise((resolve) => setTimeout(resolve, 30));
    this.inFlight--;
    const fields: Record<string, string> = {};
    const names: string[] = [];
    for (const [key, value] of form.entries()) {
      if (typeof value === 'string') fields[key] = value;
      else names.push(value.name);
    }
    this.uploads.push({ fields, names });
    if (this.createProblem)
      return Response.json(this.createProblem.body, { status: this.createProblem.status });
    const jobId = `job-${this.uploads.length}`;
    this.jobs.set(jobId, names);
    return Response.json(
      { jobId, status: 'queued', items: names.map((id) => ({ id, status: 'queued' })) },
      { status: 202 },
    );
  }

  private status(jobId: string, query: URLSearchParams): Response {
    const ids = this.forgetful ? undefined : this.jobs.get(jobId);
    if (!ids) return Response.json({ code: 'NOT_FOUND', detail: 'no such job' }, { status: 404 });
    this.polls++;
    const pending = this.polls <= this.pendingPolls;
    const items: JobItemStatus[] = ids.map((id) => {
      if (pending) return { id, status: 'pending', results: {}, errors: [] };
      if (id.includes('bad')) {
        return {
          id,
          status: 'failed',
          results: {},
          errors: [
            { task: 'moderation', state: 'failed', code: 'IMAGE_DECODE_FAILED', message: 'not an image' },
          ],
        };
      }
      return {
        id,
        status: 'done',
        results: { moderation: moderationOk('allow'), tagging: taggingOk('home/mugs', ['sharpness']) },
        errors: [],
      };
    });
    const page = Number(query.get('page') ?? 1);
    const size = Number(query.get('pageSize') ?? 100);
    const full = jobStatus(jobId, items);
    return Response.json({
      ...full,
      items: items.slice((page - 1) * size, page * size),
      page: { number: page, size, totalItems: items.length },
    });
  }
}

let dir: string;
let gateway: FakeGateway;
let stdout: string;
let stderr: string;

function cli(overrides: Partial<CliEnvironment> = {}): Partial<CliEnvironment> {
  return {
    stdout: { write: (chunk: string) => (stdout += chunk) },
    stderr: { write: (chunk: string) => (stderr += chunk), isTTY: false },
    env: {},
    cwd: dir,
    fetch: gateway.fetch,
    signal: new AbortController().signal,
    pollIntervalMs: 1,
    progressIntervalMs: 0,
    ...overrides,
  };
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'argus-cli-main-'));
  await mkdir(join(dir, 'photos'));
  for (const name of ['a.jpg', 'b.png', 'bad.jpg', 'notes.txt'])
    await writeFile(join(dir, 'photos', name), 'x');
  gateway = new FakeGateway();
  stdout = '';
  stderr = '';
});

afterEach(() => rm(dir, { recursive: true, force: true }));

jest.setTimeout(20_000);

describe('run', () => {
  it('prints help on stdout and exits 0', async () => {
    expect(await run(['--help'], cli())).toBe(0);
    expect(stdout).toContain('Usage: argus analyze');
  });

  it('exits 2 on a usage error, with one line on stderr', async () => {
    expect(await run(['analyze', 'photos', '--nope'], cli())).toBe(2);
    expect(stderr).toBe('argus: unknown flag --nope; see --help\n');
    expect(gateway.uploads).toHaveLength(0);
  });

  it('exits 2 when no images are found, saying how many files were skipped', async () => {
    await mkdir(join(dir, 'docs'));
    await writeFile(join(dir, 'docs', 'a.pdf'), 'x');
    expect(await run(['analyze', 'docs'], cli())).toBe(2);
    expect(stderr).toBe('argus: no images found in docs (1 other file skipped)\n');
  });

  it('exits 2 when the gateway is unreachable and says how to start it', async () => {
    gateway.unreachable = true;
    expect(await run(['analyze', 'photos', '--gateway', 'http://127.0.0.1:9'], cli())).toBe(2);
    expect(stderr).toContain(
      'argus: cannot reach the Argus gateway at http://127.0.0.1:9 (ECONNREFUSED); start the stack with `npm start` or pass --gateway <url>\n',
    );
  });

  it('submits the images with the options, polls, writes the report and exits 1 for the failed item', async () => {
    const code = await run(
      [
        'analyze',
        'photos',
        '--tasks',
        'moderation,tagging',
        '--tier',
        'cpu',
        '--policy',
        'p',
        '--out',
        'r.json',
      ],
      cli(),
    );
    expect(code).toBe(1);
    expect(gateway.uploads).toEqual([
      {
        fields: { tasks: 'moderation,tagging', tier: 'cpu', policy: 'p' },
        names: ['photos_a.jpg', 'photos_b.png', 'photos_bad.jpg'],
      },
    ]);
    expect(stderr).toContain(
      'found 3 images (1 other file skipped); submitting 1 job to http://127.0.0.1:8080\n',
    );
    expect(stderr).toContain('progress: 0/3 items (0%)');
    expect(stderr).toContain('progress: 3/3 items (100%), done 2, failed 1, pending 0; jobs 1/1 finished');
    const report = JSON.parse(await readFile(join(dir, 'r.json'), 'utf8')) as { items: ReportItem[] };
    expect(
      report.items.map((item) => [item.file, item.itemId, item.jobId, item.status, item.decision]),
    ).toEqual([
      ['photos/a.jpg', 'photos_a.jpg', 'job-1', 'done', 'allow'],
      ['photos/b.png', 'photos_b.png', 'job-1', 'done', 'allow'],
      ['photos/bad.jpg', 'photos_bad.jpg', 'job-1', 'failed', null],
    ]);
    expect(stdout).toMatch(/^total\s+3$/m);
    expect(stdout).toMatch(/^IMAGE_DECODE_FAILED\s+1$/m);
    expect(stdout).toMatch(/^sharpness\s+2$/m);
  });

  it('exits 0 when every item is done', async () => {
    await rm(join(dir, 'photos', 'bad.jpg'));
    expect(await run(['analyze', 'photos', '--out', 'r.csv'], cli())).toBe(0);
    const csv = await readFile(join(dir, 'r.csv'), 'utf8');
    expect(csv.trim().split('\n')).toHaveLength(3);
  });

  it('splits the images into jobs of the job size, uploading at most --concurrency at once', async () => {
    await mkdir(join(dir, 'many'));
    for (let i = 0; i < 7; i++) await writeFile(join(dir, 'many', `p${i}.jpg`), 'x');
    const code = await run(['analyze', 'many', '--concurrency', '2', '--out', 'r.csv'], cli({ jobSize: 3 }));
    expect(code).toBe(0);
    expect(gateway.uploads.map((upload) => upload.names).sort()).toEqual([
      ['many_p0.jpg', 'many_p1.jpg', 'many_p2.jpg'],
      ['many_p3.jpg', 'many_p4.jpg', 'many_p5.jpg'],
      ['many_p6.jpg'],
    ]);
    expect(gateway.maxInFlight).toBe(2);
    expect(stderr).toContain('found 7 images; submitting 3 jobs');
    const rows = (await readFile(join(dir, 'r.csv'), 'utf8')).trim().split('\n');
    const cells = rows.slice(1).map((row) => row.split(','));
    expect(cells.map(([file, id, , status]) => [file, id, status])).toEqual(
      [0, 1, 2, 3, 4, 5, 6].map((i) => [`many/p${i}.jpg`, `many_p${i}.jpg`, 'done']),
    );
    const jobOf = cells.map((row) => row[2]);
    expect(new Set(jobOf.slice(0, 3)).size).toBe(1);
    expect(new Set(jobOf.slice(3, 6)).size).toBe(1);
    expect(new Set(jobOf).size).toBe(3);
  });

  it('uses jobs of MAX_JOB_ITEMS (1000) by default', async () => {
    expect(MAX_JOB_ITEMS).toBe(1000);
    await run(['analyze', 'photos'], cli());
    expect(gateway.uploads).toHaveLength(1);
  });

  it('exits 1 and fails the items when a job cannot be created', async () => {
    gateway.createProblem = {
      status: 400,
      body: {
        code: 'INVALID_REQUEST',
        detail: 'invalid fields',
        errors: [{ field: 'policy', message: 'unknown' }],
      },
    };
    expect(await run(['analyze', 'photos', '--policy', 'nope', '--out', 'r.csv'], cli())).toBe(1);
    expect(stderr).toContain('argus: job 1 of 1 could not be created: invalid fields (policy: unknown)\n');
    const rows = (await readFile(join(dir, 'r.csv'), 'utf8')).trim().split('\n');
    expect(rows.slice(1).map((row) => row.split(',')[3] + ' ' + row.split(',')[9])).toEqual([
      'failed INVALID_REQUEST',
      'failed INVALID_REQUEST',
      'failed INVALID_REQUEST',
    ]);
    expect(stdout).toMatch(/^jobs not created\s+1$/m);
  });

  it('gives up on a job the gateway no longer knows, fails its items and exits 1', async () => {
    gateway.forgetful = true;
    expect(await run(['analyze', 'photos', '--out', 'r.json'], cli())).toBe(1);
    expect(stderr).toContain('argus: gave up on job job-1: no such job\n');
    const report = JSON.parse(await readFile(join(dir, 'r.json'), 'utf8')) as { items: ReportItem[] };
    expect(report.items.map((item) => [item.status, item.jobId, item.errors])).toEqual(
      Array.from({ length: 3 }, () => ['failed', 'job-1', [{ code: 'NOT_FOUND', message: 'no such job' }]]),
    );
  });

  it('stops polling on interrupt, prints the job ids and exits 130', async () => {
    const controller = new AbortController();
    gateway.pendingPolls = Number.POSITIVE_INFINITY;
    const running = run(
      ['analyze', 'photos', '--out', 'r.csv'],
      cli({ signal: controller.signal, pollIntervalMs: 20 }),
    );
    while (gateway.polls < 2) await new Promise((resolve) => setTimeout(resolve, 5));
    controller.abort();
    expect(await running).toBe(130);
    expect(stderr).toContain(
      'argus: interrupted; the job keeps running on the gateway:\n  job-1  (GET http://127.0.0.1:8080/v1/jobs/job-1)\n',
    );
    const polls = gateway.polls;
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(gateway.polls).toBe(polls);
    await expect(readFile(join(dir, 'r.csv'))).rejects.toThrow();
  });
});

describe('run with API keys', () => {
  const KEY = 'argus_secretsecretsecret';

  it('sends the key from --api-key on every request and never prints it', async () => {
    gateway.requiredKey = KEY;
    gateway.guardProbes = true;
    expect(await run(['analyze', 'photos', '--api-key', KEY], cli())).toBe(1);
    expect(gateway.uploads).toHaveLength(1);
    expect(gateway.authorizations.length).toBeGreaterThan(2);
    expect(new Set(gateway.authorizations)).toEqual(new Set([`Bearer ${KEY}`]));
    expect(stdout + stderr).not.toContain('secretsecret');
  });

  it('takes the key from ARGUS_API_KEY', async () => {
    gateway.requiredKey = KEY;
    expect(await run(['analyze', 'photos'], cli({ env: { ARGUS_API_KEY: KEY } }))).toBe(1);
    expect(gateway.uploads).toHaveLength(1);
  });

  it('exits 2 with one line when the gateway wants a key and none is given (401 on submit)', async () => {
    gateway.requiredKey = KEY;
    expect(await run(['analyze', 'photos'], cli())).toBe(2);
    expect(stderr).toMatch(
      /^argus: the gateway at http:\/\/127\.0\.0\.1:8080 requires an API key \(UNAUTHORIZED\); pass --api-key <key> or set ARGUS_API_KEY/m,
    );
    expect(stderr.split('\n').filter((line) => line.startsWith('argus:'))).toHaveLength(1);
    expect(stdout).toBe('');
  });

  it('exits 2 on a 401 from /healthz before uploading anything', async () => {
    gateway.requiredKey = KEY;
    gateway.guardProbes = true;
    expect(await run(['analyze', 'photos', '--api-key', 'argus_wrong'], cli())).toBe(2);
    expect(stderr).toContain(
      'argus: the gateway at http://127.0.0.1:8080 refused the API key: the API key is not known (revoked, or mistyped) (UNAUTHORIZED); check --api-key or ARGUS_API_KEY\n',
    );
    expect(stderr).not.toContain('argus_wrong');
    expect(gateway.uploads).toHaveLength(0);
  });

  it('exits 2 on a 403 (a key without the jobs scope)', async () => {
    gateway.requiredKey = KEY;
    gateway.keyScopes = ['analyze'];
    expect(await run(['analyze', 'photos', '--api-key', KEY], cli())).toBe(2);
    expect(stderr).toContain(
      'argus: the API key may not do this at http://127.0.0.1:8080: API key ci may not use',
    );
  });

  it('exits 2 when the key is refused while polling, naming the jobs already created', async () => {
    gateway.requiredKey = KEY;
    gateway.pendingPolls = Number.POSITIVE_INFINITY;
    const running = run(
      ['analyze', 'photos', '--api-key', KEY, '--out', 'r.csv'],
      cli({ pollIntervalMs: 5 }),
    );
    while (gateway.polls < 1) await new Promise((resolve) => setTimeout(resolve, 5));
    gateway.requiredKey = 'argus_rotated';
    expect(await running).toBe(2);
    expect(stderr).toContain(
      'argus: the gateway at http://127.0.0.1:8080 refused the API key: the API key is not known (revoked, or mistyped) (UNAUTHORIZED); check --api-key or ARGUS_API_KEY\n',
    );
    expect(stderr).toContain('argus: the job already created keeps running on the gateway: job-1\n');
    await expect(readFile(join(dir, 'r.csv'))).rejects.toThrow();
  });

  it('waits Retry-After on a 429 while polling instead of failing', async () => {
    gateway.rateLimitedPolls = 3;
    const sleeps: number[] = [];
    const code = await run(
      ['analyze', 'photos'],
      cli({
        sleep: (ms) => {
          sleeps.push(ms);
          return Promise.resolve();
        },
      }),
    );
    expect(code).toBe(1); // bad.jpg fails; the rate limit does not
    expect(sleeps).toEqual([2000, 2000, 2000]);
    expect(stderr).toContain('argus: the gateway is rate limiting this key; retrying in 2 s (wait 1)\n');
    expect(stderr).not.toContain('gave up');
    expect(stdout).toMatch(/^done\s+2$/m);
  });
});

describe('run keys', () => {
  it('keys create prints the key once and a keys-file entry with its hash', async () => {
    expect(await run(['keys', 'create', '--tenant', 'acme', '--scopes', 'jobs'], cli())).toBe(0);
    const key = /^ {2}(argus_\S+)$/m.exec(stdout)?.[1] ?? '';
    expect(stdout).toContain('cannot be shown again');
    const [entry] = parseYaml(stdout.slice(stdout.indexOf('\n- id: ') + 1)) as Array<Record<string, unknown>>;
    expect(entry).toEqual({
      id: expect.stringMatching(/^acme-[0-9a-f]{8}$/) as unknown,
      hash: hashApiKey(key),
      tenant: 'acme',
      scopes: ['jobs'],
    });
    expect(stderr).toBe('');
  });

  it('keys create --json prints {key, entry}', async () => {
    expect(await run(['keys', 'create', '--tenant', 'acme', '--id', 'ci', '--json'], cli())).toBe(0);
    const { key, entry } = JSON.parse(stdout) as { key: string; entry: { id: string; hash: string } };
    expect(entry).toMatchObject({ id: 'ci', hash: hashApiKey(key) });
  });

  it('keys hash prints the hash of a key given as an argument or on stdin', async () => {
    expect(await run(['keys', 'hash', 'argus_abc'], cli())).toBe(0);
    expect(await run(['keys', 'hash', '-'], cli({ readStdin: () => Promise.resolve('argus_abc\n') }))).toBe(
      0,
    );
    expect(stdout).toBe(`${hashApiKey('argus_abc')}\n`.repeat(2));
    expect(await run(['keys', 'hash', '-'], cli({ readStdin: () => Promise.resolve('\n') }))).toBe(2);
    expect(stderr).toBe('argus: keys hash: no key given (stdin was empty)\n');
  });

  it('exits 2 on a bad keys create', async () => {
    expect(await run(['keys', 'create', '--tenant', 'a b'], cli())).toBe(2);
    expect(stderr).toBe('argus: --tenant must be 1 to 64 of A-Z a-z 0-9 . _ -; got "a b"\n');
    expect(stdout).toBe('');
  });
});
