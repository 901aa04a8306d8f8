import { findContactInfo, redactContactInfo, type TextLine } from './text-signals';

const lines = (...texts: string[]): TextLine[] => texts.map((text) => ({ text }));

describe('findContactInfo', () => {
  describe('phones', () => {
    it('finds a national number for the default country, quoting it as written', () => {
      expect(findContactInfo(lines('Call 0800 123 4567'), { defaultCountry: 'GB' })).toEqual([
        { kind: 'phone', quote: '0800 123 4567' },
      ]);
    });

    it.each(['US', 'GB', 'DE'] as const)(
      'finds an international number written with + (default %s)',
      (country) => {
        expect(findContactInfo(lines('+44 20 7946 0958'), { defaultCountry: country })).toEqual([
          { kind: 'phone', quote: '+44 20 7946 0958' },
        ]);
      },
    );

    it('finds a US number with the default country', () => {
      expect(findContactInfo(lines('Questions? (212) 555-0143'))).toEqual([
        { kind: 'phone', quote: '(212) 555-0143' },
      ]);
      expect(findContactInfo(lines('(212) 555-0143'), { defaultCountry: 'US' })).toEqual([
        { kind: 'phone', quote: '(212) 555-0143' },
      ]);
    });

    it('ignores a foreign number written without + (not valid for the default country)', () => {
      expect(findContactInfo(lines('Call 0800 123 4567'), { defaultCountry: 'US' })).toEqual([]);
    });

    it.each(['US', 'GB'] as const)(
      'ignores dates, lot numbers, prices, sizes and short digit runs (%s)',
      (country) => {
        const packaging = lines(
          'Best before 2027-03-14',
          '2027-03-14',
          'Lot 4471',
          '€ 12.99',
          '500 ml',
          'EU 42',
          '12345',
          'Net wt 25 g',
        );
        expect(findContactInfo(packaging, { defaultCountry: country })).toEqual([]);
      },
    );
  });

  describe('urls and e-mails', () => {
    it('finds bare domains and www hosts as urls', () => {
      expect(findContactInfo(lines('Returns: shop.example.com/returns', 'www.example.org'))).toEqual([
        { kind: 'url', quote: 'shop.example.com/returns' },
        { kind: 'url', quote: 'www.example.org' },
      ]);
    });

    it('finds an e-mail address', () => {
      expect(findContactInfo(lines('mail me at anna@example.co.uk'))).toEqual([
        { kind: 'email', quote: 'anna@example.co.uk' },
      ]);
    });

    it.each(['Net wt 25 g', 'Version 2.0', 'ORGANIC OAT MILK', '3.5kg', 'v2.0'])(
      'finds nothing in %j',
      (text) => {
        expect(findContactInfo(lines(text))).toEqual([]);
      },
    );
  });

  it('returns hits in line order with the line box, de-duplicating identical (kind, quote) pairs', () => {
    const box = { x: 1, y: 2, width: 3, height: 4 };
    const hits = findContactInfo(
      [
        { text: 'www.example.org', box },
        { text: 'Call (212) 555-0143 or anna@example.com' },
        { text: 'www.example.org (212) 555-0143' },
      ],
      { defaultCountry: 'US' },
    );
    expect(hits).toEqual([
      { kind: 'url', quote: 'www.example.org', box },
      { kind: 'phone', quote: '(212) 555-0143' },
      { kind: 'email', quote: 'anna@example.com' },
    ]);
  });

  it('returns nothing for no lines', () => {
    expect(findContactInfo([])).toEqual([]);
  });
});

describe('redactContactInfo', () => {
  it('replaces each hit with [redacted] and counts them', () => {
    expect(redactContactInfo('Call (212) 555-0143 or see shop.example.com, anna@example.com')).toEqual({
      text: 'Call [redacted] or see [redacted], [redacted]',
      redactions: 3,
    });
  });

  it('honours the default country', () => {
    expect(redactContactInfo('Call 0800 123 4567', { defaultCountry: 'GB' })).toEqual({
      text: 'Call [redacted]',
      redactions: 1,
    });
  });

  it('leaves clean text alone', () => {
    expect(redactContactInfo('Lot 4471, best before 2027-03-14, € 12.99')).toEqual({
      text: 'Lot 4471, best before 2027-03-14, € 12.99',
      redactions: 0,
    });
  });
});
