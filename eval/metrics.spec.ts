import {
  complianceMetrics,
  flaggedSafePhotos,
  gateFailures,
  moderationMetrics,
  normaliseText,
  ocrGroupMetrics,
  ocrMetrics,
  orientationMetrics,
  percentile,
  phantomTextMetrics,
  scores,
  scoreText,
  summariseLatency,
  wordMatches,
} from './metrics';
import { DatasetError, itemsOfSplit, itemTasks, parseDataset } from './dataset';

describe('scores', () => {
  it('computes precision, recall and F1 from a confusion', () => {
    expect(scores({ tp: 8, fp: 2, fn: 2, tn: 88 })).toEqual({
      tp: 8,
      fp: 2,
      fn: 2,
      tn: 88,
      support: 10,
      precision: 0.8,
      recall: 0.8,
      f1: 0.8,
    });
  });

  it('leaves ratios without a denominator null, and F1 0 when something was missed', () => {
    expect(scores({ tp: 0, fp: 0, fn: 0, tn: 5 })).toMatchObject({ precision: null, recall: null, f1: null });
    expect(scores({ tp: 0, fp: 0, fn: 3, tn: 5 })).toMatchObject({ precision: null, recall: 0, f1: 0 });
    expect(scores({ tp: 0, fp: 2, fn: 0, tn: 5 })).toMatchObject({ precision: 0, recall: null, f1: 0 });
  });
});

describe('complianceMetrics', () => {
  it('treats a failing check as the positive class and scores only the listed checks', () => {
    const metrics = complianceMetrics([
      // a blurred photo, caught
      {
        expected: { sharpness: false, border: true },
        actual: { sharpness: false, border: true, exposure: false },
      },
      // a clean photo called blurred
      { expected: { sharpness: true, border: true }, actual: { sharpness: false, border: true } },
      // a framed photo, missed
      { expected: { sharpness: true, border: false }, actual: { sharpness: true, border: true } },
    ]);
    expect(metrics.checks.sharpness).toMatchObject({ tp: 1, fp: 1, fn: 0, tn: 1, precision: 0.5, recall: 1 });
    expect(metrics.checks.border).toMatchObject({ tp: 0, fp: 0, fn: 1, tn: 2, f1: 0 });
    // exposure was answered but not labelled, so it is not scored
    expect(metrics.checks.exposure).toBeUndefined();
    expect(metrics.micro).toMatchObject({ tp: 1, fp: 1, fn: 1, tn: 3, f1: 0.5 });
    // 4 of the 6 scored checks were answered as labelled
    expect(metrics.accuracy).toEqual({ correct: 4, total: 6, rate: 4 / 6 });
  });

  it('reports accuracy null when nothing is scored', () => {
    expect(complianceMetrics([{ expected: {}, actual: {} }]).accuracy).toEqual({
      correct: 0,
      total: 0,
      rate: null,
    });
  });

  it('counts a failed request, or a check the answer left out, as nothing flagged', () => {
    const metrics = complianceMetrics([
      { expected: { border: false }, actual: null },
      { expected: { fill_ratio: false }, actual: {} },
      { expected: { border: true }, actual: null },
    ]);
    expect(metrics.checks.border).toMatchObject({ tp: 0, fn: 1, tn: 1 });
    expect(metrics.checks.fill_ratio).toMatchObject({ fn: 1 });
  });
});

