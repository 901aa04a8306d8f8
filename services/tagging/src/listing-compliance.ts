import {
  MODEL_COMPLIANCE_CHECK_IDS,
  type ListingCompliance,
  type People,
  type PhotoAssessment,
} from '@argus/contracts';
import type { ListingProfile } from '@argus/config';
import type { ListingMeasurements } from '@argus/imaging';

type Check = ListingCompliance['checks'][number];

const pct = (value: number) => `${Math.round(value * 100)}%`;

/** What a photo without a plain backdrop is, in the messages that say so. */
const NO_BACKDROP = 'the edges show a scene, a textured or cluttered surface, or the photo fills the frame';

interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/**
 * Words printed on the product belong to it; words whose centre lies outside the product's box sit on the
 * background, which is where promotional text and watermarks go. With no product found, every word counts.
 */
export function overlayWords(
  words: ReadonlyArray<{ text: string; box: Box }>,
  productBox: Box | null,
): string[] {
  return words
    .filter(({ box }) => {
      if (!productBox) return true;
      const cx = box.x + box.width / 2;
      const cy = box.y + box.height / 2;
      const inside =
        cx >= productBox.x &&
        cx <= productBox.x + productBox.width &&
        cy >= productBox.y &&
        cy <= productBox.y + productBox.height;
      return !inside;
    })
    .map((word) => word.text);
}

/**
 * Listing-photo compliance: deterministic checks of measured values against a profile's thresholds. Each check
 * says what was measured, the threshold, and in words what to fix.
 */
export function evaluateCompliance(
  profileName: string,
  profile: ListingProfile,
  listing: ListingMeasurements,
  /** Words on the background, or 'unreadable' when the image was too busy to read within the OCR budget. */
  overlay: readonly string[] | 'unreadable' = [],
  /**
   * A vision model's look at the photo (GPU tiers); without one the profile's model checks are left out, and
   * {@link modelCheckIds} names them for needsGpuTier.
   */
  photo: PhotoAssessment | null = null,
  /** Faces the embedded detector found (the tagging answer's `people`); null or undefined when it did not run. */
  people?: People | null,
): ListingCompliance {
  const { checks } = profile;
  const results: Check[] = [];
  /** A measured value that must reach a minimum; the messages say what was found and what to fix. */
  const atLeast = (
    id: Check['id'],
    value: number,
    min: number,
    ok: (value: number) => string,
    fix: (value: number, min: number) => string,
  ) => {
    results.push({
      id,
      passed: value >= min,
      value,
      threshold: min,
      message: value >= min ? ok(value) : fix(value, min),
    });
  };
  const { backdrop } = listing;
  if (checks.background_white && backdrop.kind === 'none') {
    results.push({
      id: 'background_white',
      passed: false,
      value: 0,
      threshold: checks.background_white.min,
      message: `no plain backdrop was found: ${NO_BACKDROP}; show the product alone on pure white`,
    });
  } else if (checks.background_white) {
    const seen =
      backdrop.kind === 'transparent'
        ? ' (transparent, counted as white as shops display it)'
        : backdrop.hex && backdrop.hex !== '#ffffff'
          ? ` (the backdrop is ${backdrop.hex})`
          : '';
    atLeast(
      'background_white',
      round(listing.backgroundWhiteShare),
      checks.background_white.min,
      (value) => `${pct(value)} of the background is pure white${seen}`,
      (value, min) =>
        `only ${pct(value)} of the background is pure white${seen}; at least ${pct(min)} is required`,
    );
  }
  if (checks.fill_ratio && backdrop.kind === 'none') {
    // A profile that asks for a white backdrop wants a packshot, so a photo with no product to measure fails it; a
    // profile that does not (further images: lifestyle and detail shots) accepts a scene without a fill.
    const packshot = checks.background_white !== undefined;
    results.push({
      id: 'fill_ratio',
      passed: !packshot,
      value: 'no_product',
      threshold: checks.fill_ratio.min,
      message: packshot
        ? `no product could be separated from a plain backdrop: ${NO_BACKDROP}; show the product alone, filling at least ${pct(checks.fill_ratio.min)} of the frame`
        : `not measured: no product could be separated from a plain backdrop (${NO_BACKDROP}), which this profile allows`,
    });
  } else if (checks.fill_ratio) {
    atLeast(
      'fill_ratio',
      round(listing.fillRatio),
      checks.fill_ratio.min,
      (value) => `the product fills ${pct(value)} of the frame`,
      (value, min) =>
        listing.productBox
          ? `the product fills ${pct(value)} of the frame; crop or zoom so it fills at least ${pct(min)}`
          : `no product was found on the backdrop; show it filling at least ${pct(min)} of the frame`,
    );
  }
  if (checks.min_resolution) {
    atLeast(
      'min_resolution',
      Math.max(listing.width, listing.height),
      checks.min_resolution.min,
      (value) => `long side ${value} px`,
      (value, min) => `long side ${value} px; at least ${min} px is needed for zoom`,
    );
  }
  if (checks.sharpness) {
    // Measured on the product's box when a product was separated, else on the whole photo.
    const subject = listing.productBox ? 'product' : 'photo';
    atLeast(
      'sharpness',
      round(listing.sharpness.laplacianVariance, 1),
      checks.sharpness.min,
      () => `the ${subject} is sharp`,
      (value, min) => `the ${subject} looks blurred (sharpness ${value}, at least ${min} needed)`,
    );
  }
  if (checks.exposure) {
    const { allowed } = checks.exposure;
    const value = listing.exposure.verdict;
    results.push({
      id: 'exposure',
      passed: allowed.includes(value),
      value,
      threshold: allowed.join('|'),
      message:
        value === 'ok'
          ? 'exposure is fine'
          : `the photo is ${value}exposed (mean luminance ${pct(listing.exposure.meanLuminance)})`,
    });
  }
  if (checks.border) {
    const { allowed } = checks.border;
    const value = listing.border.detected;
    results.push({
      id: 'border',
      passed: allowed || !value,
      value,
      threshold: allowed,
      message: value
        ? `an added ${listing.border.widthPx} px frame (${listing.border.hex ?? 'colour'}) surrounds the photo`
        : 'no added frame',
    });
  }
  if (checks.text_overlay && overlay === 'unreadable') {
    results.push({
      id: 'text_overlay',
      passed: true,
      value: 'not_checked',
      threshold: checks.text_overlay.maxWords,
      message: 'not checked: the photo is too busy to read its text within the OCR time budget',
    });
  } else if (checks.text_overlay && overlay !== 'unreadable') {
    const { maxWords } = checks.text_overlay;
    const value = overlay.length;
    results.push({
      id: 'text_overlay',
      passed: value <= maxWords,
      value,
      threshold: maxWords,
      message:
        value <= maxWords
          ? 'no text over the background'
          : `text over the background: "${overlay.slice(0, 6).join(' ')}"; remove promotional text and watermarks`,
    });
  }
  const person = personCheck(profile, people);
  if (person) results.push(person);
  if (photo) results.push(...modelChecks(profile, photo));
  return { profile: profileName, passed: results.every((check) => check.passed), checks: results };
}

