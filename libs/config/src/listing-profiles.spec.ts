import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadListingProfiles } from './listing-profiles';

function file(content: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'argus-profiles-')), 'profiles.yaml');
  writeFileSync(path, content);
  return path;
}

describe('loadListingProfiles', () => {
  it('ships marketplace-main as the default and marketplace-secondary', () => {
    const profiles = loadListingProfiles({});
    expect(profiles.defaultName).toBe('marketplace-main');
    expect(profiles.names).toEqual(['marketplace-main', 'marketplace-secondary']);
    expect(profiles.get('marketplace-main')?.checks.fill_ratio).toEqual({ min: 0.85 });
    expect(profiles.get('marketplace-main')?.checks).toMatchObject({
      single_product: { maxProducts: 1 },
      no_props: {},
      not_placeholder: {},
    });
    expect(profiles.get('marketplace-secondary')?.checks).toMatchObject({ not_placeholder: {} });
    expect(profiles.get('marketplace-secondary')?.checks.no_props).toBeUndefined();
  });

  it('loads a replacement file and names the bad field of a broken one', () => {
    const good = file(
      'version: 1\ndefault: shop\nprofiles:\n  shop:\n    description: x\n    checks:\n      min_resolution: { min: 600 }\n',
    );
    expect(loadListingProfiles({ ARGUS_LISTING_PROFILES: good }).names).toEqual(['shop']);
    const typo = file(
      'version: 1\ndefault: shop\nprofiles:\n  shop:\n    description: x\n    checks:\n      fill_ration: { min: 1 }\n',
    );
    expect(() => loadListingProfiles({ ARGUS_LISTING_PROFILES: typo })).toThrow(/profiles\.shop\.checks/);
    const noDefault = file(
      'version: 1\ndefault: nope\nprofiles:\n  shop:\n    description: x\n    checks: {}\n',
    );
    expect(() => loadListingProfiles({ ARGUS_LISTING_PROFILES: noDefault })).toThrow(/default/);
  });
});
