import { loadListingProfiles } from '@argus/config';
import type { PhotoAssessment } from '@argus/contracts';
import type { ListingMeasurements } from '@argus/imaging';
import { evaluateCompliance, modelCheckIds, overlayWords } from './listing-compliance';

const profiles = loadListingProfiles({});
const main = profiles.get('marketplace-main')!;
const secondary = profiles.get('marketplace-secondary')!;

const listing = (overrides: Partial<ListingMeasurements> = {}): ListingMeasurements => ({
  width: 1600,
  height: 1600,
  backdrop: { kind: 'plain', hex: '#ffffff' },
  backgroundWhiteShare: 0.99,
  productBox: { x: 80, y: 80, width: 1440, height: 1440 },
  fillRatio: 0.9,
  border: { detected: false, widthPx: 0, hex: null },
  sharpness: { laplacianVariance: 400, verdict: 'ok' },
  exposure: { meanLuminance: 0.7, shadowsClipped: 0, highlightsClipped: 0.1, verdict: 'ok' },
  ...overrides,
});

/** What the imaging library measures on a photo with no plain backdrop (a scene, clutter, a full-frame photo). */
const scene = (): ListingMeasurements =>
  listing({ backdrop: { kind: 'none', hex: null }, backgroundWhiteShare: 0, productBox: null, fillRatio: 0 });

const check = (id: string, result: ReturnType<typeof evaluateCompliance>) =>
  result.checks.find((c) => c.id === id)!;

describe('evaluateCompliance', () => {
  it('passes a clean packshot on the main-image profile and lists every check', () => {
    const result = evaluateCompliance('marketplace-main', main, listing());
    expect(result).toMatchObject({ profile: 'marketplace-main', passed: true });
    expect(result.checks.map((c) => c.id)).toEqual([
      'background_white',
      'fill_ratio',
      'min_resolution',
      'sharpness',
      'exposure',
      'border',
      'text_overlay',
      'no_person',
    ]);
  });

  it.each([
    ['background_white', listing({ backgroundWhiteShare: 0.899 }), false],
    ['background_white', listing({ backgroundWhiteShare: 0.9 }), true],
    ['fill_ratio', listing({ fillRatio: 0.849 }), false],
    ['fill_ratio', listing({ fillRatio: 0.85 }), true],
    ['min_resolution', listing({ width: 999, height: 800 }), false],
    ['min_resolution', listing({ width: 1000, height: 800 }), true],
    ['sharpness', listing({ sharpness: { laplacianVariance: 49.9, verdict: 'blurry' } }), false],
    ['sharpness', listing({ sharpness: { laplacianVariance: 50, verdict: 'blurry' } }), true],
    [
      'exposure',
      listing({
        exposure: { meanLuminance: 0.1, shadowsClipped: 0.4, highlightsClipped: 0, verdict: 'under' },
      }),
      false,
    ],
    ['border', listing({ border: { detected: true, widthPx: 30, hex: '#000000' } }), false],
  ])('%s: decides at the threshold edge (case %#)', (id, listed, passed) => {
    const result = evaluateCompliance('marketplace-main', main, listed);
    expect(check(id, result).passed).toBe(passed);
    expect(result.passed).toBe(passed);
    expect(check(id, result).message.length).toBeGreaterThan(0);
  });

  it('leaves out what the secondary profile does not check', () => {
    const result = evaluateCompliance(
      'marketplace-secondary',
      secondary,
      listing({ backgroundWhiteShare: 0, fillRatio: 0.4 }),
    );
    expect(result.passed).toBe(true);
    expect(result.checks.map((c) => c.id)).not.toContain('background_white');
    expect(check('fill_ratio', result)).toMatchObject({ passed: true, value: 0.4, threshold: 0.3 });
  });
});

