import { detectLanguage, keyValuesFromLines, MIN_LANGUAGE_LETTERS } from './ocr-structure';

const pairs = (lines: string[]) =>
  keyValuesFromLines(lines).map(({ key, value, line }) => [line, key, value]);
const onePair = (line: string) => pairs([line]).map(([, key, value]) => [key, value]);

describe('keyValuesFromLines', () => {
  it.each([
    ['Best before: 12/2027', 'Best before', '12/2027'],
    ['BEST BEFORE 12.05.2027', 'BEST BEFORE', '12.05.2027'],
    ['Best before end 09/2028', 'Best before end', '09/2028'],
    ['Best before 31 Aug 2028', 'Best before', '31 Aug 2028'],
    ['Use by 03.04.2027', 'Use by', '03.04.2027'],
    ['LOT A1234', 'LOT', 'A1234'],
    ['Lot no. 55-B', 'Lot no.', '55-B'],
    ['Net wt 500 g', 'Net wt', '500 g'],
    ['Net weight 500 g', 'Net weight', '500 g'],
    ['Price: €4.99', 'Price', '€4.99'],
    ['Price 12.49 EUR', 'Price', '12.49 EUR'],
    ['Total 23.40', 'Total', '23.40'],
    ['SUBTOTAL 4.79', 'SUBTOTAL', '4.79'],
    ['Sub-total 9.10', 'Sub-total', '9.10'],
    ['VAT 20% 3.20', 'VAT', '20% 3.20'],
    ['EXP 2027-03', 'EXP', '2027-03'],
    ['exp. 05/27', 'exp.', '05/27'],
    ['Expiry date: 2027-01-01', 'Expiry date', '2027-01-01'],
    ['Batch: X9', 'Batch', 'X9'],
    ['Batch 0042', 'Batch', '0042'],
    ['Invoice no: 123', 'Invoice no', '123'],
    ['Invoice 2027-118', 'Invoice', '2027-118'],
    ['Order #: 5512', 'Order #', '5512'],
    ['Date: 2026-11-26', 'Date', '2026-11-26'],
    ['S/N 12345-AB', 'S/N', '12345-AB'],
    ['Size M', 'Size', 'M'],
    ['Qty: 2', 'Qty', '2'],
    ['Model: Aero 2', 'Model', 'Aero 2'],
    ['• Lot: 4471', 'Lot', '4471'],
  ])('reads %j as a known key and its value', (line, key, value) => {
    expect(onePair(line)).toEqual([[key, value]]);
  });

  it.each([
    [
      'Ingredients: water, oats 10%, sunflower oil, sea salt.',
      'Ingredients',
      'water, oats 10%, sunflower oil, sea salt.',
    ],
    ['Tel: +44 20 7946 0958', 'Tel', '+44 20 7946 0958'],
    ['Country of origin: Italy', 'Country of origin', 'Italy'],
    ['Best before: see top of pack', 'Best before', 'see top of pack'],
    ['Opening hours - 9 to 17', 'Opening hours', '9 to 17'],
  ])('reads %j as an explicit "key: value" or "key - value"', (line, key, value) => {
    expect(onePair(line)).toEqual([[key, value]]);
  });

  it('gives each pair the index of its line, and splits a line that holds two known keys', () => {
    expect(
      pairs([
        'WILDFLOWER HONEY',
        'Raw and unfiltered',
        'Net wt 340 g Best before 08/2028',
        'LOT 2291-C Packed by Meadow Farms',
      ]),
    ).toEqual([
      [2, 'Net wt', '340 g'],
      [2, 'Best before', '08/2028'],
      [3, 'LOT', '2291-C'],
    ]);
  });

  it('keeps a later key word inside the value when what follows it is no value', () => {
    expect(onePair('Price 4.99 total incl. VAT')).toEqual([['Price', '4.99 total incl. VAT']]);
  });

  it.each([
    'The quick brown fox jumps over the lazy dog',
    'Please pay the total amount by Friday 12 May',
    'Total satisfaction guaranteed',
    'Best before date is on the lid',
    'There are three options: red, green and blue',
    'He said: run',
    'Mon - Fri',
    'London - Paris',
    'https://example.com/offer',
    'Open 10:30',
    'LOTION 200 ml',
    'Totals 12',
    'Milk 1L 1.29',
    'Keep refrigerated',
    'Date night special',
    'Model citizen',
    'TOTAL',
    'Ingredients:',
    'ORGANIC OAT MILK',
  ])('invents no pair from %j', (line) => {
    expect(keyValuesFromLines([line])).toEqual([]);
  });

  it('marks every pair as parsed from the text', () => {
    expect(keyValuesFromLines(['LOT 4471'])).toEqual([
      { key: 'LOT', value: '4471', line: 0, source: 'text' },
    ]);
  });
});

describe('detectLanguage', () => {
  jest.setTimeout(30_000);

  it('detects English on a multi-word label, with a confidence between 0 and 1', async () => {
    const language = await detectLanguage('ORGANIC OAT MILK\nBest before: 12/2027\nLOT A1234\nNet wt 500 g');
    expect(language.code).toBe('en');
    expect(language.confidence).toBeGreaterThan(0);
    expect(language.confidence).toBeLessThanOrEqual(1);
  });

  it.each([
    ['en', 'Keep refrigerated after opening and consume within three days'],
    ['de', 'Mindestens haltbar bis 12.2027\nZutaten: Hafer, Wasser, Sonnenblumenöl'],
    ['fr', 'À consommer de préférence avant fin 12/2027. Ingrédients: eau, avoine'],
    ['es', 'Consumir preferentemente antes del 12/2027. Ingredientes: agua, avena'],
    ['nl', 'Ten minste houdbaar tot einde 12/2027. Ingrediënten: water, haver'],
    ['pl', 'Skład: woda, owies, olej słonecznikowy. Najlepiej spożyć przed'],
  ])('detects %s', async (code, text) => {
    expect((await detectLanguage(text)).code).toBe(code);
  });

  it('leaves accents off and still tells German from Dutch (what the English model reads)', async () => {
    expect(
      (await detectLanguage('Mindestens haltbar bis 12.2027\nZutaten: Hafer, Wasser, Sonnenblumenol')).code,
    ).toBe('de');
  });

  it.each([
    ['no text', ''],
    ['a code', 'LOT A1234'],
    ['numbers and units', '500 g 12/2027 € 4.99 2 x 330 ml'],
    ['fewer letters than the minimum', 'Net wt 500 g'],
  ])('answers und for %s', async (_what, text) => {
    expect(await detectLanguage(text)).toEqual({ code: 'und', confidence: null });
  });

  it('counts letters in words only, not in codes', async () => {
    expect(MIN_LANGUAGE_LETTERS).toBe(12);
    expect((await detectLanguage('AB12CD34EF56GH78 IJ90KL12')).code).toBe('und');
  });
});