describe('moderationMetrics', () => {
  it('scores every category seen in the labels or the answers, the decision and the review rate', () => {
    const metrics = moderationMetrics([
      {
        expectedDecision: 'block',
        expectedCategories: ['text.contact_info'],
        decision: 'block',
        categories: ['text.contact_info'],
      },
      {
        expectedDecision: 'allow',
        expectedCategories: [],
        decision: 'review',
        categories: ['sexual.suggestive'],
      },
      { expectedDecision: 'allow', expectedCategories: [], decision: 'allow', categories: [] },
      {
        expectedDecision: 'block',
        expectedCategories: ['text.contact_info'],
        decision: null,
        categories: null,
      },
    ]);
    expect(Object.keys(metrics.categories)).toEqual(['sexual.suggestive', 'text.contact_info']);
    expect(metrics.categories['text.contact_info']).toMatchObject({ tp: 1, fn: 1, tn: 2, recall: 0.5 });
    expect(metrics.categories['sexual.suggestive']).toMatchObject({ fp: 1, tn: 3, f1: 0 });
    expect(metrics.decision).toEqual({ correct: 2, total: 4, accuracy: 0.5 });
    expect(metrics.reviewRate).toEqual({ review: 1, answered: 3, rate: 1 / 3 });
  });

  it('does not score categories of items that only label a decision', () => {
    const metrics = moderationMetrics([
      { expectedDecision: 'allow', decision: 'allow', categories: ['alcohol'] },
    ]);
    expect(metrics.categories).toEqual({});
    expect(metrics.micro.f1).toBeNull();
    expect(metrics.decision.accuracy).toBe(1);
  });
});

describe('flaggedSafePhotos', () => {
  it('lists the photos labelled safe that got review or block, and counts the safe ones', () => {
    const result = flaggedSafePhotos([
      {
        id: 'footballer',
        expectedDecision: 'allow',
        expectedCategories: [],
        decision: 'review',
        categories: ['sexual.suggestive'],
      },
      { id: 'fruit', expectedDecision: 'allow', expectedCategories: [], decision: 'allow', categories: [] },
      { id: 'failed', expectedDecision: 'allow', expectedCategories: [], decision: null, categories: null },
      // labelled with a category: not a safe photo, whatever it got
      {
        id: 'contact',
        expectedDecision: 'block',
        expectedCategories: ['text.contact_info'],
        decision: 'block',
        categories: ['text.contact_info'],
      },
    ]);
    expect(result).toEqual({
      safe: 3,
      flagged: [{ id: 'footballer', decision: 'review', categories: ['sexual.suggestive'] }],
    });
  });
});

describe('phantomTextMetrics', () => {
  it('counts photos without text that got any text back, apart from failed requests', () => {
    const result = phantomTextMetrics([
      { id: 'cup', text: '4\n&\n7\n7; ¥' },
      { id: 'landscape', text: '  \n \n' },
      { id: 'meadow', text: '' },
      { id: 'failed', text: null },
    ]);
    expect(result).toEqual({
      answered: 3,
      failed: 1,
      withText: [{ id: 'cup', text: '4\n&\n7\n7; ¥' }],
      rate: 1 / 3,
    });
    expect(phantomTextMetrics([{ id: 'failed', text: null }]).rate).toBeNull();
  });
});

describe('orientationMetrics', () => {
  it('counts pages whose reported turn equals the label, a failed request as wrong', () => {
    const result = orientationMetrics([
      { id: 'upright', expected: 0, answered: 0 },
      { id: 'quarter', expected: 90, answered: 90 },
      { id: 'upside-down', expected: 180, answered: 0 },
      { id: 'failed', expected: 270, answered: null },
    ]);
    expect(result).toMatchObject({ correct: 2, total: 4, rate: 0.5 });
    expect(result.wrong.map((w) => w.id)).toEqual(['upside-down', 'failed']);
  });
});

describe('ocrGroupMetrics', () => {
  it('scores each group on its own, items without a group under "other"', () => {
    const groups = ocrGroupMetrics([
      { id: 'a', group: 'ocr-upright', expected: 'abcd', text: 'abcd' },
      { id: 'b', group: 'ocr-rotated', expected: 'abcd', text: '' },
      { id: 'c', group: 'ocr-upright', expected: 'efgh', text: 'efgX' },
      { id: 'd', expected: 'x y', text: 'x y' },
    ]);
    expect(Object.keys(groups)).toEqual(['ocr-rotated', 'ocr-upright', 'other']);
    expect(groups['ocr-upright']).toMatchObject({
      items: 2,
      distance: 1,
      length: 8,
      cer: 1 / 8,
      wordRecall: 0.5,
    });
    expect(groups['ocr-rotated']).toMatchObject({ items: 1, cer: 1, wordRecall: 0 });
    expect(groups.other).toMatchObject({ items: 1, cer: 0, wordRecall: 1 });
  });
});

