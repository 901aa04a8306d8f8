import { assignItemIds, createJobBodySchema, type JobMeta, type JobUnitResult } from '@argus/contracts';
import { itemIdFromFilename, uniqueNames } from './job-intake';
import { itemState, summariseJob } from './job-status';

const meta: JobMeta = {
  jobId: 'job-1',
  createdAt: '2026-11-26T10:00:00.000Z',
  tasks: ['moderation', 'ocr'],
  itemIds: ['a', 'b', 'c'],
};
const at = '2026-11-26T10:00:01.000Z';
const reply = { status: 'ok' };

function results(entries: Record<string, JobUnitResult>): Map<string, JobUnitResult> {
  return new Map(Object.entries(entries));
}

describe('item ids', () => {
  it('numbers items without an id by position and never reuses an id the caller gave', () => {
    expect(assignItemIds([undefined, 'x', undefined])).toEqual(['item-1', 'x', 'item-3']);
    expect(assignItemIds(['item-2', undefined])).toEqual(['item-2', 'item-2-2']);
  });

  it('rejects duplicate and malformed ids and fills missing ones in the body schema', () => {
    const ok = createJobBodySchema.parse({
      items: [{ imageUrl: 'http://x/1.jpg' }, { id: 'b', imageBase64: 'AA==' }],
    });
    expect(ok.items.map((item) => item.id)).toEqual(['item-1', 'b']);
    expect(ok.tasks).toEqual(['moderation', 'tagging', 'ocr']);
    const dup = createJobBodySchema.safeParse({
      items: [
        { id: 'a', imageUrl: 'http://x' },
        { id: 'a', imageUrl: 'http://y' },
      ],
    });
    expect(dup.success).toBe(false);
    for (const id of ['', '.a', 'a.', 'a..b', 'a b', 'x'.repeat(129)]) {
      expect(createJobBodySchema.safeParse({ items: [{ id, imageUrl: 'http://x' }] }).success).toBe(false);
    }
    expect(createJobBodySchema.safeParse({ items: [{ id: 'a' }] }).success).toBe(false);
    expect(createJobBodySchema.safeParse({ items: [] }).success).toBe(false);
    expect(
      createJobBodySchema.safeParse({ items: [{ imageUrl: 'http://x' }], callbackUrl: 'ftp://x' }).success,
    ).toBe(false);
  });

  it('turns filenames into valid, unique item ids', () => {
    expect(itemIdFromFilename('my photo (1).jpg')).toBe('my_photo__1_.jpg');
    expect(itemIdFromFilename('../..secret..png')).toBe('secret.png');
    expect(itemIdFromFilename('...')).toBeUndefined();
    expect(itemIdFromFilename(undefined)).toBeUndefined();
    expect(uniqueNames(['a.jpg', 'a.jpg', undefined, 'a.jpg'])).toEqual([
      'a.jpg',
      'a.jpg-2',
      undefined,
      'a.jpg-3',
    ]);
  });
});

describe('job status', () => {
  it('takes the worst task state once every task ended', () => {
    expect(itemState(['done', undefined])).toBe('pending');
    expect(itemState(['done', 'failed'])).toBe('failed');
    expect(itemState(['cancelled', 'dead'])).toBe('dead');
    expect(itemState(['done', 'cancelled'])).toBe('cancelled');
    expect(itemState(['done', 'done'])).toBe('done');
  });

  it('is queued before any result and counts items, units and pages as results arrive', () => {
    expect(summariseJob(meta, new Map(), { page: 1, pageSize: 2 })).toMatchObject({
      status: 'queued',
      percent: 0,
      counts: { total: 3, pending: 3, done: 0 },
      page: { number: 1, size: 2, totalItems: 3 },
    });
    const partial = summariseJob(
      meta,
      results({
        'a.moderation': { state: 'done', reply, finishedAt: at },
        'a.ocr': {
          state: 'failed',
          reply,
          error: { code: 'INVALID_MODEL_OUTPUT', message: 'bad' },
          finishedAt: at,
        },
        'b.ocr': { state: 'dead', error: { code: 'UPSTREAM_BUSY', message: 'busy' }, finishedAt: at },
      }),
      { page: 1, pageSize: 2 },
    );
    expect(partial.status).toBe('running');
    expect(partial.percent).toBe(50);
    expect(partial.counts).toEqual({ total: 3, done: 0, failed: 1, dead: 0, cancelled: 0, pending: 2 });
    expect(partial.items).toEqual([
      {
        id: 'a',
        status: 'failed',
        results: { moderation: reply, ocr: reply },
        errors: [{ task: 'ocr', state: 'failed', code: 'INVALID_MODEL_OUTPUT', message: 'bad' }],
      },
      {
        id: 'b',
        status: 'pending',
        results: {},
        errors: [{ task: 'ocr', state: 'dead', code: 'UPSTREAM_BUSY', message: 'busy' }],
      },
    ]);
    expect(summariseJob(meta, new Map(), { page: 2, pageSize: 2 }).items.map((item) => item.id)).toEqual([
      'c',
    ]);
  });

  it('is completed when every unit ended, and cancelled once cancelled whatever is left', () => {
    const all = results(
      Object.fromEntries(
        meta.itemIds.flatMap((id) =>
          meta.tasks.map((task) => [`${id}.${task}`, { state: 'done', reply, finishedAt: at }]),
        ),
      ),
    );
    expect(summariseJob(meta, all, { page: 1, pageSize: 100 })).toMatchObject({
      status: 'completed',
      percent: 100,
      counts: { done: 3, pending: 0 },
    });
    expect(summariseJob({ ...meta, cancelledAt: at }, new Map(), { page: 1, pageSize: 100 }).status).toBe(
      'cancelled',
    );
  });
});
