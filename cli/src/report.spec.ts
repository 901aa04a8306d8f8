import { errorReply, jobStatus, moderationOk, ocrOk, taggingOk } from '../test/job-samples';
import type { PlannedItem } from './job-plan';
import { buildReport, csvRow, excerpt, toCsv, toJson, type ReportItem } from './report';

const planned = (id: string, relative: string): PlannedItem => ({
  id,
  file: { path: `/x/${relative}`, relative },
});

const DONE = planned('shop_a.jpg', 'shop/a.jpg');
const DECODE = planned('broken.jpg', 'broken.jpg');
const DEAD = planned('item-3', 'odd name.png');
const REPLY_ERROR = planned('r.png', 'r.png');

const status = jobStatus('job-1', [
  {
    id: DONE.id,
    status: 'done',
    results: {
      moderation: moderationOk('review', [
        { id: 'drugs.tobacco', confidence: 0.7 },
        { id: 'text.contact_info', confidence: 0.6 },
      ]),
      tagging: taggingOk('apparel/shoes/sneakers', ['background_white', 'sharpness']),
      ocr: ocrOk('CALL  555-0100\nnow'),
    },
    errors: [],
  },
  {
    id: DECODE.id,
    status: 'failed',
    results: {},
    errors: [
      { task: 'moderation', state: 'failed', code: 'IMAGE_DECODE_FAILED', message: 'not an image' },
      { task: 'tagging', state: 'failed', code: 'IMAGE_DECODE_FAILED', message: 'not an image' },
    ],
  },
  {
    id: DEAD.id,
    status: 'dead',
    results: { tagging: taggingOk(null) },
    errors: [{ task: 'moderation', state: 'dead', code: 'UPSTREAM_BUSY', message: 'busy 5 times' }],
  },
  {
    id: REPLY_ERROR.id,
    status: 'failed',
    results: { moderation: errorReply('INVALID_MODEL_OUTPUT', 'not JSON') },
    errors: [],
  },
]);

describe('buildReport', () => {
  const [done, decode, dead, replyError] = buildReport([
    { items: [DONE, DECODE, DEAD, REPLY_ERROR], jobId: 'job-1', status },
  ]) as [ReportItem, ReportItem, ReportItem, ReportItem];

  it('reads decision, categories, failed checks, product category and OCR text from the replies', () => {
    expect(done).toMatchObject({
      file: 'shop/a.jpg',
      itemId: 'shop_a.jpg',
      jobId: 'job-1',
      status: 'done',
      decision: 'review',
      moderationCategories: [
        { id: 'drugs.tobacco', confidence: 0.7 },
        { id: 'text.contact_info', confidence: 0.6 },
      ],
      failedChecks: ['background_white', 'sharpness'],
      category: 'apparel/shoes/sneakers',
      ocrText: 'CALL 555-0100 now',
      errors: [],
    });
    expect(done.results.tagging).toEqual(status.items[0]?.results.tagging);
  });

  it('keeps the errors of failed and dead items with their task', () => {
    expect(decode).toMatchObject({ status: 'failed', decision: null, category: null, ocrText: null });
    expect(decode.errors).toEqual([
      { task: 'moderation', code: 'IMAGE_DECODE_FAILED', message: 'not an image' },
      { task: 'tagging', code: 'IMAGE_DECODE_FAILED', message: 'not an image' },
    ]);
    expect(dead).toMatchObject({ file: 'odd name.png', itemId: 'item-3', status: 'dead', category: null });
    expect(dead.errors).toEqual([{ task: 'moderation', code: 'UPSTREAM_BUSY', message: 'busy 5 times' }]);
  });

  it('adds an error reply that the item errors do not list yet', () => {
    expect(replyError.errors).toEqual([
      { task: 'moderation', code: 'INVALID_MODEL_OUTPUT', message: 'not JSON' },
    ]);
  });

  it('marks every item of a job that could not be created as failed with the reason', () => {
    const items = buildReport([
      {
        items: [DONE, DEAD],
        jobId: null,
        error: { code: 'INVALID_REQUEST', message: 'unknown policy strict' },
      },
    ]);
    expect(items.map((item) => [item.file, item.status, item.jobId, item.errors])).toEqual([
      ['shop/a.jpg', 'failed', null, [{ code: 'INVALID_REQUEST', message: 'unknown policy strict' }]],
      ['odd name.png', 'failed', null, [{ code: 'INVALID_REQUEST', message: 'unknown policy strict' }]],
    ]);
  });

  it('fails an item the job does not know', () => {
    const [missing] = buildReport([{ items: [planned('ghost.jpg', 'ghost.jpg')], jobId: 'job-1', status }]);
    expect(missing).toMatchObject({ status: 'failed', errors: [{ code: 'NOT_FOUND' }] });
  });

  it('writes CSV rows with the documented columns', () => {
    expect(csvRow(done)).toEqual({
      file: 'shop/a.jpg',
      item_id: 'shop_a.jpg',
      job_id: 'job-1',
      status: 'done',
      decision: 'review',
      moderation_categories: 'drugs.tobacco;text.contact_info',
      failed_checks: 'background_white;sharpness',
      category: 'apparel/shoes/sneakers',
      ocr_text: 'CALL 555-0100 now',
      error_code: '',
      error_message: '',
      alt_text: '',
      answer: '',
    });
    expect(csvRow(decode)).toMatchObject({
      status: 'failed',
      error_code: 'IMAGE_DECODE_FAILED',
      error_message: 'moderation, tagging: not an image',
    });
  });

  it('writes JSON with every item and its raw results', () => {
    const parsed = JSON.parse(toJson([done, dead], { gateway: 'http://g', createdAt: 'now' })) as {
      gateway: string;
      items: ReportItem[];
    };
    expect(parsed.gateway).toBe('http://g');
    expect(parsed.items).toEqual([done, dead]);
  });
});

describe('toCsv', () => {
  const item = (overrides: Partial<ReportItem>): ReportItem => ({
    file: 'a.jpg',
    itemId: 'a.jpg',
    jobId: 'j',
    status: 'done',
    decision: 'allow',
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

  it('starts with the header and quotes commas, quotes and newlines', () => {
    const csv = toCsv([item({ file: 'a, "b".jpg', ocrText: 'line one\nline two' })]);
    const [header, ...rest] = csv.split('\n');
    expect(header).toBe(
      'file,item_id,job_id,status,decision,moderation_categories,failed_checks,category,ocr_text,error_code,error_message,alt_text,answer',
    );
    expect(rest.join('\n')).toBe('"a, ""b"".jpg",a.jpg,j,done,allow,,,,"line one\nline two",,,,\n');
  });

  it('defuses cells a spreadsheet would run as a formula', () => {
    const csv = toCsv([item({ ocrText: '=HYPERLINK("http://evil")', category: '@SUM(A1)' })]);
    expect(csv).toContain(`'@SUM(A1)`);
    expect(csv).toContain(`"'=HYPERLINK(""http://evil"")"`);
  });

  it('is only the header for no items', () => {
    expect(toCsv([]).trim().split('\n')).toHaveLength(1);
  });
});

describe('excerpt', () => {
  it('collapses whitespace and cuts long text with an ellipsis', () => {
    expect(excerpt('  a \n\t b  ')).toBe('a b');
    expect(excerpt('x'.repeat(600))).toHaveLength(500);
    expect(excerpt('x'.repeat(600)).endsWith('…')).toBe(true);
  });
});
