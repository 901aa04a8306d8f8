import type { TaggingResult } from '@argus/contracts';
import { loadListingProfiles } from '@argus/config';
import type { ImageMeasurements, ListingMeasurements } from '@argus/imaging';
import { ImageContext } from '@argus/inference';
import { ArgusMetrics } from '@argus/telemetry';
import { listingCompliance, taggingTask, textMargin, type TaggingRequestOptions } from './task';

const measured: ImageMeasurements = {
  width: 1600,
  height: 1600,
  dominantColours: [{ name: 'navy', hex: '#1c2a4d', share: 0.8 }],
  exposure: { meanLuminance: 0.7, shadowsClipped: 0, highlightsClipped: 0.1, verdict: 'ok' },
  sharpness: { laplacianVariance: 400, verdict: 'ok' },
};

const listing: ListingMeasurements = {
  width: 1600,
  height: 1600,
  backdrop: { kind: 'plain', hex: '#ffffff' },
  backgroundWhiteShare: 0.99,
  productBox: { x: 80, y: 80, width: 1440, height: 1440 },
  fillRatio: 0.9,
  border: { detected: false, widthPx: 0, hex: null },
  sharpness: measured.sharpness,
  exposure: measured.exposure,
};

const profiles = loadListingProfiles({});

/** The options as the tagging definition resolves them for a request naming `profile` (or none). */
const request = (profile?: string): TaggingRequestOptions => {
  const name = profile ?? profiles.defaultName;
  const entry = profiles.get(name);
  if (!entry) throw new Error(`no profile ${name}`);
  return { listingProfile: { name, profile: entry } };
};

const tagging = (photo: TaggingResult['photo']): TaggingResult => ({
  category: photo ? 'grocery/beverages/water' : null,
  attributes: {},
  attributeSources: {},
  customAttributes: null,
  colours: measured.dominantColours,
  quality: {
    width: 1600,
    height: 1600,
    exposure: measured.exposure,
    sharpness: measured.sharpness,
  },
  condition: null,
  defects: [],
  photo,
  confidence: null,
});

function postprocessor() {
  return listingCompliance(
    {
      measureListing: () => Promise.resolve(listing),
      decodeForMeasurement: () => Promise.reject(new Error('not used by the fake')),
    },
    () => Promise.resolve([]),
  );
}

const IMAGE = ImageContext.of(Buffer.from('img'));

describe('listing compliance (tagging after routing)', () => {
  it('adds the vision-model checks when a GPU tier looked at the photo, and leaves needsGpuTier alone', async () => {
    const extra = await postprocessor().run(
      IMAGE,
      request(),
      tagging({ productCount: 2, props: true, placeholder: false }),
      [],
    );
    expect(extra.needsGpuTier).toBeUndefined();
    expect(extra.compliance.passed).toBe(false);
    expect(extra.compliance.checks.filter((check) => !check.passed).map((check) => check.id)).toEqual([
      'single_product',
      'no_props',
    ]);
    expect(extra.compliance.checks.find((check) => check.id === 'single_product')).toMatchObject({
      value: 2,
      threshold: 1,
    });
  });

  it("on the CPU tier leaves them out and adds them to the engine's needsGpuTier", async () => {
    const extra = await postprocessor().run(IMAGE, request(), tagging(null), ['category', 'defects']);
    expect(extra.compliance.checks.map((check) => check.id)).not.toContain('single_product');
    expect(extra.compliance.passed).toBe(true);
    expect(extra.needsGpuTier).toEqual([
      'category',
      'defects',
      'compliance.single_product',
      'compliance.no_props',
      'compliance.not_placeholder',
    ]);
  });

  it("names only the profile's model checks", async () => {
    const extra = await postprocessor().run(IMAGE, request('marketplace-secondary'), tagging(null), [
      'category',
    ]);
    expect(extra.needsGpuTier).toEqual(['category', 'compliance.not_placeholder']);
  });
});

describe('the tagging definition', () => {
  const runtime = () =>
    taggingTask(() => profiles).boot({
      processor: {} as never,
      runtimes: {} as never,
      metrics: new ArgusMetrics('tagging'),
    });

  it("resolves the request's profile, or the file's default, and refuses an unknown one", () => {
    expect(runtime().resolve({}).listingProfile.name).toBe(profiles.defaultName);
    expect(runtime().resolve({ tagging: { profile: 'marketplace-secondary' } }).listingProfile.name).toBe(
      'marketplace-secondary',
    );
    expect(() => runtime().resolve({ tagging: { profile: 'nope' } })).toThrow(/unknown/);
  });

  it('fingerprints what changes the answer (categories, schemas, listing), not the profile', () => {
    const task = runtime();
    const plain = task.fingerprint(task.resolve({}));
    expect(plain).toBe('');
    expect(task.fingerprint(task.resolve({ tagging: { profile: 'marketplace-secondary' } }))).toBe(plain);
    const listed = task.fingerprint(task.resolve({ tagging: { listing: { colour: 'red' } } }));
    expect(listed).not.toBe(plain);
    expect(task.fingerprint(task.resolve({ tagging: { listing: { colour: 'blue' } } }))).not.toBe(listed);
  });
});

describe('textMargin', () => {
  it('widens a word box by a quarter of its height each side and a tenth above and below', () => {
    expect(textMargin({ x: 100, y: 200, width: 300, height: 80 })).toEqual({
      x: 80,
      y: 192,
      width: 340,
      height: 96,
    });
  });

  it('stops at the image edge', () => {
    expect(textMargin({ x: 5, y: 2, width: 50, height: 40 })).toEqual({ x: 0, y: 0, width: 65, height: 46 });
  });
});