/**
 * People in the photo: the faces the detector is sure of, against the profile's maxFaces. Without a detection (the
 * detector failed, or an answer cached before it existed) the check is reported as not checked and passes.
 */
export function personCheck(profile: ListingProfile, people: People | null | undefined): Check | undefined {
  const rule = profile.checks.no_person;
  if (!rule) return undefined;
  const { maxFaces } = rule;
  if (!people) {
    return {
      id: 'no_person',
      passed: true,
      value: 'not_checked',
      threshold: maxFaces,
      message: 'not checked: the face detector gave no answer for this photo',
    };
  }
  const count = people.faces;
  const passed = count <= maxFaces;
  const found = count === 1 ? 'a person (1 face)' : `people (${count} faces)`;
  return {
    id: 'no_person',
    passed,
    value: count,
    threshold: maxFaces,
    message:
      count === 0
        ? 'no person in the photo'
        : passed
          ? `${count} ${count === 1 ? 'face' : 'faces'}, at most ${maxFaces} allowed`
          : maxFaces === 0
            ? `the photo shows ${found}; show the product alone in the main image`
            : `the photo shows ${found}; at most ${maxFaces} allowed`,
  };
}

export type ModelComplianceCheckId = (typeof MODEL_COMPLIANCE_CHECK_IDS)[number];

/** The vision-model checks a profile turns on: what a CPU-tier answer leaves out. */
export function modelCheckIds(profile: ListingProfile): ModelComplianceCheckId[] {
  return MODEL_COMPLIANCE_CHECK_IDS.filter((id) => profile.checks[id] !== undefined);
}

/** Checks judged from the vision model's photo assessment: one product, no props, a real photo. */
function modelChecks(profile: ListingProfile, photo: PhotoAssessment): Check[] {
  const { checks } = profile;
  const results: Check[] = [];
  if (checks.single_product) {
    const { maxProducts } = checks.single_product;
    const count = photo.productCount;
    results.push({
      id: 'single_product',
      passed: count <= maxProducts,
      value: count,
      threshold: maxProducts,
      message:
        count <= maxProducts
          ? count === 0
            ? 'the vision model saw no product for sale'
            : count === 1
              ? 'one product'
              : `${count} products, at most ${maxProducts} allowed`
          : `the photo shows ${count} products; show ${maxProducts === 1 ? 'one product' : `at most ${maxProducts}`} per image`,
    });
  }
  if (checks.no_props) {
    results.push({
      id: 'no_props',
      passed: !photo.props,
      value: photo.props,
      threshold: false,
      message: photo.props
        ? 'the photo shows props or accessories that are not part of the product; remove them'
        : 'no props',
    });
  }
  if (checks.not_placeholder) {
    results.push({
      id: 'not_placeholder',
      passed: !photo.placeholder,
      value: photo.placeholder,
      threshold: false,
      message: photo.placeholder
        ? 'the image is a placeholder, drawing or stock artwork, not a photo of the item'
        : 'a photo of the item',
    });
  }
  return results;
}

function round(value: number, digits = 3): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