describe('the backdrop and the product, as measured on real photos', () => {
  it('fails a photo with no plain backdrop on background_white with a message saying so, never "100% white"', () => {
    const result = evaluateCompliance('marketplace-main', main, scene());
    expect(check('background_white', result)).toMatchObject({ passed: false, value: 0, threshold: 0.9 });
    expect(check('background_white', result).message).toMatch(/^no plain backdrop was found/);
    expect(check('background_white', result).message).not.toMatch(/% of the background is pure white/);
  });

  it('does not call a cluttered scene "filled by the product": main fails it, secondary lets it pass unmeasured', () => {
    const onMain = check('fill_ratio', evaluateCompliance('marketplace-main', main, scene()));
    expect(onMain).toMatchObject({ passed: false, value: 'no_product', threshold: 0.85 });
    expect(onMain.message).toMatch(/^no product could be separated from a plain backdrop/);
    const onSecondary = check('fill_ratio', evaluateCompliance('marketplace-secondary', secondary, scene()));
    expect(onSecondary).toMatchObject({ passed: true, value: 'no_product', threshold: 0.3 });
    expect(onSecondary.message).toMatch(/^not measured: /);
  });

  it('says so when the backdrop is plain but holds no product (a blank frame)', () => {
    const blank = listing({ productBox: null, fillRatio: 0, backgroundWhiteShare: 1 });
    const result = evaluateCompliance('marketplace-main', main, blank);
    expect(check('fill_ratio', result)).toMatchObject({ passed: false, value: 0 });
    expect(check('fill_ratio', result).message).toMatch(/^no product was found on the backdrop/);
  });

  it('names an off-white backdrop in the message, and fails it', () => {
    const result = evaluateCompliance(
      'marketplace-main',
      main,
      listing({ backdrop: { kind: 'plain', hex: '#e8e8e4' }, backgroundWhiteShare: 0 }),
    );
    expect(check('background_white', result)).toMatchObject({
      passed: false,
      value: 0,
      message: 'only 0% of the background is pure white (the backdrop is #e8e8e4); at least 90% is required',
    });
  });

  it('counts a transparent backdrop as white, as shops display it, and says so', () => {
    const result = evaluateCompliance(
      'marketplace-main',
      main,
      listing({ backdrop: { kind: 'transparent', hex: '#ffffff' }, backgroundWhiteShare: 1 }),
    );
    expect(check('background_white', result)).toMatchObject({ passed: true, value: 1 });
    expect(check('background_white', result).message).toContain('transparent, counted as white');
  });

  it("judges sharpness and exposure from the product's measurements, not the whole photo's", () => {
    const result = evaluateCompliance(
      'marketplace-main',
      main,
      listing({ sharpness: { laplacianVariance: 300, verdict: 'ok' } }),
    );
    expect(check('sharpness', result)).toMatchObject({
      passed: true,
      value: 300,
      message: 'the product is sharp',
    });
    expect(check('exposure', result)).toMatchObject({ passed: true, value: 'ok' });
    const noProduct = evaluateCompliance('marketplace-main', main, {
      ...scene(),
      sharpness: { laplacianVariance: 10, verdict: 'blurry' },
    });
    expect(check('sharpness', noProduct).message).toBe(
      'the photo looks blurred (sharpness 10, at least 50 needed)',
    );
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
    const result = evaluateCompliance('marketplace-main', main, listing(), 'unreadable');
    expect(check('text_overlay', result)).toMatchObject({ passed: true, value: 'not_checked' });
  });

  it('fails the main profile on overlay text and quotes it', () => {
    const result = evaluateCompliance('marketplace-main', main, listing(), ['SALE', '-50%']);
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
    const result = evaluateCompliance('marketplace-main', main, listing(), [], null);
    expect(result.checks.map((c) => c.id)).not.toContain('single_product');
    expect(modelCheckIds(main)).toEqual(['single_product', 'no_props', 'not_placeholder']);
    expect(modelCheckIds(secondary)).toEqual(['not_placeholder']);
  });

  it('pass one real product without props, after the measured checks', () => {
    const result = evaluateCompliance('marketplace-main', main, listing(), [], photo());
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
    const result = evaluateCompliance('marketplace-main', main, listing(), [], assessment);
    expect(check(id, result)).toMatchObject({ passed: false, value });
    expect(check(id, result).message.length).toBeGreaterThan(10);
    expect(result.passed).toBe(false);
  });

  it('runs only what the profile turns on: the secondary profile allows props and several products', () => {
    const result = evaluateCompliance(
      'marketplace-secondary',
      secondary,
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
