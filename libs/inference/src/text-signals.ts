// Contact details in text (URLs, e-mail addresses, phone numbers), found and redacted with their boxes. Generic text
// analysis, not one task's rule: moderation finds contact info in an image's text (text.contact_info) and OCR flags or
// redacts personal data (services/ocr/src/pii.ts) with it. It stays in this library because two tasks use it and one
// service never imports another; each task decides what a hit means for its answer.
import { findPhoneNumbersInText, getCountryCallingCode, type CountryCode } from 'libphonenumber-js';
import LinkifyIt from 'linkify-it';

type TextBox = { x: number; y: number; width: number; height: number };

export interface TextLine {
  text: string;
  box?: TextBox;
  /** The line's words with their boxes, in reading order, when the OCR gives them. */
  words?: ReadonlyArray<{ text: string; box: TextBox }>;
}

export type ContactKind = 'phone' | 'email' | 'url';

export interface ContactHit {
  kind: ContactKind;
  /** The matched text exactly as it appears in the line (not the normalised number or URL). */
  quote: string;
  /** Index of the line the hit came from. */
  line: number;
  /** The box of the words that make up the quote, or the line's box when the line has no word boxes. */
  box?: TextBox;
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

/**
 * A `www.` host or an `http(s)://` address is a web address whatever its top-level domain: nobody prints "www." or
 * "https://" in front of anything else, and linkify's TLD list drops made-up or new ones ("www.cheap-deals.example").
 */
/** Likewise an address with `@` before a dotted host is an e-mail address whatever its top-level domain. */
const EXPLICIT_EMAIL = /[\p{L}\p{N}._%+-]+@[\p{L}\p{N}-]+(?:\.[\p{L}\p{N}-]+)*\.\p{L}{2,}/gu;

const EXPLICIT_URL = /\b(?:https?:\/\/|www\.)[\p{L}\p{N}-]+(?:\.[\p{L}\p{N}-]+)*(?:[/?#][^\s<>"']*)?/giu;

/**
 * A word that announces a phone number, as people write it on a photo or a sign: "Call", "Tel.:", "ph.", "Mob",
 * "WhatsApp", "☎". OCR reads "l" as "1" now and then ("Ca11", "te1"), so those spellings count too, and it may drop
 * the space before the number ("Call555-0199"). Filler words may stand between the word and the number ("call us
 * on", "call or text").
 */
const PHONE_CUE =
  /(?:^|[^\p{L}\p{N}])(?:ca[l1]{2}|te[l1]|tél|telefon|telephone|phone|ph|mob|mobile|cell|fax|whats\s?app|hotline|☎|📞)(?:\.|\b|(?=\d)|(?<=[☎📞]))[\s.:,-]*(?:(?:us|me|now|on|at|or|text|today|free|toll-free|anytime|sms)[\s.:,-]+){0,3}/giu;

/**
 * What follows a cue: groups of digits, each optionally bracketed or joined by dashes, dots or slashes, separated by
 * single spaces, the first optionally after `+`: "555-0199", "0171 234567", "+49 30 1234567", "(555) 010-0199".
 */
const CUED_GROUP = /^(?:\+\s?)?\(?\d+\)?(?:[-./]\(?\d+\)?)*/u;

/** A local number without its area code has 7 digits; an international one at most 15 (E.164). */
const CUED_DIGITS = { min: 7, max: 15 };

/**
 * Dates, times and decimal amounts are not part of a number to call, even after a cue ("call before 2026-12-06",
 * "Cell 18650 3.7 V").
 */
const NOT_DIALLED =
  /^(?:\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}|\d{1,2}[/.]\d{4}|\d{1,2}:\d{2}|\d{1,3}\.\d{1,2})$/u;

const overlaps = (a: Span, b: Span): boolean => a.start < b.end && b.start < a.end;

/** Trailing sentence punctuation is not part of an address: "see www.shop.example." */
function trimTrailingPunctuation(text: string, start: number, end: number): number {
  let stop = end;
  while (stop > start && /[.,;:!?)\]'"]/.test(text[stop - 1] ?? '')) stop -= 1;
  return stop;
}

function urlSpans(text: string): Span[] {
  const spans: Span[] = (linkify.match(text) ?? []).map((m) => ({
    kind: m.schema === 'mailto:' ? 'email' : 'url',
    start: m.index,
    end: m.lastIndex,
  }));
  const explicit = [
    ...[...text.matchAll(EXPLICIT_EMAIL)].map((match) => ({ kind: 'email' as const, match })),
    ...[...text.matchAll(EXPLICIT_URL)].map((match) => ({ kind: 'url' as const, match })),
  ];
  for (const { kind, match } of explicit) {
    const start = match.index;
    const end = trimTrailingPunctuation(text, start, start + match[0].length);
    const span: Span = { kind, start, end };
    const covered = spans.findIndex((s) => overlaps(s, span));
    if (covered < 0) spans.push(span);
    // The longer reading wins: linkify may stop at an unknown TLD where the explicit form does not.
    else if (end - start > spans[covered].end - spans[covered].start) spans[covered] = span;
  }
  return spans;
}

/**
 * The number after a cue: its groups for as long as they stand apart from letters, are not a date and fit in an
 * E.164 number, so that a date or a size further along the line ("tel 0171 234567 12/2027") is not taken in.
 */
function cuedNumber(rest: string): string | undefined {
  let quote = '';
  for (;;) {
    const separator = quote === '' ? '' : ' ';
    if (quote !== '' && !rest.startsWith(separator, quote.length)) break;
    const group = CUED_GROUP.exec(rest.slice(quote.length + separator.length))?.[0];
    if (!group) break;
    const after = rest.slice(quote.length + separator.length + group.length);
    // A group glued to letters is a code or a size ("1234567kg").
    if (/^[-./]?[\p{L}\p{N}]/u.test(after) || NOT_DIALLED.test(group)) break;
    const longer = quote + separator + group;
    if (longer.replace(/\D/g, '').length > CUED_DIGITS.max) break;
    quote = longer;
  }
  return quote === '' ? undefined : quote;
}

/** Numbers announced by a cue word, which libphonenumber cannot validate: local (7-digit) or foreign national ones. */
function cuedPhoneSpans(text: string): Span[] {
  const spans: Span[] = [];
  for (const cue of text.matchAll(PHONE_CUE)) {
    const from = cue.index + cue[0].length;
    const quote = cuedNumber(text.slice(from));
    const digits = quote?.replace(/\D/g, '').length ?? 0;
    if (!quote || digits < CUED_DIGITS.min) continue;
    spans.push({ kind: 'phone', start: from, end: from + quote.length });
  }
  return spans;
}

function findSpans(text: string, defaultCountry: CountryCode): Span[] {
  const spans = urlSpans(text);
  const homeCallingCode = getCountryCallingCode(defaultCountry);
  const phones: Span[] = [];
  // Default leniency is 'valid', which already drops dates, prices, sizes, lot numbers and short digit runs.
  for (const found of findPhoneNumbersInText(text, { defaultCountry })) {
    const quote = text.slice(found.startsAt, found.endsAt);
    // Only numbers valid for the default country, or international numbers written with '+'
    // (an IDD prefix such as "00 49 ..." without '+' is not accepted).
    const international = quote.trimStart().startsWith('+');
    if (!found.number.isValid()) continue;
    if (!international && found.number.countryCallingCode !== homeCallingCode) continue;
    phones.push({ kind: 'phone', start: found.startsAt, end: found.endsAt });
  }
  for (const cued of cuedPhoneSpans(text)) {
    if (!phones.some((p) => overlaps(p, cued))) phones.push(cued);
  }
  // Digits inside a URL or e-mail address are part of that hit, not a separate phone.
  for (const phone of phones) if (!spans.some((s) => overlaps(s, phone))) spans.push(phone);
  return spans.sort((a, b) => a.start - b.start);
}

/** The union of the boxes of the words that overlap [start, end) of the line's text; undefined if they cannot be placed. */
function wordsBox(line: TextLine, start: number, end: number): TextBox | undefined {
  if (!line.words || line.words.length === 0) return undefined;
  let cursor = 0;
  const hit: TextBox[] = [];
  for (const word of line.words) {
    const at = line.text.indexOf(word.text, cursor);
    if (at < 0 || word.text.length === 0) return undefined;
    cursor = at + word.text.length;
    if (at < end && start < cursor) hit.push(word.box);
  }
  if (hit.length === 0) return undefined;
  const left = Math.min(...hit.map((b) => b.x));
  const top = Math.min(...hit.map((b) => b.y));
  const right = Math.max(...hit.map((b) => b.x + b.width));
  const bottom = Math.max(...hit.map((b) => b.y + b.height));
  return { x: left, y: top, width: right - left, height: bottom - top };
}

/**
 * Phone numbers, e-mail addresses and URLs in OCR'd lines. Marketplaces forbid them in listing images (they move the
 * sale off-platform). Phone numbers are those libphonenumber finds valid (for the default country, or written with
 * `+`) and any 7–15 digit number announced by a cue word ("Call 555-0199", "tel 0171 234567"); a bare digit run
 * without a cue (an EAN, an article number) is not one.
 */
export function findContactInfo(lines: TextLine[], options: ContactInfoOptions = {}): ContactHit[] {
  const defaultCountry = options.defaultCountry ?? 'US';
  const seen = new Set<string>();
  const hits: ContactHit[] = [];
  lines.forEach((line, index) => {
    for (const span of findSpans(line.text, defaultCountry)) {
      const quote = line.text.slice(span.start, span.end);
      const key = `${span.kind}\u0000${quote}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const box = wordsBox(line, span.start, span.end) ?? line.box;
      hits.push({ kind: span.kind, quote, line: index, ...(box ? { box } : {}) });
    }
  });
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
