import { findContactInfo, redactContactInfo, type TextLine } from './text-signals';

const lines = (...texts: string[]): TextLine[] => texts.map((text) => ({ text }));

describe('findContactInfo', () => {
  describe('phones', () => {
    it('finds a national number for the default country, quoting it as written', () => {
      expect(findContactInfo(lines('Call 0800 123 4567'), { defaultCountry: 'GB' })).toEqual([
        { kind: 'phone', quote: '0800 123 4567', line: 0 },
      ]);
    });

    it.each(['US', 'GB', 'DE'] as const)(
      'finds an international number written with + (default %s)',
      (country) => {
        expect(findContactInfo(lines('+44 20 7946 0958'), { defaultCountry: country })).toEqual([
          { kind: 'phone', quote: '+44 20 7946 0958', line: 0 },
        ]);
      },
    );

    it('finds a US number with the default country', () => {
      expect(findContactInfo(lines('Questions? (212) 555-0143'))).toEqual([
        { kind: 'phone', quote: '(212) 555-0143', line: 0 },
      ]);
      expect(findContactInfo(lines('(212) 555-0143'), { defaultCountry: 'US' })).toEqual([
        { kind: 'phone', quote: '(212) 555-0143', line: 0 },
      ]);
    });

    it('ignores a foreign number written without + and without a cue word (not valid for the default country)', () => {
      expect(findContactInfo(lines('0800 123 4567'), { defaultCountry: 'US' })).toEqual([]);
    });

    it('finds a foreign number written without + when a cue word announces it', () => {
      expect(findContactInfo(lines('Call 0800 123 4567'), { defaultCountry: 'US' })).toEqual([
        { kind: 'phone', quote: '0800 123 4567', line: 0 },
      ]);
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

  describe('phones as people write them on photos', () => {
    it.each([
      ['Call 555-0199', '555-0199'],
      ['tel 0171 234567', '0171 234567'],
      ['Tel.: +49 30 1234567', '+49 30 1234567'],
      ['ph. (555) 010-0199', '(555) 010-0199'],
      ['Call us on 555-0199!', '555-0199'],
      ['Call or text 555 0199', '555 0199'],
      ['Phone: 0171/234567', '0171/234567'],
      ['WhatsApp +1 555 010 0199', '+1 555 010 0199'],
      ['☎ 0171 234567', '0171 234567'],
    ])('finds the number announced in %j', (text, quote) => {
      expect(findContactInfo(lines(text))).toEqual([{ kind: 'phone', quote, line: 0 }]);
    });

    it.each([
      ['Ca11 555-0199', '555-0199'],
      ['te1 0171 234567', '0171 234567'],
      ['Call555-0199', '555-0199'],
    ])('reads the cue through OCR slips (l read as 1, a dropped space) in %j', (text, quote) => {
      expect(findContactInfo(lines(text))).toEqual([{ kind: 'phone', quote, line: 0 }]);
    });

    it('stops the number before a date or a size further along the line', () => {
      expect(findContactInfo(lines('tel 0171 234567 12/2027'))).toEqual([
        { kind: 'phone', quote: '0171 234567', line: 0 },
      ]);
    });

    it.each([
      'SKU 4006381333931',
      'Art.-Nr. 1234567',
      'EAN 5901234123457',
      '4006381333931',
      '1234567',
      '$19.99',
      '19,99 €',
      'Call for price: $19.99',
      '12/2027',
      '2026-12-06',
      'Call before 2026-12-06',
      'Call by 12/2027',
      'LOT A1234',
      'Lot 1234567',
      '10:30',
      'Call 10:30-18:00',
      'Call us 24/7',
      'Phone case 6.1 inch',
      'iPhone 15 Pro 128 GB',
      'Mobile 128 GB',
      'pH 5.5',
      'Cell 18650 3.7 V',
      'Call 1234567kg',
      'Size 42 EU, 500 ml, 2 x 330 ml',
      'recall 5550199123',
    ])('finds no phone in %j', (text) => {
      expect(findContactInfo(lines(text))).toEqual([]);
    });
  });

  it('finds both the phone number and the address in the issue 13 photo text', () => {
    expect(findContactInfo(lines('Call 555-0199 or buy at www.cheap-deals.example'))).toEqual([
      { kind: 'phone', quote: '555-0199', line: 0 },
      { kind: 'url', quote: 'www.cheap-deals.example', line: 0 },
    ]);
  });

  describe('urls and e-mails', () => {
    it('finds bare domains and www hosts as urls', () => {
      expect(findContactInfo(lines('Returns: shop.example.com/returns', 'www.example.org'))).toEqual([
        { kind: 'url', quote: 'shop.example.com/returns', line: 0 },
        { kind: 'url', quote: 'www.example.org', line: 1 },
      ]);
    });

    it.each([
      ['buy at www.cheap-deals.example', 'www.cheap-deals.example'],
      ['https://shop.invalid/deal?id=7', 'https://shop.invalid/deal?id=7'],
      ['see http://deals.local.', 'http://deals.local'],
      ['WWW.CHEAP-DEALS.EXAMPLE/sale', 'WWW.CHEAP-DEALS.EXAMPLE/sale'],
    ])('finds a www. or http(s):// address whatever its top-level domain in %j', (text, quote) => {
      expect(findContactInfo(lines(text))).toEqual([{ kind: 'url', quote, line: 0 }]);
    });

    it('finds an e-mail address whatever its top-level domain, and not an @ between numbers', () => {
      expect(findContactInfo(lines('write to deals@cheap-deals.example'))).toEqual([
        { kind: 'email', quote: 'deals@cheap-deals.example', line: 0 },
      ]);
      expect(findContactInfo(lines('2@1.5kg', '3 @ 4.99'))).toEqual([]);
    });

    it('finds an e-mail address', () => {
      expect(findContactInfo(lines('mail me at anna@example.co.uk'))).toEqual([
        { kind: 'email', quote: 'anna@example.co.uk', line: 0 },
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
      { kind: 'url', quote: 'www.example.org', line: 0, box },
      { kind: 'phone', quote: '(212) 555-0143', line: 1 },
      { kind: 'email', quote: 'anna@example.com', line: 1 },
    ]);
  });

  it("finds the phone and the address of the issue's product photo, each boxed by its own words", () => {
    const word = (text: string, x: number, width: number) => ({ text, box: { x, y: 10, width, height: 20 } });
    const line: TextLine = {
      text: 'Call 555-0199 or buy at www.cheap-deals.example',
      box: { x: 0, y: 8, width: 600, height: 24 },
      words: [
        word('Call', 0, 50),
        word('555-0199', 60, 110),
        word('or', 180, 25),
        word('buy', 215, 40),
        word('at', 265, 25),
        word('www.cheap-deals.example', 300, 300),
      ],
    };
    expect(findContactInfo([line])).toEqual([
      { kind: 'phone', quote: '555-0199', line: 0, box: { x: 60, y: 10, width: 110, height: 20 } },
      {
        kind: 'url',
        quote: 'www.cheap-deals.example',
        line: 0,
        box: { x: 300, y: 10, width: 300, height: 20 },
      },
    ]);
  });

  it('boxes a number spread over several words with the union of their boxes', () => {
    const line: TextLine = {
      text: 'tel 0171 234567',
      box: { x: 0, y: 0, width: 300, height: 40 },
      words: [
        { text: 'tel', box: { x: 0, y: 5, width: 40, height: 30 } },
        { text: '0171', box: { x: 50, y: 4, width: 80, height: 30 } },
        { text: '234567', box: { x: 140, y: 6, width: 120, height: 30 } },
      ],
    };
    expect(findContactInfo([line])[0]?.box).toEqual({ x: 50, y: 4, width: 210, height: 32 });
  });

  it("falls back to the line's box when its words cannot be placed in its text", () => {
    const box = { x: 0, y: 0, width: 300, height: 40 };
    const line: TextLine = {
      text: 'Call 555-0199',
      box,
      words: [{ text: 'Ca11', box: { x: 0, y: 0, width: 10, height: 10 } }],
    };
    expect(findContactInfo([line])[0]?.box).toEqual(box);
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
