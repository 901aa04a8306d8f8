import {
  brandAppearsIn,
  findBrand,
  findBrandInLines,
  parseListingQuantity,
  parseQuantities,
  quantitiesMatch,
  readProductText,
  sameBrand,
  type ReadLine,
} from './product-text';

/** A line of words, each `height` px tall, laid out left to right. */
function line(text: string, height: number, y = 0, confidence = 0.92): ReadLine {
  let x = 0;
  const words = text.split(' ').map((word) => {
    const box = { x, y, width: word.length * height * 0.6, height };
    x += box.width + height * 0.3;
    return { text: word, confidence, box };
  });
  return { text, confidence, box: { x: 0, y, width: x, height }, words };
}

describe('parseQuantities', () => {
  it.each([
    ['500 ml', { text: '500 ml', kind: 'volume', amount: 500 }],
    ['1.5 L', { text: '1.5 l', kind: 'volume', amount: 1500 }],
    ['1,5L', { text: '1.5 l', kind: 'volume', amount: 1500 }],
    ['NET WT 250g', { text: '250 g', kind: 'mass', amount: 250 }],
    ['0.5 kg', { text: '0.5 kg', kind: 'mass', amount: 500 }],
    ['2 x 330 ml', { text: '2 x 330 ml', kind: 'volume', count: 2, amount: 330 }],
    ['6×330ml', { text: '6 x 330 ml', kind: 'volume', count: 6, amount: 330 }],
    ['12 pcs', { text: '12 pcs', kind: 'count', count: 12 }],
    ['2-pack', { text: '2 pack', kind: 'count', count: 2 }],
    ['Pack of 6', { text: '6 pack', kind: 'count', count: 6 }],
    ['60 capsules', { text: '60 capsules', kind: 'count', count: 60 }],
    ['Size M', { text: 'Size M', kind: 'apparel', label: 'M' }],
    ['SIZE: XL', { text: 'Size XL', kind: 'apparel', label: 'XL' }],
    ['EU 42', { text: 'EU 42', kind: 'apparel', label: 'EU 42' }],
    ['US 9.5', { text: 'US 9.5', kind: 'apparel', label: 'US 9.5' }],
    ['32W 34L', { text: 'W32 L34', kind: 'apparel', label: 'W32 L34' }],
    ['W32/L34', { text: 'W32 L34', kind: 'apparel', label: 'W32 L34' }],
  ])('reads %s', (text, expected) => {
    expect(parseQuantities(text)).toEqual([expected]);
  });

  it('reads 16.9 fl oz as its volume in ml', () => {
    expect(parseQuantities('16.9 FL OZ')[0]).toMatchObject({ text: '16.9 fl oz', kind: 'volume' });
    expect(parseQuantities('16.9 FL OZ')[0].amount).toBeCloseTo(499.8, 1);
  });

  it('finds several in reading order and leaves dates, lots, prices and prose alone', () => {
    expect(parseQuantities('500 ml (16.9 fl oz)').map((q) => q.text)).toEqual(['500 ml', '16.9 fl oz']);
    expect(parseQuantities('Best before 2027-03-14 Lot 4471 € 12.99')).toEqual([]);
    expect(parseQuantities('call us 24/7 at our store')).toEqual([]);
  });
});

describe('parseListingQuantity', () => {
  it('reads what parseQuantities reads, and bare sizes and counts', () => {
    expect(parseListingQuantity('1 L')).toMatchObject({ kind: 'volume', amount: 1000 });
    expect(parseListingQuantity('Medium')).toEqual({ text: 'M', kind: 'apparel', label: 'M' });
    expect(parseListingQuantity('xl')).toEqual({ text: 'XL', kind: 'apparel', label: 'XL' });
    expect(parseListingQuantity('2')).toEqual({ text: '2', kind: 'count', count: 2 });
    expect(parseListingQuantity('a few')).toBeUndefined();
  });
});

