// Structure the CPU tier finds in the lines tesseract read: labelled values (best before, lot, total, ...) and the
// main language of the text. A vision model on a GPU tier answers both itself; this is the text-only fallback.
import type { OcrKeyValue } from '@argus/contracts';
import type * as Tinyld from 'tinyld/heavy';

// ---------------------------------------------------------------------------------------------------------------
// Key-values

/**
 * Keys a label, receipt or invoice prints before a value, most specific spelling first. `code` keys name an
 * identifier (one token: "LOT 7781-B Produced in ..." gives "7781-B"); the others run to the next key or the end.
 */
const KNOWN_KEYS: ReadonlyArray<{ pattern: string; code?: true }> = [
  { pattern: String.raw`best\s+before(?:\s+end)?` },
  { pattern: String.raw`use\s+by` },
  { pattern: String.raw`exp(?:iry|ires|iration)?(?:\s+date)?\.?` },
  { pattern: String.raw`lot(?:\s*(?:no\.?|number|nr\.?|#))?`, code: true },
  { pattern: String.raw`batch(?:\s*(?:no\.?|number|code|#))?`, code: true },
  { pattern: String.raw`net\s*(?:wt\.?|weight|contents?|vol\.?|volume)` },
  { pattern: String.raw`weight` },
  { pattern: String.raw`(?:unit\s+)?price` },
  { pattern: String.raw`sub[\s-]?total` },
  { pattern: String.raw`total` },
  { pattern: String.raw`tax|vat` },
  { pattern: String.raw`date` },
  { pattern: String.raw`invoice(?:\s*(?:no\.?|number|nr\.?|#))?`, code: true },
  { pattern: String.raw`order(?:\s*(?:no\.?|number|nr\.?|#))?`, code: true },
  { pattern: String.raw`receipt(?:\s*(?:no\.?|number|nr\.?|#))?`, code: true },
  { pattern: String.raw`serial(?:\s*(?:no\.?|number|#))?|s/n`, code: true },
  { pattern: String.raw`model(?:\s*(?:no\.?|number|#))?` },
  { pattern: String.raw`size` },
  { pattern: String.raw`qty\.?|quantity` },
];

/**
 * Any known key, as a whole word: `(?<![\p{L}\p{N}])` before it, and after it a separator, a space or the end, so
 * "LOTION" is not "LOT" and "Totals" is not "Total".
 */
const KNOWN_KEY = new RegExp(
  String.raw`(?<![\p{L}\p{N}])(?:${KNOWN_KEYS.map((key, index) => `(?<k${index}>${key.pattern})`).join('|')})(?=[\s:：#.-]|$)`,
  'giu',
);

/** What separates an explicit key from its value: a colon, or a dash with spaces around it. */
const COLON = /^\s*[:：]\s*/u;
const SPACED_DASH = /^\s+[-–—]\s+/u;

