import { COLOUR_PALETTE } from '@argus/imaging';
import { COLOUR_FAMILIES, colourWordsToPalette, sameColourFamily } from './colour-words';

describe('colourWordsToPalette', () => {
  it.each([
    ['navy blue', ['navy']],
    ['Navy', ['navy']],
    ['Off-White', ['cream']],
    ['grey/gray', ['grey']],
    ['Heather Gray', ['grey']],
    ['light grey', ['silver']],
    ['burgundy', ['maroon']],
    ['Black & White', ['black', 'white']],
    ['red and royal blue', ['red', 'blue']],
    ['dark green', ['dark green']],
    ['Crème', ['cream']],
    ['matte black colour', ['black']],
  ])('%s → %j', (text, names) => {
    expect(colourWordsToPalette(text)).toEqual({ names, unrecognised: [] });
  });

  it('returns the parts it cannot read as unrecognised', () => {
    expect(colourWordsToPalette('multicolour / sparkle red')).toEqual({
      names: ['red'],
      unrecognised: ['multicolour'],
    });
    expect(colourWordsToPalette('assorted')).toEqual({ names: [], unrecognised: ['assorted'] });
    expect(colourWordsToPalette('clear, blue')).toEqual({ names: ['blue'], unrecognised: ['clear'] });
  });
});

describe('colour families', () => {
  it('put every palette name in at least one family, and only palette names', () => {
    const palette = new Set(COLOUR_PALETTE.map((entry) => entry.name));
    const members = new Set(Object.values(COLOUR_FAMILIES).flat());
    for (const name of palette) expect(members).toContain(name);
    for (const name of members) expect(palette).toContain(name);
  });

  it.each([
    ['navy', 'blue', true],
    ['blue', 'navy', true],
    ['cream', 'white', true],
    ['maroon', 'red', true],
    ['navy', 'red', false],
    ['white', 'grey', false],
    ['black', 'navy', false],
  ])('%s and %s: %s', (a, b, same) => {
    expect(sameColourFamily(a, b)).toBe(same);
  });
});
