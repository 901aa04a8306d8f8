import type { Listing, ListingConsistency, ListingField } from '@argus/contracts';
import { colourWordsToPalette, sameColourFamily } from './colour-words';
import {
  findBrand,
  findBrandInLines,
  findQuantities,
  parseListingQuantity,
  parseQuantities,
  quantitiesMatch,
  sameBrand,
  type Quantity,
  type ReadLine,
} from './product-text';

type Check = ListingConsistency['checks'][number];

/** A measured colour covering less of the image than this is detail, not the colour a listing would name. */
export const LISTING_COLOUR_MIN_SHARE = 0.15;

/** What the vision model said, on a GPU tier; the CPU tier has none. */
export interface ModelListingView {
  category: string | null;
  /** The model's reading of the brand and size, used when OCR read none. */
  brand?: string;
  size?: string;
  /** Its verdict on the listing's title and category, when the listing has them. */
  listing?: { categoryMatches?: boolean; titleMatches?: boolean; note: string };
}

export interface ListingEvidence {
  listing: Listing;
  /** Measured dominant colours, with their share of the image. */
  colours: ReadonlyArray<{ name: string; share: number }>;
  /** What OCR read; undefined when the image was too busy to read within the side-job budget. */
  lines: readonly ReadLine[] | undefined;
  model?: ModelListingView;
}

const pct = (value: number) => `${Math.round(value * 100)}%`;

function path(category: string): string {
  return category
    .toLowerCase()
    .split('/')
    .map((part) => part.trim())
    .filter(Boolean)
    .join('/');
}

/** A category path is consistent with a listing's when it is the same path or under it. */
export function categoryWithin(observed: string, listed: string): boolean {
  const [inner, outer] = [path(observed), path(listed)];
  return outer.length > 0 && (inner === outer || inner.startsWith(`${outer}/`));
}

function unjudged(field: ListingField, expected: string, message: string): Check {
  return { field, expected, observed: null, matches: null, judgedBy: 'none', message };
}

const NEEDS_MODEL = 'needs a vision model (a GPU tier)';

function judgeTitle(title: string, model: ModelListingView | undefined): Check {
  const verdict = model?.listing?.titleMatches;
  if (verdict === undefined) return unjudged('title', title, `not judged: ${NEEDS_MODEL}`);
  const note = model?.listing?.note ?? '';
  return {
    field: 'title',
    expected: title,
    observed: note || null,
    matches: verdict,
    judgedBy: 'model',
    message: verdict
      ? 'the photo shows what the title describes'
      : `the photo does not match the title${note ? `: ${note}` : ''}`,
  };
}

function judgeCategory(category: string, model: ModelListingView | undefined): Check {
  if (!model) return unjudged('category', category, `not judged: ${NEEDS_MODEL}`);
  const observed = model.category;
  const within = observed !== null && categoryWithin(observed, category);
  const matches = within || model.listing?.categoryMatches === true;
  return {
    field: 'category',
    expected: category,
    observed,
    matches,
    judgedBy: 'model',
    message: within
      ? `the product is ${observed}, within the listed category`
      : matches
        ? `the product (${observed ?? 'uncategorised'}) fits the listed category`
        : `the product looks like ${observed ?? 'something else'}, not ${category}`,
  };
}

function judgeColour(colour: string, colours: ListingEvidence['colours']): Check {
  const { names } = colourWordsToPalette(colour);
  if (names.length === 0) {
    return unjudged('colour', colour, `not judged: "${colour}" names no colour the measurements know`);
  }
  const dominant = colours.filter((entry) => entry.share >= LISTING_COLOUR_MIN_SHARE);
  if (dominant.length === 0) return unjudged('colour', colour, 'not judged: no dominant colour was measured');
  const observed = dominant.map((entry) => `${entry.name} ${pct(entry.share)}`).join(', ');
  const hit = dominant.find((entry) => names.some((name) => sameColourFamily(name, entry.name)));
  return {
    field: 'colour',
    expected: colour,
    observed,
    matches: hit !== undefined,
    judgedBy: 'measured',
    message: hit
      ? `${hit.name} covers ${pct(hit.share)} of the photo`
      : `the photo's main colours are ${observed}; none of them is ${names.join(' or ')}`,
  };
}

