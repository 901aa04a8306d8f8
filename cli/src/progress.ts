import { Presets, SingleBar } from 'cli-progress';
import type { JobCounts } from './gateway-api';

export interface ProgressSnapshot {
  /** Items planned in all jobs that were created. */
  total: number;
  done: number;
  /** failed + dead + cancelled. */
  failed: number;
  pending: number;
  jobs: number;
  jobsFinished: number;
}

export interface ProgressView {
  update(snapshot: ProgressSnapshot): void;
  /** Ends the bar (restores the cursor); safe to call twice. */
  stop(): void;
}

/** Adds up the counts of every job's latest status. */
export function snapshotOf(counts: readonly JobCounts[], jobsFinished: number): ProgressSnapshot {
  const sum = (pick: (c: JobCounts) => number) => counts.reduce((total, c) => total + pick(c), 0);
  return {
    total: sum((c) => c.total),
    done: sum((c) => c.done),
    failed: sum((c) => c.failed + c.dead + c.cancelled),
    pending: sum((c) => c.pending),
    jobs: counts.length,
    jobsFinished,
  };
}

export function percentOf(snapshot: ProgressSnapshot): number {
  if (snapshot.total === 0) return 100;
  return Math.floor((100 * (snapshot.total - snapshot.pending)) / snapshot.total);
}

export function progressLine(snapshot: ProgressSnapshot): string {
  const ended = snapshot.total - snapshot.pending;
  return (
    `progress: ${ended}/${snapshot.total} items (${percentOf(snapshot)}%), done ${snapshot.done}, ` +
    `failed ${snapshot.failed}, pending ${snapshot.pending}; jobs ${snapshot.jobsFinished}/${snapshot.jobs} finished`
  );
}

export interface Output {
  write(chunk: string): unknown;
  isTTY?: boolean;
}

/** A bar on a terminal; elsewhere (CI logs, pipes) a plain line at most every `intervalMs`, and the last one. */
export function createProgress(
  stream: Output,
  intervalMs = 5000,
  now: () => number = Date.now,
): ProgressView {
  return stream.isTTY
    ? new BarProgress(stream as NodeJS.WritableStream)
    : new LineProgress(stream, intervalMs, now);
}

class BarProgress implements ProgressView {
  private readonly bar: SingleBar;
  private started = false;

  constructor(stream: NodeJS.WritableStream) {
    this.bar = new SingleBar(
      {
        stream,
        format:
          'analyzing |{bar}| {percentage}% | {value}/{total} items | done {done} failed {failed} | jobs {jobsFinished}/{jobs}',
        hideCursor: true,
        etaBuffer: 50,
      },
      Presets.shades_classic,
    );
  }

  update(snapshot: ProgressSnapshot): void {
    const ended = snapshot.total - snapshot.pending;
    const payload = {
      done: snapshot.done,
      failed: snapshot.failed,
      jobs: snapshot.jobs,
      jobsFinished: snapshot.jobsFinished,
    };
    if (!this.started) {
      this.bar.start(snapshot.total, ended, payload);
      this.started = true;
      return;
    }
    this.bar.setTotal(snapshot.total);
    this.bar.update(ended, payload);
  }

  stop(): void {
    if (!this.started) return;
    this.started = false;
    this.bar.stop();
  }
}

class LineProgress implements ProgressView {
  private last: { at: number; line: string } | undefined;

  constructor(
    private readonly stream: Output,
    private readonly intervalMs: number,
    private readonly now: () => number,
  ) {}

  update(snapshot: ProgressSnapshot): void {
    const line = progressLine(snapshot);
    const at = this.now();
    const finished = snapshot.pending === 0;
    if (this.last && (this.last.line === line || (!finished && at - this.last.at < this.intervalMs))) return;
    this.last = { at, line };
    this.stream.write(`${line}\n`);
  }

  stop(): void {
    // nothing to restore
  }
}
