import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pLimit from 'p-limit';
import { MAX_JOB_ITEMS } from '@argus/contracts';
import { API_KEY_ENV, HELP, parseCommandLine, UsageError, type AnalyzeOptions, type Command } from './args';
import {
  GatewayAuthError,
  GatewayClient,
  GatewayRequestError,
  GatewayUnreachableError,
  type FetchFn,
  type GatewayClientOptions,
} from './gateway-client';
import type { JobCounts, JobStatus } from './gateway-api';
import { findImages } from './image-files';
import { chunk, planItems, type PlannedItem } from './job-plan';
import { createKey, hashOfKey, renderCreatedKey } from './keys';
import { createProgress, snapshotOf, type Output } from './progress';
import { buildReport, toCsv, toJson, type JobOutcome } from './report';
import { exitCodeFor, renderSummary, summarize } from './summary';

export const EXIT = { ok: 0, failed: 1, usage: 2, interrupted: 130 } as const;

export interface CliEnvironment {
  stdout: Output;
  stderr: Output;
  env: NodeJS.ProcessEnv;
  cwd: string;
  fetch: FetchFn;
  /** Aborts the run like Ctrl-C; when absent, run() listens for SIGINT itself. */
  signal?: AbortSignal;
  pollIntervalMs: number;
  progressIntervalMs: number;
  /** Consecutive failed status polls of one job before the run gives up on it. */
  maxPollFailures: number;
  /** Items per job; the gateway's limit, MAX_JOB_ITEMS. */
  jobSize: number;
  /** All of stdin, for `argus keys hash -`. */
  readStdin: () => Promise<string>;
  /** Waits out a 429 (Retry-After); the default is a real timer. */
  sleep?: GatewayClientOptions['sleep'];
}

const START_HINT = 'start the stack with `npm start` or pass --gateway <url>';

