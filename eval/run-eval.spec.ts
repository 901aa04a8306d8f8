import { complianceMetrics, phantomTextMetrics } from './metrics';
import { markdown, parseOptions, type EvalReport } from './run-eval';

describe('parseOptions', () => {
  it('leaves the split to the dataset unless asked, and reads the new gates as fractions', () => {
    expect(parseOptions(['--dataset', 'realworld'])).toMatchObject({
      dataset: 'realworld',
      split: undefined,
    });
    expect(
      parseOptions(['--split', 'tune', '--min-check-accuracy', '0.98', '--max-phantom', '0.05']),
    ).toMatchObject({ split: 'tune', minCheckAccuracy: 0.98, maxPhantom: 0.05 });
  });

  it('refuses an unknown split and a gate outside 0..1', () => {
    expect(() => parseOptions(['--split', 'train'])).toThrow(/--split must be one of tune, test, all/);
    expect(() => parseOptions(['--max-phantom', '5'])).toThrow(/--max-phantom must be a number from 0 to 1/);
  });
});

describe('markdown', () => {
  const report: EvalReport = {
    dataset: { name: 'realworld', dir: '.cache/eval/realworld', items: 4, split: 'test' },
    tier: 'cpu',
    gateway: 'local stack (npm start)',
    measuredAt: '2026-12-06T10:00:00.000Z',
    machine: 'test machine',
    durationS: 12,
    concurrency: 2,
    errors: { requests: 0, byTask: {}, messages: [] },
    warnings: [],
    compliance: complianceMetrics([
      {
        expected: { border: true, background_white: true },
        actual: { border: false, background_white: true },
      },
    ]),
    complianceGroups: { 'listing-compliant': { correct: 1, total: 2, rate: 0.5 } },
    notChecked: {},
    moderation: null,
    safeFlagged: {
      safe: 2,
      flagged: [{ id: 'safe-footballer', decision: 'review', categories: ['sexual.suggestive'] }],
    },
    ocr: { cer: 0.1, wordRecall: 0.9, distance: 10, length: 100 },
    ocrGroups: {
      'ocr-rotated': { cer: 0.2, wordRecall: 0.8, distance: 10, length: 50, items: 1 },
      'ocr-upright': { cer: 0, wordRecall: 1, distance: 0, length: 50, items: 1 },
    },
    phantom: phantomTextMetrics([
      { id: 'notext-cup', text: '4\n&\n7' },
      { id: 'notext-sky', text: '' },
    ]),
    orientation: {
      correct: 1,
      total: 2,
      rate: 0.5,
      wrong: [{ id: 'doc-rotated-180', expected: 180, answered: 0 }],
    },
    latency: { roundTrip: null, tasks: {} },
    gates: { failures: [] },
    items: [],
  };

  it('shows the split, check accuracy, OCR per group, orientation, phantom text and flagged safe photos', () => {
    const text = markdown(report);
    expect(text).toContain('## Argus eval: realworld (test split) on tier cpu');
    expect(text).toContain('Check accuracy 50.0% (1/2 scored checks right).');
    expect(text).toContain('| listing-compliant | 2 | 1 | 50.0% |');
    expect(text).toContain('| ocr-rotated | 20.00% | 80.0% | 1 |');
    expect(text).toContain(
      'Page orientation right on 1/2 pages (50.0%); wrong: doc-rotated-180 (0° for 180°)',
    );
    expect(text).toContain('1/2 photos got text back (50.0%): notext-cup "4\\n&\\n7"');
    expect(text).not.toContain('### Moderation');
  });

  it('says when no safe photo was flagged and leaves the split out of the title for a whole dataset', () => {
    const text = markdown({
      ...report,
      dataset: { ...report.dataset, split: 'all' },
      moderation: {
        categories: {},
        micro: complianceMetrics([]).micro,
        decision: { correct: 2, total: 2, accuracy: 1 },
        reviewRate: { review: 0, answered: 2, rate: 0 },
      },
      safeFlagged: { safe: 2, flagged: [] },
    });
    expect(text).toContain('## Argus eval: realworld on tier cpu');
    expect(text).toContain('Safe photos sent to review or block: 0/2.');
  });
});
