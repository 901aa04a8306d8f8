import { findPhoneNumbersInText, getCountryCallingCode, type CountryCode } from 'libphonenumber-js';
import LinkifyIt from 'linkify-it';

export interface TextLine {
  text: string;
  box?: { x: number; y: number; width: number; height: number };
}

export type ContactKind = 'phone' | 'email' | 'url';

export interface ContactHit {
  kind: ContactKind;
  /** The matched text exactly as it appears in the line (not the normalised number or URL). */
  quote: string;
  /** The box of the line the hit came from. */
  box?: TextLine['box'];
}

export interface ContactInfoOptions {
  /** Country used for numbers written without `+`. Default 'US'. */
  defaultCountry?: CountryCode;
}

interface Span {
  kind: ContactKind;
  start: number;
  end: number;
}

// Fuzzy links and e-mails are on by default; TLD validation stays on so "3.5kg" or "v2.0" don't match.
const linkify = new LinkifyIt();

const overlaps = (a: Span, b: Span): boolean => a.start < b.end && b.start < a.end;

function findSpans(text: string, defaultCountry: CountryCode): Span[] {
  const spans: Span[] = (linkify.match(text) ?? []).map((m) => ({
    kind: m.schema === 'mailto:' ? 'email' : 'url',
    start: m.index,
    end: m.lastIndex,
  }));

  const homeCallingCode = getCountryCallingCode(defaultCountry);
  // Default leniency is 'valid', which already drops dates, prices, sizes, lot numbers and short digit runs.
  for (const found of findPhoneNumbersInText(text, { defaultCountry })) {
    const quote = text.slice(found.startsAt, found.endsAt);
    // Only numbers valid for the default country, or international numbers written with '+'
    // (an IDD prefix such as "00 49 ..." without '+' is not accepted).
    const international = quote.trimStart().startsWith('+');
    if (!found.number.isValid()) continue;
    if (!international && found.number.countryCallingCode !== homeCallingCode) continue;
    const span: Span = { kind: 'phone', start: found.startsAt, end: found.endsAt };
    // Digits inside a URL or e-mail address are part of that hit, not a separate phone.
    if (spans.some((s) => overlaps(s, span))) continue;
    spans.push(span);
  }
  return spans.sort((a, b) => a.start - b.start);
}

/** Phone numbers, e-mail addresses and URLs in OCR'd lines. Marketplaces forbid them in listing images (they move the sale off-platform). */
export function findContactInfo(lines: TextLine[], options: ContactInfoOptions = {}): ContactHit[] {
  const defaultCountry = options.defaultCountry ?? 'US';
  const seen = new Set<string>();
  const hits: ContactHit[] = [];
  for (const line of lines) {
    for (const span of findSpans(line.text, defaultCountry)) {
      const quote = line.text.slice(span.start, span.end);
      const key = `${span.kind}\u0000${quote}`;
      if (seen.has(key)) continue;
      seen.add(key);
      hits.push(line.box ? { kind: span.kind, quote, box: line.box } : { kind: span.kind, quote });
    }
  }
  return hits;
}

/** Replaces every phone number, e-mail address and URL in `text` with `[redacted]`. */
export function redactContactInfo(
  text: string,
  options: ContactInfoOptions = {},
): { text: string; redactions: number } {
  const spans = findSpans(text, options.defaultCountry ?? 'US');
  let out = '';
  let cursor = 0;
  for (const span of spans) {
    out += text.slice(cursor, span.start) + '[redacted]';
    cursor = span.end;
  }
  return { text: out + text.slice(cursor), redactions: spans.length };
}