describe('OCR text scores', () => {
  it('normalises whitespace: runs collapse, lines are trimmed, empty lines go', () => {
    expect(normaliseText('  Best   before\t12/2027 \n\n\r\n LOT  A1234  \n')).toBe(
      'Best before 12/2027\nLOT A1234',
    );
  });

  it('computes CER as edit distance over the reference length after normalising', () => {
    const score = scoreText('Best  before 12/2O27\nLOT A1234', 'Best before 12/2027\nLOT A1234');
    expect(score.distance).toBe(1);
    expect(score.length).toBe('Best before 12/2027\nLOT A1234'.length);
    expect(score.cer).toBeCloseTo(1 / 29, 10);
  });

  it('counts a missing line break and a missing line as edits', () => {
    expect(scoreText('a b', 'a\nb').distance).toBe(1);
    expect(scoreText('', 'abc').cer).toBe(1);
    expect(scoreText('', '').cer).toBe(0);
    expect(scoreText('x', '').cer).toBe(1);
  });

  it('measures word recall as a case-sensitive multiset match with punctuation kept', () => {
    expect(wordMatches('the the cat', 'the cat the the')).toEqual({ found: 3, total: 4 });
    expect(wordMatches('LOT: 500g', 'LOT 500 g')).toEqual({ found: 0, total: 3 });
    expect(wordMatches('lot', 'LOT')).toEqual({ found: 0, total: 1 });
    expect(scoreText('one two', 'one two three').wordRecall).toBeCloseTo(2 / 3, 10);
  });

  it('sums distances and lengths over the dataset, and scores a failed request as empty text', () => {
    const metrics = ocrMetrics([
      { id: 'a', expected: 'abcd', text: 'abcd' },
      { id: 'b', expected: 'abcdef', text: 'abXdef' },
      { id: 'c', expected: 'xy z', text: null },
    ]);
    expect(metrics.items.map((item) => item.cer)).toEqual([0, 1 / 6, 1]);
    expect(metrics.distance).toBe(5);
    expect(metrics.length).toBe(14);
    expect(metrics.cer).toBeCloseTo(5 / 14, 10);
    expect(metrics.wordRecall).toBeCloseTo(1 / 4, 10);
  });

  it('loads fastest-levenshtein under the CommonJS jest setup', () => {
    expect(scoreText('kitten', 'sitting').distance).toBe(3);
  });
});

describe('latency', () => {
  it('uses nearest-rank percentiles', () => {
    const samples = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(percentile(samples, 50)).toBe(50);
    expect(percentile(samples, 95)).toBe(95);
    expect(percentile(samples, 99)).toBe(99);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 50)).toBeNull();
    expect(percentile([1, 2, 3, 4], 50)).toBe(2);
  });

  it('summarises samples', () => {
    expect(summariseLatency([10, 20, 30, 40])).toEqual({ n: 4, p50: 20, p95: 40, p99: 40, mean: 25 });
    expect(summariseLatency([])).toBeNull();
  });
});