describe('quantitiesMatch', () => {
  const q = (text: string) => parseListingQuantity(text)!;

  it.each([
    ['1 L', '1000 ml', true],
    ['500 ml', '0.5 l', true],
    ['500 ml', '16.9 fl oz', true],
    ['1 kg', '1000 g', true],
    ['660 ml', '2 x 330 ml', true],
    ['2 x 330 ml', '330 ml', true],
    ['6 x 330 ml', '4 x 330 ml', false],
    ['500 ml', '750 ml', false],
    ['2 pack', '2 x 330 ml', true],
    ['2 pack', '6 x 330 ml', false],
    ['12 pcs', '12 pieces', true],
    ['Size M', 'M', true],
    ['EU 42', '42', true],
    ['EU 42', 'US 42', false],
    ['Size M', 'Size L', false],
  ])('%s vs %s: %s', (a, b, expected) => {
    expect(quantitiesMatch(q(a), q(b))).toBe(expected);
    expect(quantitiesMatch(q(b), q(a))).toBe(expected);
  });

  it('cannot compare a volume with a mass, or a count with a single amount', () => {
    expect(quantitiesMatch(q('500 ml'), q('500 g'))).toBeUndefined();
    expect(quantitiesMatch(q('2 pack'), q('330 ml'))).toBeUndefined();
    expect(quantitiesMatch(q('Size M'), q('500 ml'))).toBeUndefined();
  });
});

describe('findBrand', () => {
  it('takes the tallest confident words that are not sizes, numbers or label words', () => {
    const lines = [
      line('ORGANIC', 30, 0),
      line('ACME', 90, 40),
      line('Sparkling water 500 ml', 40, 140),
      line('1234567', 120, 200),
    ];
    expect(findBrand(lines)).toEqual({ text: 'ACME', line: 1 });
  });

  it('keeps a brand of several words and drops label words around it', () => {
    expect(findBrand([line('NEW The North Face', 60)])?.text).toBe('North Face');
    expect(findBrand([line('Coca-Cola 330 ml', 60)])?.text).toBe('Coca-Cola');
  });

  it('ignores words OCR is unsure of and answers nothing without a candidate', () => {
    expect(findBrand([line('ACME', 90, 0, 0.5), line('Zest', 40, 100)])?.text).toBe('Zest');
    expect(findBrand([line('500 ml', 90), line('Best before 2027', 30)])).toBeUndefined();
    expect(findBrand([])).toBeUndefined();
  });

  it('reads lines without word boxes as one word', () => {
    expect(
      findBrand([{ text: 'ACME', confidence: 0.9, box: { x: 0, y: 0, width: 100, height: 40 } }]),
    ).toEqual({
      text: 'ACME',
      line: 0,
    });
  });
});

