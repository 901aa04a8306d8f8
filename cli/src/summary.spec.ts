import type { ReportItem } from './report';
import { exitCodeFor, renderSummary, summarize } from './summary';

const item = (overrides: Partial<ReportItem>): ReportItem => ({
  file: 'a.jpg',
  itemId: 'a.jpg',
  jobId: 'j',
  status: 'done',
  decision: null,
  moderationCategories: [],
  failedChecks: [],
  category: null,
  ocrText: null,
  altText: null,
  answer: null,
  errors: [],
  results: {},
  ...overrides,
});

const clean = [
  item({ decision: 'allow', results: { moderation: {} } }),
  item({ decision: 'allow', failedChecks: ['sharpness', 'border'] }),
  item({ decision: 'block', failedChecks: ['sharpness'] }),
];

describe('summarize', () => {
  it('counts decisions, failed checks (per item) and error codes (per item)', () => {
    const summary = summarize([
      ...clean,
      item({
        status: 'failed',
        results: {},
        errors: [
          { task: 'moderation', code: 'IMAGE_DECODE_FAILED', message: 'x' },
          { task: 'ocr', code: 'IMAGE_DECODE_FAILED', message: 'x' },
        ],
      }),
      item({
        status: 'dead',
        results: { moderation: {} },
        errors: [{ code: 'UPSTREAM_BUSY', message: 'x' }],
      }),
    ]);
    expect(summary.total).toBe(5);
    expect(summary.byStatus).toEqual({ pending: 0, done: 3, failed: 1, dead: 1, cancelled: 0 });
    expect(Object.fromEntries(summary.decisions)).toEqual({ allow: 2, block: 1, none: 1 });
    expect(Object.fromEntries(summary.failedChecks)).toEqual({ sharpness: 2, border: 1 });
    expect(Object.fromEntries(summary.errors)).toEqual({ IMAGE_DECODE_FAILED: 1, UPSTREAM_BUSY: 1 });
  });
});

describe('exitCodeFor', () => {
  it('is 0 when every item is done without errors', () => {
    expect(exitCodeFor(summarize(clean))).toBe(0);
  });

  it.each([
    ['a failed item', item({ status: 'failed', errors: [{ code: 'IMAGE_DECODE_FAILED', message: 'x' }] })],
    ['a dead-lettered item', item({ status: 'dead', errors: [{ code: 'UPSTREAM_BUSY', message: 'x' }] })],
    ['a cancelled item', item({ status: 'cancelled' })],
    ['a done item that still carries an error', item({ errors: [{ code: 'INTERNAL', message: 'x' }] })],
  ])('is 1 with %s', (_name, bad) => {
    expect(exitCodeFor(summarize([...clean, bad]))).toBe(1);
  });

  it('is 1 when a job could not be created, and for an empty run', () => {
    expect(exitCodeFor(summarize(clean, 1))).toBe(1);
    expect(exitCodeFor(summarize([]))).toBe(1);
  });
});

describe('renderSummary', () => {
  it('prints aligned sections for items, decisions, failed checks and errors', () => {
    const text = renderSummary(
      summarize([
        ...clean,
        item({ status: 'failed', errors: [{ code: 'IMAGE_DECODE_FAILED', message: 'x' }] }),
      ]),
    );
    expect(text).toBe(
      [
        'items   count',
        '------  -----',
        'total       4',
        'done        3',
        'failed      1',
        '',
        'decision  count',
        '--------  -----',
        'allow         2',
        'block         1',
        '',
        'failed check  count',
        '------------  -----',
        'sharpness         2',
        'border            1',
        '',
        'error                count',
        '-------------------  -----',
        'IMAGE_DECODE_FAILED      1',
        '',
      ].join('\n'),
    );
  });

  it('says (none) for empty sections and lists jobs that were not created', () => {
    const text = renderSummary(summarize([item({ status: 'failed', errors: [] })], 2));
    expect(text).toContain('jobs not created      2');
    expect(text).toContain('decision  count\n--------  -----\n(none)\n');
  });
});