/** The whole CLI; resolves to the exit code. bin/argus.mjs calls it with process.argv.slice(2). */
export async function run(argv: readonly string[], overrides: Partial<CliEnvironment> = {}): Promise<number> {
  const cli: CliEnvironment = {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    cwd: process.cwd(),
    fetch: (input, init) => fetch(input, init),
    pollIntervalMs: 1000,
    progressIntervalMs: 5000,
    maxPollFailures: 30,
    jobSize: MAX_JOB_ITEMS,
    readStdin,
    ...overrides,
  };
  let options: AnalyzeOptions;
  try {
    const command = parseCommandLine(argv, cli.env);
    if (command.command === 'help') {
      cli.stdout.write(HELP);
      return EXIT.ok;
    }
    if (command.command !== 'analyze') return await keys(command, cli);
    options = command;
  } catch (error) {
    return usage(cli, error);
  }

  const controller = new AbortController();
  const interrupt = () => {
    if (controller.signal.aborted) process.exit(EXIT.interrupted); // a second Ctrl-C: stop now
    controller.abort();
  };
  if (cli.signal)
    cli.signal.addEventListener(
      'abort',
      () => {
        controller.abort();
      },
      { once: true },
    );
  else process.on('SIGINT', interrupt);
  try {
    return await analyze(options, cli, controller.signal);
  } catch (error) {
    if (error instanceof UsageError) return usage(cli, error);
    throw error;
  } finally {
    if (!cli.signal) process.off('SIGINT', interrupt);
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

/** `argus keys create` and `argus keys hash`: local only, nothing is sent anywhere. */
async function keys(command: Exclude<Command, AnalyzeOptions | { command: 'help' }>, cli: CliEnvironment) {
  if (command.command === 'keys-create') {
    cli.stdout.write(renderCreatedKey(createKey(command), command.json));
    return EXIT.ok;
  }
  const key = command.key === '-' ? await cli.readStdin() : command.key;
  if (key.trim() === '') throw new UsageError('keys hash: no key given (stdin was empty)');
  cli.stdout.write(`${hashOfKey(key)}\n`);
  return EXIT.ok;
}

/** One line for a 401/403; the gateway's detail never contains the key, and neither does this. */
function authMessage(error: GatewayAuthError, options: AnalyzeOptions): string {
  const create = 'create one with `argus keys create`';
  if (error.status === 403)
    return `the API key may not do this at ${options.gatewayUrl}: ${error.message} (${error.code}); use a key with the jobs scope`;
  if (!options.apiKey)
    return `the gateway at ${options.gatewayUrl} requires an API key (${error.code}); pass --api-key <key> or set ${API_KEY_ENV} (${create})`;
  return `the gateway at ${options.gatewayUrl} refused the API key: ${error.message} (${error.code}); check --api-key or ${API_KEY_ENV}`;
}

function usage(cli: CliEnvironment, error: unknown): number {
  if (!(error instanceof UsageError)) throw error;
  cli.stderr.write(`argus: ${error.message}\n`);
  return EXIT.usage;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

async function analyze(options: AnalyzeOptions, cli: CliEnvironment, signal: AbortSignal): Promise<number> {
  const { stderr } = cli;
  // A function, not `signal.aborted` inline: the flag changes across awaits, which narrowing does not see.
  const aborted = () => signal.aborted;
  const found = await findImages(options.paths, cli.cwd);
  const skipped = found.skipped > 0 ? ` (${plural(found.skipped, 'other file')} skipped)` : '';
  if (found.images.length === 0) {
    throw new UsageError(`no images found in ${options.paths.join(', ')}${skipped}`);
  }
  const plan = planItems(found.images);
  const chunks = chunk(plan, cli.jobSize);
  stderr.write(
    `found ${plural(plan.length, 'image')}${skipped}; submitting ${plural(chunks.length, 'job')} to ${options.gatewayUrl}\n`,
  );

  const client = new GatewayClient(options.gatewayUrl, cli.fetch, {
    ...(options.apiKey ? { apiKey: options.apiKey } : {}),
    ...(cli.sleep ? { sleep: cli.sleep } : {}),
    onRateLimited: (seconds, attempt) =>
      stderr.write(
        `argus: the gateway is rate limiting this key; retrying in ${seconds} s (wait ${attempt})\n`,
      ),
  });
  const limit = pLimit(options.concurrency);
  const created: Array<{ items: PlannedItem[]; jobId: string }> = [];
  const interrupted = () => {
    const ids = created.map((job) => job.jobId);
    stderr.write(
      ids.length > 0
        ? `argus: interrupted; ${ids.length === 1 ? 'the job keeps' : `the ${ids.length} jobs keep`} running on the gateway:\n` +
            ids.map((id) => `  ${id}  (GET ${options.gatewayUrl}/v1/jobs/${id})\n`).join('')
        : 'argus: interrupted before any job was created\n',
    );
    return EXIT.interrupted;
  };

  try {
    await client.ping(signal);
  } catch (error) {
    if (aborted()) return interrupted();
    if (error instanceof GatewayUnreachableError) throw new UsageError(`${error.message}; ${START_HINT}`);
    if (error instanceof GatewayAuthError) throw new UsageError(authMessage(error, options));
    throw error;
  }

  // A 401/403 stops the whole run: every other request would be refused the same way.
  // Read through a function, like aborted(): TypeScript does not see the assignments in the callbacks below.
  const auth: { refused?: GatewayAuthError } = {};
  const refusal = () => auth.refused;
  const stopRefused = (error: GatewayAuthError) => {
    stderr.write(`argus: ${authMessage(error, options)}\n`);
    if (created.length > 0)
      stderr.write(
        `argus: ${created.length === 1 ? 'the job already created keeps' : `the ${created.length} jobs already created keep`} running on the gateway: ${created.map((job) => job.jobId).join(', ')}\n`,
      );
    return EXIT.usage;
  };

  // Submit: every chunk becomes a job, `concurrency` uploads at a time.
  const notCreated: JobOutcome[] = [];
  await Promise.all(
    chunks.map((items, index) =>
      limit(async () => {
        if (aborted() || refusal()) return;
        try {
          const job = await client.createJob(items, options, signal);
          created.push({ items, jobId: job.jobId });
          stderr.write(`job ${job.jobId}: ${plural(items.length, 'image')} queued\n`);
        } catch (error) {
          if (aborted()) return;
          if (error instanceof GatewayAuthError) {
            auth.refused ??= error;
            return;
          }
          const reason = failureOf(error);
          notCreated.push({ items, jobId: null, error: reason });
          stderr.write(
            `argus: job ${index + 1} of ${chunks.length} could not be created: ${reason.message}\n`,
          );
        }
      }),
    ),
  );
  if (aborted()) return interrupted();
  const refusedBeforePolling = refusal();
  if (refusedBeforePolling) return stopRefused(refusedBeforePolling);

  // Poll the counts (one item per page) until every job has ended, then read every page of items.
  const progress = createProgress(stderr, cli.progressIntervalMs);
  const counts = new Map<string, JobCounts>();
  const finished = new Map<string, JobStatus | { code: string; message: string }>();
  const failures = new Map<string, number>();
  try {
    while (finished.size < created.length && !refusal()) {
      await Promise.all(
        created
          .filter((job) => !finished.has(job.jobId))
          .map((job) =>
            limit(async () => {
              if (refusal()) return;
              try {
                const status = await client.status(job.jobId, 1, 1, signal);
                failures.delete(job.jobId);
                counts.set(job.jobId, status.counts);
                if (status.counts.pending === 0)
                  finished.set(job.jobId, await client.allItems(job.jobId, signal));
              } catch (error) {
                if (aborted()) return;
                if (error instanceof GatewayAuthError) {
                  auth.refused ??= error;
                  return;
                }
                const count = (failures.get(job.jobId) ?? 0) + 1;
                failures.set(job.jobId, count);
                const lost = error instanceof GatewayRequestError && error.status === 404;
                if (!lost && count < cli.maxPollFailures) return;
                const reason = failureOf(error);
                finished.set(job.jobId, reason);
                const total = job.items.length;
                counts.set(job.jobId, { total, done: 0, failed: total, dead: 0, cancelled: 0, pending: 0 });
                stderr.write(`argus: gave up on job ${job.jobId}: ${reason.message}\n`);
              }
            }),
          ),
      );
      if (aborted() || refusal()) break;
      const known = created.map(
        (job) =>
          counts.get(job.jobId) ?? {
            total: job.items.length,
            done: 0,
            failed: 0,
            dead: 0,
            cancelled: 0,
            pending: job.items.length,
          },
      );
      progress.update(snapshotOf(known, finished.size));
      if (finished.size < created.length)
        await sleep(cli.pollIntervalMs, undefined, { signal }).catch(() => undefined);
    }
  } finally {
    progress.stop();
  }
  if (aborted()) return interrupted();
  const refusedWhilePolling = refusal();
  if (refusedWhilePolling) return stopRefused(refusedWhilePolling);

  const outcomes: JobOutcome[] = [
    ...created.map((job): JobOutcome => {
      const end = finished.get(job.jobId);
      if (end === undefined) throw new Error(`job ${job.jobId} has no outcome`);
      return 'jobId' in end ? { ...job, status: end } : { ...job, error: end };
    }),
    ...notCreated,
  ];
  const order = new Map(plan.map((item, index) => [item.id, index]));
  const report = buildReport(outcomes).sort(
    (a, b) => (order.get(a.itemId) ?? 0) - (order.get(b.itemId) ?? 0),
  );
  const summary = summarize(report, notCreated.length);

  let exit: number = exitCodeFor(summary);
  if (options.out) {
    const body =
      options.out.format === 'csv'
        ? toCsv(report)
        : toJson(report, { gateway: options.gatewayUrl, createdAt: new Date().toISOString() });
    try {
      await writeFile(resolve(cli.cwd, options.out.path), body);
      stderr.write(`report: ${options.out.path} (${plural(report.length, 'item')})\n`);
    } catch (error) {
      stderr.write(`argus: could not write the report to ${options.out.path}: ${failureOf(error).message}\n`);
      exit = EXIT.failed;
    }
  }
  cli.stdout.write(renderSummary(summary));
  return exit;
}

function failureOf(error: unknown): { code: string; message: string } {
  if (error instanceof GatewayRequestError) return { code: error.code, message: error.message };
  if (error instanceof GatewayUnreachableError)
    return { code: 'GATEWAY_UNREACHABLE', message: error.message };
  return { code: 'CLI_ERROR', message: error instanceof Error ? error.message : String(error) };
}
