// Brand and size/quantity text from what OCR read on a product: deterministic, the same on every tier, and the
// source of `attributes.brand` and `attributes.size` whenever the text is legible.

interface TextBox {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** A read line, as the CPU OCR gives it: words with confidences and boxes in the stored image's pixels. */
export interface ReadLine {
  text: string;
  confidence: number;
  box: TextBox;
  words?: ReadonlyArray<{ text: string; confidence: number; box: TextBox }>;
}

export type QuantityKind = 'volume' | 'mass' | 'count' | 'apparel';

/** A size or quantity found in text, with what is needed to compare it. */
export interface Quantity {
  /** Tidied as printed: "500 ml", "2 x 330 ml", "12 pcs", "EU 42", "W32 L34". */
  text: string;
  kind: QuantityKind;
  /** Units in a pack ("2 x 330 ml" → 2, "12 pcs" → 12); undefined when the text states a single amount. */
  count?: number;
  /** Amount per unit in ml (volume) or g (mass). */
  amount?: number;
  /** Apparel: the size label, e.g. "M", "EU 42", "W32 L34". */
  label?: string;
}

/** Words under this OCR confidence are not trusted to spell a brand (tesseract reads clear print at 0.8–0.97). */
export const BRAND_MIN_CONFIDENCE = 0.8;
/** A brand is a name of one to three words, not a phrase. */
const BRAND_MAX_WORDS = 3;
/** Fewer letters than this are more often OCR reading texture ("AS", "M") than a two-letter mark. */
const BRAND_MIN_LETTERS = 3;
/** The line a brand stands on says little else: at most this many words, sizes and label words included. */
const BRAND_LINE_MAX_WORDS = 4;
/** With three lines of text or more, the brand stands out: at least this many times the median line height. */
const BRAND_PROMINENCE = 1.25;
/**
 * Text that reads like a document (a page, a leaflet, the back of a pack) has headings, not a brand: this many lines,
 * or this many lines of running text (at least `PROSE_WORDS` words, or a sentence ending in a full stop).
 */
const DOCUMENT = { lines: 12, proseLines: 3, proseWords: 6 } as const;
/** Relative tolerance when comparing amounts: unit conversions (16.9 fl oz = 500 ml) are rounded on labels. */
const AMOUNT_TOLERANCE = 0.02;

const VOLUME_UNITS: Readonly<Record<string, number>> = { ml: 1, cl: 10, dl: 100, l: 1000, 'fl oz': 29.5735 };
const MASS_UNITS: Readonly<Record<string, number>> = { mg: 0.001, g: 1, kg: 1000, oz: 28.3495, lb: 453.592 };

/** Spellings of each unit, longest first so that the alternation never stops at a prefix. */
const UNIT_SPELLINGS: ReadonlyArray<[string, string]> = [
  ['millilitres?|milliliters?|ml', 'ml'],
  ['centilitres?|centiliters?|cl', 'cl'],
  ['decilitres?|deciliters?|dl', 'dl'],
  ['fl\\.? ?oz', 'fl oz'],
  ['litres?|liters?|ltr|lt|l', 'l'],
  ['milligrams?|mg', 'mg'],
  ['kilograms?|kilos?|kgs?', 'kg'],
  ['grams?|gr|g', 'g'],
  ['ounces?|oz', 'oz'],
  ['pounds?|lbs?', 'lb'],
];
const UNIT = `(${UNIT_SPELLINGS.map(([spelling]) => spelling).join('|')})`;
const NUMBER = '(\\d+(?:\\.\\d+)?)';
const COUNT_WORDS =
  'pcs|pc|pieces?|pack|pk|count|ct|tablets?|capsules?|caps|sheets?|rolls?|bags?|pairs?|units?|servings?';
const LETTER_SIZES = 'xxxs|xxs|xs|s|m|l|xl|xxl|xxxl|[2-6]xl';
const NAMED_SIZES: Readonly<Record<string, string>> = {
  small: 'S',
  medium: 'M',
  large: 'L',
  'extra small': 'XS',
  'extra large': 'XL',
  'x large': 'XL',
};

function canonicalUnit(spelled: string): string {
  const lower = spelled.toLowerCase();
  for (const [spelling, unit] of UNIT_SPELLINGS) {
    if (new RegExp(`^(?:${spelling})$`).test(lower)) return unit;
  }
  return lower;
}

function amountOf(value: number, unit: string): { kind: 'volume' | 'mass'; amount: number } {
  if (unit in VOLUME_UNITS) return { kind: 'volume', amount: value * VOLUME_UNITS[unit] };
  return { kind: 'mass', amount: value * (MASS_UNITS[unit] ?? 1) };
}

/** Lowercase, decimal commas as points, × as x; every replacement keeps the length, so positions still match. */
function prepare(text: string): string {
  return text
    .toLowerCase()
    .replace(/(\d),(\d)/g, '$1.$2')
    .replace(/×/g, 'x');
}

interface Found {
  start: number;
  end: number;
  quantity: Quantity;
}

function waistLeg(waist: string, leg: string): Quantity {
  const label = `W${waist} L${leg}`;
  return { text: label, kind: 'apparel', label };
}

type Pattern = {
  regex: RegExp;
  build: (match: RegExpExecArray, original: string) => Quantity | undefined;
};

/** In priority order: a later pattern never claims text an earlier one matched ("32W 34L" is not 34 litres). */
const PATTERNS: Pattern[] = [
  {
    // 2 x 330 ml, 6x330ml, 4 × 1,5 L
    regex: new RegExp(`\\b(\\d+)\\s*x\\s*${NUMBER}\\s*${UNIT}(?![a-z])`, 'g'),
    build: (match) => {
      const count = Number(match[1]);
      const unit = canonicalUnit(match[3]);
      return { text: `${count} x ${match[2]} ${unit}`, count, ...amountOf(Number(match[2]), unit) };
    },
  },
  {
    // W32 L34, W32/L34
    regex: /\bw\s*(\d{2})\s*\/?\s*l\s*(\d{2})\b/g,
    build: (match) => waistLeg(match[1], match[2]),
  },
  {
    // 32W 34L
    regex: /\b(\d{2})\s*w\s*\/?\s*(\d{2})\s*l\b/g,
    build: (match) => waistLeg(match[1], match[2]),
  },
  {
    // EU 42, US 9.5, UK 8; the system in capitals, so that "call us 24/7" is not a shoe size
    regex: /\b(eu|us|uk)\s*:?\s*(\d{1,2}(?:\.5)?)(?![\d./])/g,
    build: (match, original) => {
      const system = original.slice(match.index, match.index + 2);
      if (system !== system.toUpperCase()) return undefined;
      const label = `${system} ${match[2]}`;
      return { text: label, kind: 'apparel', label };
    },
  },
  {
    // Size M, size: XL, Gr. 38
    regex: new RegExp(`\\b(?:size|gr\\.)\\s*:?\\s*(${LETTER_SIZES}|\\d{1,2}(?:\\.5)?)\\b`, 'g'),
    build: (match) => {
      const label = match[1].toUpperCase();
      return { text: `Size ${label}`, kind: 'apparel', label };
    },
  },
  {
    // pack of 6
    regex: /\bpack\s+of\s+(\d+)\b/g,
    build: (match) => ({ text: `${match[1]} pack`, kind: 'count', count: Number(match[1]) }),
  },
  {
    // 12 pcs, 2-pack, 60 capsules
    regex: new RegExp(`\\b(\\d+)\\s*-?\\s*(${COUNT_WORDS})\\b`, 'g'),
    build: (match) => ({ text: `${match[1]} ${match[2]}`, kind: 'count', count: Number(match[1]) }),
  },
  {
    // 500 ml, 1.5 L, 250g, 16.9 fl oz
    regex: new RegExp(`(?<![\\d.a-z])${NUMBER}\\s*${UNIT}(?![a-z])`, 'g'),
    build: (match) => {
      const value = Number(match[1]);
      if (!(value > 0)) return undefined;
      const unit = canonicalUnit(match[2]);
      return { text: `${match[1]} ${unit}`, ...amountOf(value, unit) };
    },
  },
];

/** Every size or quantity in a piece of text, in reading order. */
export function parseQuantities(text: string): Quantity[] {
  const prepared = prepare(text);
  const found: Found[] = [];
  for (const { regex, build } of PATTERNS) {
    regex.lastIndex = 0;
    for (let match = regex.exec(prepared); match !== null; match = regex.exec(prepared)) {
      const start = match.index;
      const end = start + match[0].length;
      if (found.some((taken) => start < taken.end && end > taken.start)) continue;
      const quantity = build(match, text);
      if (quantity) found.push({ start, end, quantity });
    }
  }
  return found.sort((a, b) => a.start - b.start).map((entry) => entry.quantity);
}

/**
 * What a listing says as a quantity: anything {@link parseQuantities} reads, or, on its own, a size label ("M",
 * "Medium", "XL"), a shoe or waist size ("42") or a count ("2").
 */
export function parseListingQuantity(text: string): Quantity | undefined {
  const parsed = parseQuantities(text).at(0);
  if (parsed) return parsed;
  const bare = prepare(text).replace(/-/g, ' ').replace(/\s+/g, ' ').trim();
  const named = NAMED_SIZES[bare];
  if (named) return { text: named, kind: 'apparel', label: named };
  if (new RegExp(`^(?:${LETTER_SIZES})$`).test(bare)) {
    const label = bare.toUpperCase();
    return { text: label, kind: 'apparel', label };
  }
  if (/^\d+$/.test(bare)) return { text: bare, kind: 'count', count: Number(bare) };
  return undefined;
}

function close(a: number, b: number): boolean {
  return Math.abs(a - b) <= AMOUNT_TOLERANCE * Math.max(Math.abs(a), Math.abs(b));
}

/** The number of an apparel label ("EU 42" → "42"), for comparing a size given with and without its system. */
function sizeNumber(label: string): string | undefined {
  return /^(?:[A-Z]{2} )?(\d{1,2}(?:\.5)?)$/.exec(label)?.[1];
}

/**
 * Whether two quantities say the same: equal totals ("1 L" = "1000 ml", "2 x 330 ml" = "660 ml"), or the same unit
 * amount where one side does not state a count (a can labelled "330 ml" from a "6 x 330 ml" listing), or equal counts
 * ("2 pack" and "2 x 330 ml"). Undefined when they cannot be compared (a volume and a mass, a count and one amount).
 */
export function quantitiesMatch(a: Quantity, b: Quantity): boolean | undefined {
  if (a.kind === 'apparel' || b.kind === 'apparel') {
    // A bare number in a listing ("42") is a count or a size; next to a size it is the size.
    const [size, other] = a.kind === 'apparel' ? [a, b] : [b, a];
    if (other.kind === 'count' && /^\d+$/.test(other.text) && size.label) {
      return sizeNumber(size.label) === other.text;
    }
    if (a.kind !== b.kind || !a.label || !b.label) return undefined;
    if (a.label === b.label) return true;
    const [na, nb] = [sizeNumber(a.label), sizeNumber(b.label)];
    const oneUnqualified = !/^[A-Z]{2} /.test(a.label) || !/^[A-Z]{2} /.test(b.label);
    return na !== undefined && na === nb && oneUnqualified;
  }
  if (a.kind === 'count' || b.kind === 'count') {
    if (a.count === undefined || b.count === undefined) return undefined;
    return a.count === b.count;
  }
  if (a.kind !== b.kind || a.amount === undefined || b.amount === undefined) return undefined;
  if (close(a.amount * (a.count ?? 1), b.amount * (b.count ?? 1))) return true;
  if (!close(a.amount, b.amount)) return false;
  return a.count === undefined || b.count === undefined || a.count === b.count;
}

const COMMON_WORDS = new Set(
  (
    'a an and or of for with in on by to the at from per each only new sale off free best before use exp expiry lot ' +
    'batch net wt weight vol volume contents content size ingredients made product organic natural original ' +
    'classic premium quality fresh pure extra light since est ltd inc gmbh co company brand limited edition ' +
    'improved recipe flavour flavor price approx min max keep refrigerated shake well contains serving servings ' +
    'calories kcal kj energy fat sugar sugars protein salt store www com pack pcs pieces ml cl dl ltr litre liter ' +
    'litres liters kg mg oz lb lbs fl eu us uk made ' +
    // Headings of a page, which a document's title line is made of.
    'chapter section introduction contents abstract summary figure table appendix index preface conclusion ' +
    'references example examples note warning caution instructions manual guide ' +
    // Contact cues, currencies and price words, which stand beside a number, never for a maker.
    'call tel phone ph fax mob mobile cell email mail web visit hotline whatsapp eur usd gbp chf sek only now'
  ).split(' '),
);

/**
 * Pronouns, auxiliaries and adverbs make a slogan or a sentence ("Just do it", "Because you're worth it"): a line
 * with one of them holds no brand.
 */
const PHRASE_WORDS = new Set(
  (
    "i i'm me my you you're your yours we we're our us it it's its they their is are was be been do does don't " +
    'can will just more most every all always never because how what why when'
  ).split(' '),
);

function bareWord(text: string): string {
  return text.replace(/^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu, '');
}

function brandWord(word: { text: string; confidence: number }): boolean {
  const bare = bareWord(word.text);
  const letters = bare.match(/\p{L}/gu)?.length ?? 0;
  return (
    word.confidence >= BRAND_MIN_CONFIDENCE &&
    letters >= 2 &&
    !/\d/.test(bare) &&
    letters / bare.length >= 0.6 &&
    !COMMON_WORDS.has(bare.toLowerCase())
  );
}

/** Whether the words are shaped like a mark: every word has a capital ("ACME", "North Face", "Coca-Cola", "iPod"). */
function markShaped(words: readonly string[]): boolean {
  return words.every((word) => /\p{Lu}/u.test(word));
}

function wordCount(text: string): number {
  return text.split(/\s+/).filter((word) => /[\p{L}\p{N}]/u.test(word)).length;
}

/** Many lines, or lines of running text: a page or a leaflet rather than a product's front. */
export function readsLikeDocument(lines: readonly ReadLine[]): boolean {
  if (lines.length >= DOCUMENT.lines) return true;
  const prose = lines.filter((line) => {
    const words = wordCount(line.text);
    return words >= DOCUMENT.proseWords || (words >= 3 && /\p{Ll}[.!?]$/u.test(line.text.trim()));
  });
  return prose.length >= DOCUMENT.proseLines;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/**
 * The brand, read only where the evidence is strong (docs/product-analysis.md, "brand"): the run of one to three
 * words around the tallest confident word (OCR confidence ≥ {@link BRAND_MIN_CONFIDENCE}) that is not a size, a
 * number or a common label word, on a short line (at most four words, no comma or colon) that is not a slogan or a
 * sentence, every word capitalised like a mark, three letters or more, and, when the image has three lines or more,
 * clearly taller than the rest. Text that reads
 * like a document gives no brand: its largest line is a heading. Lines without word boxes count as one word with the
 * line's box.
 */
export function findBrand(lines: readonly ReadLine[]): { text: string; line: number } | undefined {
  if (readsLikeDocument(lines)) return undefined;
  const confidentHeights = lines
    .filter((line) => line.confidence >= BRAND_MIN_CONFIDENCE)
    .map((line) => line.box.height);
  const standsOut = (height: number) =>
    confidentHeights.length < 3 || height >= BRAND_PROMINENCE * median(confidentHeights);
  let best: { text: string; line: number; height: number } | undefined;
  lines.forEach((line, index) => {
    // A comma, colon, semicolon or exclamation/question mark makes a phrase ("COMMUNITY, POWERED", "Phone: …").
    if (wordCount(line.text) > BRAND_LINE_MAX_WORDS || /[,:;!?]/.test(line.text)) return;
    const words = line.words ?? [{ text: line.text, confidence: line.confidence, box: line.box }];
    if (words.some((word) => PHRASE_WORDS.has(bareWord(word.text).toLowerCase()))) return;
    // Words inside a size ("500 ml", "Size M") are part of the size, not the name.
    const sizeWords = new Set(parseQuantities(line.text).flatMap((q) => q.text.toLowerCase().split(' ')));
    const flags = words.map((word) => brandWord(word) && !sizeWords.has(bareWord(word.text).toLowerCase()));
    const tallest = words.reduce<number>(
      (top, word, i) => (flags[i] && (top < 0 || word.box.height > words[top].box.height) ? i : top),
      -1,
    );
    if (tallest < 0) return;
    let start = tallest;
    let end = tallest;
    while (start > 0 && flags[start - 1]) start -= 1;
    while (end < words.length - 1 && flags[end + 1]) end += 1;
    if (end - start + 1 > BRAND_MAX_WORDS) return;
    const run = words.slice(start, end + 1).map((word) => bareWord(word.text));
    const height = words[tallest].box.height;
    const letters = run.join('').match(/\p{L}/gu)?.length ?? 0;
    if (letters < BRAND_MIN_LETTERS || !markShaped(run) || !standsOut(height)) return;
    // A clearly taller line wins; between lines of about the same size the higher one (read first) does.
    if (!best || height > best.height * 1.05) best = { text: run.join(' '), line: index, height };
  });
  return best && { text: best.text, line: best.line };
}

/** Sizes and quantities in the read lines, the most prominent (tallest line) first. */
export function findQuantities(lines: readonly ReadLine[]): Quantity[] {
  return lines
    .map((line, index) => ({ line, index, found: parseQuantities(line.text) }))
    .filter((entry) => entry.found.length > 0)
    .sort((a, b) => b.line.box.height - a.line.box.height || a.index - b.index)
    .flatMap((entry) => entry.found);
}

/** Brand and size text in OCR lines, for `attributes.brand` and `attributes.size`. */
export function readProductText(lines: readonly ReadLine[]): {
  brand?: string;
  size?: Quantity;
  quantities: Quantity[];
} {
  const quantities = findQuantities(lines);
  const brand = findBrand(lines)?.text;
  return { ...(brand ? { brand } : {}), ...(quantities[0] ? { size: quantities[0] } : {}), quantities };
}

/** Case, accents, spaces and punctuation removed: "Coca-Cola" and "COCA COLA" are both "cocacola". */
export function compactText(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '');
}

/** The fewest edits that turn `needle` into some substring of `haystack` (approximate substring matching). */
function substringDistance(needle: string, haystack: string): number {
  let previous = new Array<number>(haystack.length + 1).fill(0);
  for (let i = 1; i <= needle.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= haystack.length; j += 1) {
      const substitution = previous[j - 1] + (needle[i - 1] === haystack[j - 1] ? 0 : 1);
      current.push(Math.min(substitution, previous[j] + 1, current[j - 1] + 1));
    }
    previous = current;
  }
  return Math.min(...previous);
}

/** OCR misreads a letter now and then: one edit is forgiven from 5 characters, two from 10. */
function allowedEdits(length: number): number {
  return Math.min(2, Math.floor(length / 5));
}

/** Whether a brand name appears in a text, ignoring case, accents, spacing and punctuation, allowing OCR slips. */
export function brandAppearsIn(brand: string, text: string): boolean {
  const needle = compactText(brand);
  const haystack = compactText(text);
  if (needle.length === 0 || haystack.length === 0) return false;
  if (haystack.includes(needle)) return true;
  return substringDistance(needle, haystack) <= allowedEdits(needle.length);
}

/** The line that carries a brand name, if any; the lines joined catch a name broken over two lines. */
export function findBrandInLines(brand: string, lines: readonly ReadLine[]): string | undefined {
  const line = lines.find((candidate) => brandAppearsIn(brand, candidate.text));
  if (line) return line.text;
  const all = lines.map((candidate) => candidate.text).join(' ');
  return lines.length > 1 && brandAppearsIn(brand, all) ? all : undefined;
}

/** Two brand names are the same when one appears in the other (the model may add or drop a word). */
export function sameBrand(a: string, b: string): boolean {
  return brandAppearsIn(a, b) || brandAppearsIn(b, a);
}
