import { createProgress, percentOf, progressLine, snapshotOf } from './progress';

const counts = (total: number, done: number, failed: number, pending: number) => ({
  total,
  done,
  failed,
  dead: 0,
  cancelled: 0,
  pending,
});

describe('progress', () => {
  it('adds up the counts of every job', () => {
    const snapshot = snapshotOf(
      [counts(1000, 400, 10, 590), { ...counts(10, 5, 0, 0), dead: 3, cancelled: 2 }],
      1,
    );
    expect(snapshot).toEqual({ total: 1010, done: 405, failed: 15, pending: 590, jobs: 2, jobsFinished: 1 });
    expect(percentOf(snapshot)).toBe(41);
    expect(progressLine(snapshot)).toBe(
      'progress: 420/1010 items (41%), done 405, failed 15, pending 590; jobs 1/2 finished',
    );
  });

  it('off a terminal, writes a plain line at most every interval, and always the last one', () => {
    const lines: string[] = [];
    let now = 0;
    const view = createProgress({ write: (line: string) => lines.push(line), isTTY: false }, 5000, () => now);
    view.update(snapshotOf([counts(10, 0, 0, 10)], 0));
    now = 1000;
    view.update(snapshotOf([counts(10, 3, 0, 7)], 0)); // too soon
    now = 5000;
    view.update(snapshotOf([counts(10, 4, 1, 5)], 0));
    now = 5100;
    view.update(snapshotOf([counts(10, 9, 1, 0)], 1)); // finished: printed at once
    view.update(snapshotOf([counts(10, 9, 1, 0)], 1)); // unchanged: not repeated
    view.stop();
    expect(lines).toEqual([
      'progress: 0/10 items (0%), done 0, failed 0, pending 10; jobs 0/1 finished\n',
      'progress: 5/10 items (50%), done 4, failed 1, pending 5; jobs 0/1 finished\n',
      'progress: 10/10 items (100%), done 9, failed 1, pending 0; jobs 1/1 finished\n',
    ]);
  });

  it('on a terminal, draws a bar with counts and percent', () => {
    let out = '';
    const tty = {
      isTTY: true,
      columns: 120,
      write: (chunk: string) => {
        out += chunk;
        return true;
      },
      cursorTo: () => true,
      clearLine: () => true,
      moveCursor: () => true,
      on: () => tty,
      removeListener: () => tty,
    };
    const view = createProgress(tty, 5000);
    view.update(snapshotOf([counts(8, 2, 0, 6)], 0));
    view.update(snapshotOf([counts(8, 6, 2, 0)], 1));
    view.stop();
    expect(out).toContain('100% | 8/8 items | done 6 failed 2 | jobs 1/1');
  });
});