describe('gateFailures', () => {
  const compliance = complianceMetrics([
    { expected: { border: false, sharpness: true }, actual: { border: false, sharpness: true } },
    { expected: { border: true, sharpness: false }, actual: { border: false, sharpness: true } },
  ]);
  const ocr = ocrMetrics([{ id: 'a', expected: 'abcdefghij', text: 'abcdefghiX' }]);

  it('fails on any check below the F1 floor and on a CER above the ceiling', () => {
    expect(gateFailures(compliance, ocr, { minF1: 0.9, maxCer: 0.05 })).toEqual([
      'listing micro F1 0.500 < 0.9',
      'listing check border: F1 0.667 < 0.9',
      'listing check sharpness: F1 0.000 < 0.9',
      'OCR CER 10.00% > 5.00%',
    ]);
  });

  it('fails on check accuracy under its floor and on phantom text over its ceiling', () => {
    const phantom = phantomTextMetrics([
      { id: 'cup', text: 'junk' },
      { id: 'sky', text: '' },
    ]);
    expect(gateFailures(compliance, ocr, { minCheckAccuracy: 0.98, maxPhantom: 0.05 }, phantom)).toEqual([
      'listing check accuracy 0.500 < 0.98',
      'phantom text on 50.0% of photos without text (1/2) > 5.0%',
    ]);
    expect(gateFailures(compliance, ocr, { minCheckAccuracy: 0.5, maxPhantom: 0.5 }, phantom)).toEqual([]);
    expect(gateFailures(null, null, { minCheckAccuracy: 0.9, maxPhantom: 0.1 })).toEqual([
      '--min-check-accuracy 0.9: the dataset has no listing checks to score',
      '--max-phantom 0.1: the dataset has no answered photos without text',
    ]);
  });

  it('passes when the floors are met, and fails a gate with nothing to measure', () => {
    expect(gateFailures(compliance, ocr, {})).toEqual([]);
    expect(gateFailures(null, ocr, { maxCer: 0.1 })).toEqual([]);
    expect(gateFailures(null, null, { minF1: 0.5 })).toEqual([
      '--min-f1 0.5: the dataset has no listing checks to score',
    ]);
  });
});

describe('parseDataset', () => {
  const good =
    '{"id":"a","image":"images/a.jpg","tasks":["tagging"],"profile":"marketplace-main","expected":{"compliance":{"background_white":false}}}';

  it('parses items and skips blank lines', () => {
    const items = parseDataset(`${good}\n\n{"id":"b","image":"b.png","expected":{"text":"x"}}\n`);
    expect(items.map((item) => item.id)).toEqual(['a', 'b']);
    expect(itemTasks(items[1])).toEqual(['ocr']);
  });

  it('reads the split, group and no-text fields, and sends a no-text photo to OCR', () => {
    const items = parseDataset(
      [
        '{"id":"a","image":"a.jpg","split":"tune","group":"no-text","expected":{"noText":true}}',
        '{"id":"b","image":"b.png","split":"test","group":"ocr-rotated","handTranscribed":false,"expected":{"text":"x","rotation":90}}',
        '{"id":"c","image":"c.png","expected":{"text":"y"}}',
      ].join('\n'),
    );
    expect(itemTasks(items[0])).toEqual(['ocr']);
    expect(items[1]).toMatchObject({ split: 'test', group: 'ocr-rotated', expected: { rotation: 90 } });
    expect(itemsOfSplit(items, 'tune').map((i) => i.id)).toEqual(['a']);
    expect(itemsOfSplit(items, 'test').map((i) => i.id)).toEqual(['b']);
    expect(itemsOfSplit(items, 'all').map((i) => i.id)).toEqual(['a', 'b', 'c']);
    expect(() => parseDataset('{"id":"x","image":"x.png","split":"train","expected":{}}')).toThrow(/split/);
    expect(() => parseDataset('{"id":"x","image":"x.png","expected":{"noText":false}}')).toThrow(/noText/);
    expect(() => parseDataset('{"id":"x","image":"x.png","expected":{"rotation":45}}')).toThrow(/rotation/);
  });

  it('names the line of a bad item', () => {
    expect(() =>
      parseDataset(`${good}\n{"id":"b","image":"b.png","expected":{"compliance":{"shiny":true}}}`),
    ).toThrow(/dataset\.jsonl:2: invalid item: expected\.compliance/);
    expect(() => parseDataset(`${good}\nnot json`)).toThrow(DatasetError);
    expect(() => parseDataset(`${good}\n${good}`)).toThrow(/:2: id "a" is already used on line 1/);
    expect(() => parseDataset('{"id":"x","image":"../x.png","expected":{}}')).toThrow(
      /image: must be a path/,
    );
    expect(() => parseDataset('')).toThrow(/no items/);
  });
});