describe('findBrand: only strong evidence', () => {
  const body = [
    'Region growing starts from seed pixels and adds their neighbours',
    'whose intensity is close to the mean of the region so far.',
    'The split-and-merge method divides the image into quadrants',
    'and merges adjacent regions that satisfy a homogeneity test.',
  ];

  it('takes no page title for a brand: the page reads like a document', () => {
    const page = [
      line('Region-based segmentation', 48),
      ...body.map((text, i) => line(text, 18, 80 + i * 30)),
    ];
    expect(findBrand(page)).toBeUndefined();
    expect(readProductText(page).brand).toBeUndefined();
  });

  it('takes no title-cased heading either, nor a heading over a short page', () => {
    expect(
      findBrand([line('Region-Based Segmentation', 48), ...body.map((t, i) => line(t, 18, 80 + i * 30))]),
    ).toBeUndefined();
    expect(findBrand([line('INTRODUCTION', 48), line('Chapter 1', 30, 60)])).toBeUndefined();
  });

  it('takes no phrase of lower-case words for a brand, even alone', () => {
    expect(findBrand([line('Region-based segmentation', 48)])).toBeUndefined();
    expect(findBrand([line('Sparkling water', 60)])).toBeUndefined();
  });

  it.each([
    'Just Do It',
    'Because You Are Worth It',
    'Taste the difference every day',
    'Made with love in Italy.',
  ])('takes no slogan or sentence for a brand: %j', (slogan) => {
    expect(findBrand([line(slogan, 80)])).toBeUndefined();
  });

  it('takes a mark-shaped name that stands out on a product', () => {
    const pack = [
      line('ZESTRA', 110, 0),
      line('Sparkling water', 40, 130),
      line('with lemon', 30, 180),
      line('500 ml', 36, 220),
    ];
    expect(findBrand(pack)).toEqual({ text: 'ZESTRA', line: 0 });
    expect(
      findBrand([line('Mountain Spring', 70), line('Still water', 30, 80), line('1.5 L', 30, 120)])?.text,
    ).toBe('Mountain Spring');
  });

  it('takes no brand from text that does not stand out among three lines or more', () => {
    expect(
      findBrand([line('ZESTRA', 40), line('Sparkling water', 40, 50), line('500 ml', 40, 100)]),
    ).toBeUndefined();
  });

  it('takes no brand from a long line or a run of more than three words', () => {
    expect(findBrand([line('Alpine Mountain Spring Water Company', 80)])).toBeUndefined();
    expect(findBrand([line('Alpine Mountain Spring Water', 80)])).toBeUndefined();
  });

  it.each(['Call 555-0199', 'Phone: (555) 014-2368', 'Only 24.99 EUR', 'COMMUNITY, POWERED', 'AS'])(
    'takes no brand from what real product photos printed beside a number, a phrase or OCR noise: %j',
    (text) => {
      expect(findBrand([line(text, 80)])).toBeUndefined();
    },
  );

  it('takes no brand from words OCR read under 0.8', () => {
    expect(findBrand([line('ZESTRA', 90, 0, 0.75)])).toBeUndefined();
  });
});

describe('readProductText', () => {
  it('gives the brand and the most prominent size', () => {
    const read = readProductText([line('ACME', 90), line('2 x 330 ml', 50, 100), line('Lot 12 g', 20, 160)]);
    expect(read.brand).toBe('ACME');
    expect(read.size?.text).toBe('2 x 330 ml');
    expect(read.quantities.map((quantity) => quantity.text)).toEqual(['2 x 330 ml', '12 g']);
  });
});

describe('brand matching', () => {
  it('ignores case, accents, spaces and punctuation', () => {
    expect(brandAppearsIn('Coca-Cola', 'COCA COLA Zero')).toBe(true);
    expect(brandAppearsIn("L'Oréal", 'LOREAL PARIS')).toBe(true);
    expect(brandAppearsIn('acme', 'ACME.')).toBe(true);
  });

  it('forgives one OCR slip in a name of five letters or more, but not in a short one', () => {
    expect(brandAppearsIn('Nestle', 'NESTIE')).toBe(true);
    expect(brandAppearsIn('ACME', 'ACNE')).toBe(false);
    expect(brandAppearsIn('Adidas', 'Puma')).toBe(false);
  });

  it('finds the line that carries it, across a line break too', () => {
    expect(findBrandInLines('ACME', [line('Sparkling', 30), line('ACME', 90)])).toBe('ACME');
    expect(findBrandInLines('North Face', [line('The North', 40), line('Face', 40, 50)])).toBe(
      'The North Face',
    );
    expect(findBrandInLines('ACME', [line('Zest', 40)])).toBeUndefined();
  });

  it('compares two brand names in either direction', () => {
    expect(sameBrand('ACME', 'Acme Corp')).toBe(true);
    expect(sameBrand('Acme Corp', 'ACME')).toBe(true);
    expect(sameBrand('ACME', 'Zest')).toBe(false);
  });
});
