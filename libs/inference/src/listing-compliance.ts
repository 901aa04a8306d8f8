import type { ListingCompliance } from '@argus/contracts';
import type { ListingProfile } from '@argus/config';
import type { ImageMeasurements, ListingMeasurements } from '@argus/imaging';

type Check = ListingCompliance['checks'][number];

const pct = (value: number) => `${Math.round(value * 100)}%`;

/**
 * Listing-photo compliance: deterministic checks of measured values against a profile's thresholds. Each check
 * says what was measured, the threshold, and in words what to fix.
 */
export function evaluateCompliance(
  profileName: string,
  profile: ListingProfile,
  measured: ImageMeasurements,
  listing: ListingMeasurements,
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
  if (checks.background_white) {
    atLeast(
      'background_white',
      round(listing.backgroundWhiteShare),
      checks.background_white.min,
      (value) => `${pct(value)} of the background is pure white`,
      (value, min) => `only ${pct(value)} of the background is pure white; at least ${pct(min)} is required`,
    );
  }
  if (checks.fill_ratio) {
    atLeast(
      'fill_ratio',
      round(listing.fillRatio),
      checks.fill_ratio.min,
      (value) => `the product fills ${pct(value)} of the frame`,
      (value, min) =>
        `the product fills ${pct(value)} of the frame; crop or zoom so it fills at least ${pct(min)}`,
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
    atLeast(
      'sharpness',
      round(measured.sharpness.laplacianVariance, 1),
      checks.sharpness.min,
      () => 'the photo is sharp',
      (value, min) => `the photo looks blurred (sharpness ${value}, at least ${min} needed)`,
    );
  }
  if (checks.exposure) {
    const { allowed } = checks.exposure;
    const value = measured.exposure.verdict;
    results.push({
      id: 'exposure',
      passed: allowed.includes(value),
      value,
      threshold: allowed.join('|'),
      message:
        value === 'ok'
          ? 'exposure is fine'
          : `the photo is ${value}exposed (mean luminance ${pct(measured.exposure.meanLuminance)})`,
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
  return { profile: profileName, passed: results.every((check) => check.passed), checks: results };
}

function round(value: number, digits = 3): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
