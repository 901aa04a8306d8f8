import type { OcrResult } from '@argus/contracts';
import { applyPiiMode, findPii } from './pii';

const box = { x: 0, y: 0, width: 10, height: 10 };
const result: OcrResult = {
  text: 'Invoice 2027-03\nPay to DE89 3704 0044 0532 0130 00\nQuestions: anna@example.co.uk or +44 20 7946 0958',
  confidence: 0.9,
  mode: 'document',
  language: { code: 'en', confidence: null },
  keyValues: [],
  tables: [],
  lines: [
    { text: 'Invoice 2027-03', confidence: 0.9, box, words: [] },
    {
      text: 'Pay to DE89 3704 0044 0532 0130 00',
      confidence: 0.9,
      box,
      words: [{ text: 'DE89', confidence: 0.9, box }],
    },
    { text: 'Questions: anna@example.co.uk or +44 20 7946 0958', confidence: 0.9, box, words: [] },
  ],
};

describe('PII in OCR text', () => {
  it('finds e-mails, phone numbers and checksum-valid IBANs, with their lines', () => {
    expect(findPii(result.lines)).toEqual([
      { kind: 'iban', line: 1, quote: 'DE89 3704 0044 0532 0130 00' },
      { kind: 'email', line: 2, quote: 'anna@example.co.uk' },
      { kind: 'phone', line: 2, quote: '+44 20 7946 0958' },
    ]);
  });

  it('ignores IBAN look-alikes whose checksum fails', () => {
    expect(findPii([{ text: 'Ref DE00 3704 0044 0532 0130 00' }])).toEqual([]);
  });

  it('flags without changing the text, and redacts without leaking the quotes', () => {
    expect(applyPiiMode(result, 'off')).toBe(result);
    const flagged = applyPiiMode(result, 'flag');
    expect(flagged.text).toBe(result.text);
    expect(flagged.pii).toHaveLength(3);

    const redacted = applyPiiMode(result, 'redact');
    expect(redacted.text).toBe('Invoice 2027-03\nPay to [redacted]\nQuestions: [redacted] or [redacted]');
    expect(redacted.lines[1]?.words?.[0]?.text).toBe('[redacted]');
    expect(redacted.pii).toEqual([
      { kind: 'iban', line: 1 },
      { kind: 'email', line: 2 },
      { kind: 'phone', line: 2 },
    ]);
    expect(JSON.stringify(redacted)).not.toContain('anna@');
  });
});