function judgeBrand(brand: string, evidence: ListingEvidence): Check {
  const { lines, model } = evidence;
  if (lines && lines.length > 0) {
    const quote = findBrandInLines(brand, lines);
    if (quote) {
      return {
        field: 'brand',
        expected: brand,
        observed: quote,
        matches: true,
        judgedBy: 'ocr',
        message: `"${quote}" is printed on the product`,
      };
    }
    const read = findBrand(lines);
    if (read) {
      return {
        field: 'brand',
        expected: brand,
        observed: read.text,
        matches: false,
        judgedBy: 'ocr',
        message: `the product reads "${read.text}", not "${brand}"`,
      };
    }
  }
  if (model?.brand) {
    const matches = sameBrand(brand, model.brand);
    return {
      field: 'brand',
      expected: brand,
      observed: model.brand,
      matches,
      judgedBy: 'model',
      message: matches
        ? `the vision model reads the brand as ${model.brand}`
        : `the brand looks like ${model.brand}`,
    };
  }
  return unjudged(
    'brand',
    brand,
    model
      ? 'no brand is legible in the photo'
      : `no brand text was read${lines === undefined ? ' (the photo was too busy to read in time)' : ''}; a vision model (a GPU tier) can look for a logo`,
  );
}

function judgeQuantity(quantity: string, evidence: ListingEvidence): Check {
  const expected = parseListingQuantity(quantity);
  if (!expected) return unjudged('quantity', quantity, `not judged: "${quantity}" is not a size or quantity`);
  const compare = (found: readonly Quantity[], judgedBy: 'ocr' | 'model'): Check | undefined => {
    const verdicts = found.map((candidate) => ({ candidate, matches: quantitiesMatch(expected, candidate) }));
    const decided = verdicts.find((v) => v.matches === true) ?? verdicts.find((v) => v.matches === false);
    if (!decided) return undefined;
    const where = judgedBy === 'ocr' ? 'the label reads' : 'the vision model reads';
    return {
      field: 'quantity',
      expected: quantity,
      observed: decided.candidate.text,
      matches: decided.matches === true,
      judgedBy,
      message: decided.matches
        ? `${where} ${decided.candidate.text}`
        : `${where} ${decided.candidate.text}, not ${expected.text}`,
    };
  };
  const byOcr = evidence.lines ? compare(findQuantities(evidence.lines), 'ocr') : undefined;
  if (byOcr) return byOcr;
  const modelSize = evidence.model?.size;
  if (modelSize) {
    const parsed = parseQuantities(modelSize);
    const listed =
      parsed.length > 0 ? parsed : [parseListingQuantity(modelSize)].filter((q) => q !== undefined);
    const byModel = compare(listed, 'model');
    if (byModel) return byModel;
  }
  return unjudged(
    'quantity',
    quantity,
    evidence.model
      ? 'no comparable size or quantity is legible in the photo'
      : 'no comparable size or quantity was read; a vision model (a GPU tier) may read it',
  );
}

/**
 * The listing compared with the photo, field by field: colour from measured colours (every tier), brand and
 * quantity from OCR text (every tier; the vision model's reading when OCR found none), title and category by the
 * vision model. `passed` is false when any judged field mismatches; fields not judged do not fail it, and on the CPU
 * tier the ones a vision model could judge are returned in `needsGpuTier` as `listing.<field>`.
 */
export function judgeListing(evidence: ListingEvidence): {
  consistency: ListingConsistency;
  needsGpuTier: string[];
} {
  const { listing, model } = evidence;
  const checks: Check[] = [];
  if (listing.title !== undefined) checks.push(judgeTitle(listing.title, model));
  if (listing.category !== undefined) checks.push(judgeCategory(listing.category, model));
  if (listing.colour !== undefined) checks.push(judgeColour(listing.colour, evidence.colours));
  if (listing.brand !== undefined) checks.push(judgeBrand(listing.brand, evidence));
  if (listing.quantity !== undefined) checks.push(judgeQuantity(listing.quantity, evidence));
  const needsGpuTier = model
    ? []
    : checks
        .filter((check) => check.matches === null && check.field !== 'colour')
        .filter((check) => check.field !== 'quantity' || parseListingQuantity(check.expected) !== undefined)
        .map((check) => `listing.${check.field}`);
  return {
    consistency: { passed: checks.every((check) => check.matches !== false), checks },
    needsGpuTier,
  };
}
