import type { People } from '@argus/contracts';
import { listingProfileSchema, loadListingProfiles, type ListingProfile } from '@argus/config';
import type { ImageMeasurements, ListingMeasurements } from '@argus/imaging';
import { evaluateCompliance, personCheck } from './listing-compliance';

const profile = (maxFaces: number): ListingProfile => ({
  description: 'main image',
  checks: { no_person: { maxFaces } },
});

const people = (faces: number): People => ({
  faces,
  boxes: Array.from({ length: faces }, (_, index) => ({
    x: index * 100,
    y: 50,
    width: 80,
    height: 96,
    confidence: 0.9,
  })),
  engine: 'blazeface',
});

describe('the no_person listing check', () => {
  it('passes a photo without faces and fails one with a face, saying what to fix', () => {
    expect(personCheck(profile(0), people(0))).toEqual({
      id: 'no_person',
      passed: true,
      value: 0,
      threshold: 0,
      message: 'no person in the photo',
    });
    expect(personCheck(profile(0), people(1))).toEqual({
      id: 'no_person',
      passed: false,
      value: 1,
      threshold: 0,
      message: 'the photo shows a person (1 face); show the product alone in the main image',
    });
  });

  it('allows up to maxFaces', () => {
    expect(personCheck(profile(1), people(1))).toMatchObject({ passed: true, value: 1 });
    expect(personCheck(profile(1), people(3))).toMatchObject({
      passed: false,
      message: 'the photo shows people (3 faces); at most 1 allowed',
    });
  });

  it('is not run when the profile leaves it out', () => {
    expect(personCheck({ description: 'further images', checks: {} }, people(2))).toBeUndefined();
  });

  it('reports not_checked, and passes, when the detector gave no answer', () => {
    for (const missing of [null, undefined]) {
      expect(personCheck(profile(0), missing)).toEqual({
        id: 'no_person',
        passed: true,
        value: 'not_checked',
        threshold: 0,
        message: 'not checked: the face detector gave no answer for this photo',
      });
    }
  });

  it('fails the whole compliance answer when a person is in the main image', () => {
    // A profile with only this check reads no measurement, so none is given.
    const none = {} as ImageMeasurements & ListingMeasurements;
    const compliance = evaluateCompliance('main', profile(0), none, [], null, people(2));
    expect(compliance).toMatchObject({ profile: 'main', passed: false });
    expect(compliance.checks.map((check) => [check.id, check.passed, check.value])).toEqual([
      ['no_person', false, 2],
    ]);
  });

  it('is on in the shipped marketplace-main profile and off in marketplace-secondary', () => {
    const profiles = loadListingProfiles({});
    expect(profiles.get('marketplace-main')?.checks.no_person).toEqual({ maxFaces: 0 });
    expect(profiles.get('marketplace-secondary')?.checks.no_person).toBeUndefined();
    expect(() =>
      listingProfileSchema.parse({ description: 'x', checks: { no_person: { maxFaces: -1 } } }),
    ).toThrow();
  });
});
