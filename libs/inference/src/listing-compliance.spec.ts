import { loadListingProfiles } from '@argus/config';
import type { PhotoAssessment } from '@argus/contracts';
import type { ImageMeasurements, ListingMeasurements } from '@argus/imaging';
import { evaluateCompliance, modelCheckIds, overlayWords } from './listing-compliance';

const profiles = loadListingProfiles({});
const main = profiles.get('marketplace-main')!;
const secondary = profiles.get('marketplace-secondary')!;

const measured = (overrides: Partial<ImageMeasurements> = {}): ImageMeasurements => ({
  width: 1600,
  height: 1600,
  dominantColours: [],
  exposure: { meanLuminance: 0.7, shadowsClipped: 0, highlightsClipped: 0.1, verdict: 'ok' },
  sharpness: { laplacianVariance: 400, verdict: 'ok' },
  ...overrides,
});

const listing = (overrides: Partial<ListingMeasurements> = {}): ListingMeasurements => ({
  width: 1600,
  height: 1600,
  backgroundWhiteShare: 0.99,
  productBox: { x: 80, y: 80, width: 1440, height: 1440 },
  fillRatio: 0.9,
  border: { detected: false, widthPx: 0, hex: null },
  ...overrides,
});

const check = (id: string, result: ReturnType<typeof evaluateCompliance>) =>
  result.checks.find((c) => c.id === id)!;

describe('evaluateCompliance', () => {
  it('passes a clean packshot on the main-image profile and lists every check', () => {
    const result = evaluateCompliance('marketplace-main', main, measured(), listing());
    expect(result).toMatchObject({ profile: 'marketplace-main', passed: true });
    expect(result.checks.map((c) => c.id)).toEqual([
      'background_white',
      'fill_ratio',
      'min_resolution',
      'sharpness',
      'exposure',
      'border',
      'text_overlay',
    ]);
  });

  it.each([
    ['background_white', listing({ backgroundWhiteShare: 0.899 }), measured(), false],
    ['background_white', listing({ backgroundWhiteShare: 0.9 }), measured(), true],
    ['fill_ratio', listing({ fillRatio: 0.849 }), measured(), false],
    ['fill_ratio', listing({ fillRatio: 0.85 }), measured(), true],
    ['min_resolution', listing({ width: 999, height: 800 }), measured(), false],
    ['min_resolution', listing({ width: 1000, height: 800 }), measured(), true],
    ['sharpness', listing(), measured({ sharpness: { laplacianVariance: 99.9, verdict: 'blurry' } }), false],
    ['sharpness', listing(), measured({ sharpness: { laplacianVariance: 100, verdict: 'ok' } }), true],
    [
      'exposure',
      listing(),
      measured({
        exposure: { meanLuminance: 0.1, shadowsClipped: 0.4, highlightsClipped: 0, verdict: 'under' },
      }),
      false,
    ],
    ['border', listing({ border: { detected: true, widthPx: 30, hex: '#000000' } }), measured(), false],
  ])('%s: decides at the threshold edge (case %#)', (id, listed, image, passed) => {
    const result = evaluateCompliance('marketplace-main', main, image, listed);
    expect(check(id, result).passed).toBe(passed);
    expect(result.passed).toBe(passed);
    expect(check(id, result).message.length).toBeGreaterThan(0);
  });

  it('leaves out what the secondary profile does not check', () => {
    const result = evaluateCompliance(
      'marketplace-secondary',
      secondary,
      measured(),
      listing({ backgroundWhiteShare: 0, fillRatio: 0.4 }),
    );
    expect(result.passed).toBe(true);
    expect(result.checks.map((c) => c.id)).not.toContain('background_white');
    expect(check('fill_ratio', result)).toMatchObject({ passed: true, value: 0.4, threshold: 0.3 });
  });
});

describe('text over the background', () => {
  const productBox = { x: 100, y: 100, width: 800, height: 800 };
  const word = (text: string, x: number, y: number) => ({ text, box: { x, y, width: 60, height: 20 } });

  it('counts words outside the product and ignores printing on it', () => {
    expect(
      overlayWords([word('ACME', 400, 400), word('SALE', 920, 20), word('-50%', 980, 20)], productBox),
    ).toEqual(['SALE', '-50%']);
    expect(overlayWords([word('ACME', 400, 400)], null)).toEqual(['ACME']);
  });

  it('does not fail a photo it could not read in time, and says so', () => {
    const result = evaluateCompliance('marketplace-main', main, measured(), listing(), 'unreadable');
    expect(check('text_overlay', result)).toMatchObject({ passed: true, value: 'not_checked' });
  });

  it('fails the main profile on overlay text and quotes it', () => {
    const result = evaluateCompliance('marketplace-main', main, measured(), listing(), ['SALE', '-50%']);
    expect(check('text_overlay', result)).toMatchObject({ passed: false, value: 2, threshold: 0 });
    expect(check('text_overlay', result).message).toContain('"SALE -50%"');
    expect(result.passed).toBe(false);
  });
});

describe('vision-model checks', () => {
  const photo = (overrides: Partial<PhotoAssessment> = {}): PhotoAssessment => ({
    productCount: 1,
    props: false,
    placeholder: false,
    ...overrides,
  });

  it('are left out without a model look, and named by modelCheckIds', () => {
    const result = evaluateCompliance('marketplace-main', main, measured(), listing(), [], null);
    expect(result.checks.map((c) => c.id)).not.toContain('single_product');
    expect(modelCheckIds(main)).toEqual(['single_product', 'no_props', 'not_placeholder']);
    expect(modelCheckIds(secondary)).toEqual(['not_placeholder']);
  });

  it('pass one real product without props, after the measured checks', () => {
    const result = evaluateCompliance('marketplace-main', main, measured(), listing(), [], photo());
    expect(result.passed).toBe(true);
    expect(result.checks.map((c) => c.id).slice(-3)).toEqual([
      'single_product',
      'no_props',
      'not_placeholder',
    ]);
    expect(check('single_product', result)).toMatchObject({ value: 1, threshold: 1, passed: true });
  });

  it.each([
    ['single_product', photo({ productCount: 2 }), 2],
    ['no_props', photo({ props: true }), true],
    ['not_placeholder', photo({ placeholder: true }), true],
  ])('%s fails with the value the model gave', (id, assessment, value) => {
    const result = evaluateCompliance('marketplace-main', main, measured(), listing(), [], assessment);
    expect(check(id, result)).toMatchObject({ passed: false, value });
    expect(check(id, result).message.length).toBeGreaterThan(10);
    expect(result.passed).toBe(false);
  });

  it('runs only what the profile turns on: the secondary profile allows props and several products', () => {
    const result = evaluateCompliance(
      'marketplace-secondary',
      secondary,
      measured(),
      listing({ fillRatio: 0.5 }),
      [],
      photo({ productCount: 3, props: true }),
    );
    expect(result.passed).toBe(true);
    expect(result.checks.map((c) => c.id)).toEqual([
      'fill_ratio',
      'min_resolution',
      'sharpness',
      'exposure',
      'border',
      'not_placeholder',
    ]);
  });
});
