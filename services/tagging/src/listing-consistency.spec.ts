import { categoryWithin, judgeListing, type ListingEvidence } from './listing-consistency';
import type { ReadLine } from './product-text';

const line = (text: string, height = 40, y = 0): ReadLine => ({
  text,
  confidence: 0.9,
  box: { x: 0, y, width: text.length * height * 0.6, height },
});

const navyPackshot = [
  { name: 'navy', share: 0.62 },
  { name: 'white', share: 0.3 },
  { name: 'red', share: 0.05 },
];

function evidence(overrides: Partial<ListingEvidence>): ListingEvidence {
  return { listing: {}, colours: navyPackshot, lines: [], ...overrides };
}

const checkOf = (result: ReturnType<typeof judgeListing>, field: string) =>
  result.consistency.checks.find((check) => check.field === field)!;

describe('judgeListing: colour, from measured colours on every tier', () => {
  it.each([
    ['navy blue', true],
    ['Blue', true],
    ['Off-White', true],
    ['red', false],
    ['burgundy', false],
    ['grey/gray', false],
  ])('listing colour %s on a navy product on white: %s', (colour, matches) => {
    const result = judgeListing(evidence({ listing: { colour } }));
    expect(checkOf(result, 'colour')).toMatchObject({ matches, judgedBy: 'measured' });
    expect(result.consistency.passed).toBe(matches);
    expect(result.needsGpuTier).toEqual([]);
  });

  it('ignores colours under 15% of the photo, and says what it measured', () => {
    const check = checkOf(judgeListing(evidence({ listing: { colour: 'red' } })), 'colour');
    expect(check.observed).toBe('navy 62%, white 30%');
    expect(check.message).toContain('none of them is red');
  });

  it('does not judge colour words it does not know', () => {
    const result = judgeListing(evidence({ listing: { colour: 'rainbow' } }));
    expect(checkOf(result, 'colour')).toMatchObject({ matches: null, judgedBy: 'none' });
    expect(result.consistency.passed).toBe(true);
  });
});

describe('judgeListing: brand and quantity, from OCR text', () => {
  const label = [line('ACME', 90), line('Sparkling water', 30, 100), line('2 x 330 ml', 40, 140)];

  it('matches the brand printed on the product, ignoring case and punctuation', () => {
    const result = judgeListing(evidence({ listing: { brand: 'acme.' }, lines: label }));
    expect(checkOf(result, 'brand')).toMatchObject({ matches: true, judgedBy: 'ocr', observed: 'ACME' });
  });

  it('reports another brand that is printed, by its most prominent text', () => {
    const result = judgeListing(evidence({ listing: { brand: 'Zest' }, lines: label }));
    expect(checkOf(result, 'brand')).toMatchObject({ matches: false, judgedBy: 'ocr', observed: 'ACME' });
    expect(result.consistency.passed).toBe(false);
  });

  it.each([
    ['2 x 330 ml', true],
    ['660 ml', true],
    ['2 pack', true],
    ['0.66 L', true],
    ['6 x 330 ml', false],
    ['1 L', false],
  ])('quantity %s against a label reading "2 x 330 ml": %s', (quantity, matches) => {
    const result = judgeListing(evidence({ listing: { quantity }, lines: label }));
    expect(checkOf(result, 'quantity')).toMatchObject({ matches, judgedBy: 'ocr', observed: '2 x 330 ml' });
  });

  it('on the CPU tier, leaves unreadable brand and quantity to a GPU tier', () => {
    const result = judgeListing(
      evidence({ listing: { brand: 'ACME', quantity: '500 ml' }, lines: undefined }),
    );
    expect(checkOf(result, 'brand')).toMatchObject({ matches: null, judgedBy: 'none' });
    expect(checkOf(result, 'brand').message).toContain('too busy');
    expect(checkOf(result, 'quantity')).toMatchObject({ matches: null, judgedBy: 'none' });
    expect(result.needsGpuTier).toEqual(['listing.brand', 'listing.quantity']);
    expect(result.consistency.passed).toBe(true);
  });

  it('falls back to the vision model when OCR read no brand or size', () => {
    const result = judgeListing(
      evidence({
        listing: { brand: 'ACME', quantity: '500 ml' },
        lines: [],
        model: { category: 'grocery/beverages/water', brand: 'Acme', size: '0.5 l' },
      }),
    );
    expect(checkOf(result, 'brand')).toMatchObject({ matches: true, judgedBy: 'model', observed: 'Acme' });
    expect(checkOf(result, 'quantity')).toMatchObject({ matches: true, judgedBy: 'model' });
    expect(result.needsGpuTier).toEqual([]);
  });

  it('does not judge a quantity it cannot read', () => {
    const result = judgeListing(evidence({ listing: { quantity: 'a few' }, lines: label }));
    expect(checkOf(result, 'quantity')).toMatchObject({ matches: null, judgedBy: 'none' });
    expect(result.needsGpuTier).toEqual([]);
  });
});

describe('judgeListing: title and category, by the vision model', () => {
  const listing = { title: 'ACME sparkling water 2-pack', category: 'grocery/beverages' };

  it('are not judged on the CPU tier and are named for a GPU tier', () => {
    const result = judgeListing(evidence({ listing }));
    expect(result.consistency.checks.map((check) => [check.field, check.matches, check.judgedBy])).toEqual([
      ['title', null, 'none'],
      ['category', null, 'none'],
    ]);
    expect(result.needsGpuTier).toEqual(['listing.title', 'listing.category']);
    expect(result.consistency.passed).toBe(true);
  });

  it('take the model verdicts; a category under the listed one matches whatever the model said', () => {
    const result = judgeListing(
      evidence({
        listing,
        model: {
          category: 'grocery/beverages/water',
          listing: { titleMatches: true, categoryMatches: false, note: 'two bottles of water' },
        },
      }),
    );
    expect(checkOf(result, 'title')).toMatchObject({ matches: true, judgedBy: 'model' });
    expect(checkOf(result, 'category')).toMatchObject({
      matches: true,
      judgedBy: 'model',
      observed: 'grocery/beverages/water',
    });
    expect(result.consistency.passed).toBe(true);
  });

  it('report a mismatch with the model note', () => {
    const result = judgeListing(
      evidence({
        listing,
        model: {
          category: 'apparel/shoes/sneakers',
          listing: { titleMatches: false, categoryMatches: false, note: 'a pair of sneakers' },
        },
      }),
    );
    expect(checkOf(result, 'title')).toMatchObject({ matches: false, observed: 'a pair of sneakers' });
    expect(checkOf(result, 'title').message).toContain('a pair of sneakers');
    expect(checkOf(result, 'category')).toMatchObject({ matches: false });
    expect(result.consistency.passed).toBe(false);
  });
});

describe('categoryWithin', () => {
  it.each([
    ['apparel/shoes/sneakers', 'apparel/shoes', true],
    ['apparel/shoes', 'apparel/shoes', true],
    ['Apparel / Shoes / Boots', 'apparel/shoes/', true],
    ['apparel/shoes-care', 'apparel/shoes', false],
    ['apparel', 'apparel/shoes', false],
  ])('%s within %s: %s', (observed, listed, within) => {
    expect(categoryWithin(observed, listed)).toBe(within);
  });
});