/** "Key: value" with a key of at most four words of letters (no digits: "at 10:30" is a time, not a key). */
const EXPLICIT_COLON = /^(?<key>\p{L}[\p{L}.'’/&()# -]{0,31}?)\s*[:：]\s*(?<value>\S.*)$/u;
const EXPLICIT_DASH = /^(?<key>\p{L}[\p{L}.'’/&()# ]{0,31}?)\s+[-–—]\s+(?<value>\S.*)$/u;

/** Words that make a would-be key a clause of a sentence ("There are three options: ...") rather than a label. */
const SENTENCE_WORDS = new Set(
  (
    'a an the is are was were be been am has have had do does did will would can could should may might must ' +
    'i you he she it we they me him her us them my your his its our their this that these those there here ' +
    'said says says when if then than so but because which who what where why how not'
  ).split(' '),
);

const URL_SCHEMES = new Set(['http', 'https', 'ftp', 'mailto', 'www', 'file']);

/** Bullets and stray marks tesseract reads at the start of a list line. */
const LEADING_MARKS = /^[\s•·*>|–—-]+/u;

/** A value printed after a known key without a separator has to look like one: a digit, or a short code. */
function looksLikeValue(value: string): boolean {
  return /\p{N}/u.test(value) || /^[\p{Lu}\p{N}][\p{Lu}\p{N}/-]{0,7}$/u.test(value);
}

function looksLikeKey(key: string): boolean {
  const words = key.toLowerCase().split(/\s+/).filter(Boolean);
  return (
    words.length <= 4 &&
    !words.some((word) => SENTENCE_WORDS.has(word)) &&
    !URL_SCHEMES.has(key.toLowerCase())
  );
}

interface KeyHit {
  start: number;
  end: number;
  key: string;
  code: boolean;
}

function knownKeys(line: string): KeyHit[] {
  const hits: KeyHit[] = [];
  for (const match of line.matchAll(KNOWN_KEY)) {
    const index = KNOWN_KEYS.findIndex((_key, i) => match.groups?.[`k${i}`] !== undefined);
    hits.push({
      start: match.index,
      end: match.index + match[0].length,
      key: match[0],
      code: KNOWN_KEYS[index]?.code === true,
    });
  }
  return hits;
}

/** The value after a key: the separator stripped; `explicit` when a colon or spaced dash marked it as a value. */
function valueAfter(line: string, from: number, to: number, code: boolean) {
  let rest = line.slice(from, to);
  const separator = COLON.exec(rest) ?? SPACED_DASH.exec(rest);
  const explicit = separator !== null;
  rest = separator ? rest.slice(separator[0].length) : rest.replace(/^[\s#.]+/u, '');
  rest = rest.trim();
  if (code) rest = rest.split(/\s+/)[0] ?? '';
  // A trailing comma or semicolon belongs to the sentence, not to the value.
  rest = rest.replace(/[,;]+$/u, '');
  return { value: rest, explicit };
}

/**
 * Pairs led by known keys: the line has to start with one, and each later known key starts a new pair only when both
 * values around it still look like values ("Net wt 340 g Best before 08/2028" is two pairs; "Price 4.99 total
 * incl. VAT" is one).
 */
function knownKeyPairs(line: string): Array<{ key: string; value: string }> {
  const hits = knownKeys(line);
  if (hits.length === 0 || hits[0].start !== 0) return [];
  const valid = (hit: KeyHit, to: number) => {
    const { value, explicit } = valueAfter(line, hit.end, to, hit.code);
    return value !== '' && (explicit || looksLikeValue(value));
  };
  const pairs: Array<{ key: string; value: string }> = [];
  let current = hits[0];
  for (let i = 1; i < hits.length; i += 1) {
    const next = hits[i];
    if (next.start < current.end) continue;
    const nextEnd = hits.slice(i + 1).find((hit) => hit.start >= next.end)?.start ?? line.length;
    if (valid(current, next.start) && valid(next, nextEnd)) {
      pairs.push({
        key: current.key.trim(),
        value: valueAfter(line, current.end, next.start, current.code).value,
      });
      current = next;
    }
  }
  if (valid(current, line.length)) {
    pairs.push({
      key: current.key.trim(),
      value: valueAfter(line, current.end, line.length, current.code).value,
    });
  }
  return pairs;
}

/** "Key: value" or "Key - value" for keys not in the known list (a dash needs a digit in the value: "Mon - Fri"). */
function explicitPair(line: string): { key: string; value: string } | undefined {
  const colon = EXPLICIT_COLON.exec(line);
  if (colon?.groups) {
    const key = colon.groups.key.trim();
    const value = colon.groups.value.trim();
    if (looksLikeKey(key) && !value.startsWith('//')) return { key, value };
  }
  const dash = EXPLICIT_DASH.exec(line);
  if (dash?.groups) {
    const key = dash.groups.key.trim();
    const value = dash.groups.value.trim();
    if (looksLikeKey(key) && /\p{N}/u.test(value)) return { key, value };
  }
  return undefined;
}

/**
 * Labelled values in read lines, each with the index of its line: `Key: value` and `Key - value`, and the keys labels
 * and receipts print without a separator (best before, use by, exp, lot, batch, net wt, price, total, subtotal,
 * tax/VAT, date, invoice/order/receipt no., serial, model, size, qty) followed by something that looks like a value.
 * Ordinary sentences give nothing: a line has to start with the key.
 */
export function keyValuesFromLines(lines: readonly string[]): OcrKeyValue[] {
  const found: OcrKeyValue[] = [];
  lines.forEach((raw, line) => {
    const text = raw.replace(LEADING_MARKS, '').trim();
    if (text === '') return;
    const known = knownKeyPairs(text);
    const pairs = known.length > 0 ? known : [explicitPair(text)].filter((pair) => pair !== undefined);
    for (const pair of pairs) found.push({ ...pair, line, source: 'text' });
  });
  return found;
}

// ---------------------------------------------------------------------------------------------------------------
// Language

export interface DetectedLanguage {
  /** ISO 639-1, or `und`. */
  code: string;
  /** 0–1, the detector's share of the evidence; null when undetermined. */
  confidence: number | null;
}

export const UNDETERMINED_LANGUAGE: DetectedLanguage = { code: 'und', confidence: null };

/** Fewer letters than this (in words without digits) is too little text to tell a language by. */
export const MIN_LANGUAGE_LETTERS = 12;

/**
 * Languages tinyld knows that are never the language of a label or a receipt, yet win on a few short words
 * (Klingon, Volapük, Esperanto, Latin, and Berber, whose n-grams match English product words).
 */
const NEVER_PRINTED = new Set(['tlh', 'vo', 'eo', 'la', 'ber']);

let detector: Promise<typeof Tinyld> | undefined;

/**
 * tinyld's heavy profile: about 2 s and 60 MB to load, so it is loaded on first use (the OCR worker's warm-up run),
 * never by a process that imports this module without reading a language (specs, tools).
 */
function loadDetector(): Promise<typeof Tinyld> {
  detector ??= import('tinyld/heavy').catch((error: unknown) => {
    detector = undefined;
    throw error;
  });
  return detector;
}

/**
 * The main language of OCR text, with tinyld (n-grams, 62 languages). Numbers, codes and one-letter units are left
 * out first ("500 g", "A1234" say nothing about a language). Short texts are `und`; a label of a few words is often
 * detected with a low confidence, and sometimes wrongly (Swedish read without its accents looks Italian).
 */
export async function detectLanguage(text: string): Promise<DetectedLanguage> {
  const tinyld = await loadDetector();
  const words = text
    .split(/\s+/)
    .filter((word) => !/\p{N}/u.test(word) && /\p{L}{2}/u.test(word))
    .join(' ');
  if ((words.match(/\p{L}/gu)?.length ?? 0) < MIN_LANGUAGE_LETTERS) return UNDETERMINED_LANGUAGE;
  const only = tinyld.supportedLanguages
    .map((iso3) => tinyld.toISO2(iso3))
    .filter((code) => !NEVER_PRINTED.has(code));
  const candidates = tinyld.detectAll(words, { only });
  const best = candidates.at(0);
  const total = candidates.reduce((sum, candidate) => sum + candidate.accuracy, 0);
  if (!best || !tinyld.validateISO2(best.lang) || total <= 0) return UNDETERMINED_LANGUAGE;
  return { code: best.lang, confidence: Math.round((best.accuracy / total) * 1000) / 1000 };
}
