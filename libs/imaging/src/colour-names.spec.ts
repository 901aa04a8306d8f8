import { COLOUR_PALETTE, deltaE, hexToRgb, nearestColourName, rgbToHex, rgbToLab } from './colour-names';

describe('rgbToLab', () => {
  it('puts sRGB white at L*100 and black at L*0 with no colour', () => {
    const white = rgbToLab({ r: 255, g: 255, b: 255 });
    expect(white.l).toBeCloseTo(100, 3);
    expect(white.a).toBeCloseTo(0, 3);
    expect(white.b).toBeCloseTo(0, 3);
    expect(rgbToLab({ r: 0, g: 0, b: 0 })).toEqual({ l: 0, a: 0, b: 0 });
  });

  it('matches published CIELAB values for the sRGB primaries', () => {
    const red = rgbToLab(hexToRgb('#ff0000'));
    expect([red.l, red.a, red.b].map((v) => Math.round(v * 10) / 10)).toEqual([53.2, 80.1, 67.2]);
    const blue = rgbToLab(hexToRgb('#0000ff'));
    expect([blue.l, blue.a, blue.b].map((v) => Math.round(v * 10) / 10)).toEqual([32.3, 79.2, -107.9]);
  });
});

describe('deltaE', () => {
  it('is zero for the same colour and symmetric', () => {
    const p = rgbToLab(hexToRgb('#336699'));
    const q = rgbToLab(hexToRgb('#996633'));
    expect(deltaE(p, p)).toBe(0);
    expect(deltaE(p, q)).toBeCloseTo(deltaE(q, p), 10);
  });
});

describe('hex conversion', () => {
  it('round-trips and writes lowercase', () => {
    expect(rgbToHex(hexToRgb('#CC2222'))).toBe('#cc2222');
    expect(rgbToHex({ r: 300, g: -4, b: 127.6 })).toBe('#ff0080');
  });

  it('rejects anything but #rrggbb', () => {
    expect(() => hexToRgb('#fff')).toThrow(/#rrggbb/);
    expect(() => hexToRgb('red')).toThrow(/#rrggbb/);
  });
});

describe('nearestColourName', () => {
  it('names every palette anchor by its own name', () => {
    for (const entry of COLOUR_PALETTE) expect(nearestColourName(hexToRgb(entry.hex))).toBe(entry.name);
  });

  it('has about thirty distinct names', () => {
    const names = new Set(COLOUR_PALETTE.map((entry) => entry.name));
    expect(names.size).toBeGreaterThanOrEqual(28);
    for (const name of [
      'black',
      'white',
      'grey',
      'red',
      'navy',
      'beige',
      'olive',
      'teal',
      'lavender',
      'khaki',
    ]) {
      expect(names).toContain(name);
    }
  });

  it.each([
    ['#cc2222', 'red'],
    ['#ff0000', 'red'],
    ['#0000ff', 'blue'],
    ['#4169e1', 'blue'],
    ['#000080', 'navy'],
    ['#1b2a4a', 'navy'],
    ['#000000', 'black'],
    ['#fafafa', 'white'],
    ['#7f7f7f', 'grey'],
    ['#ffa500', 'orange'],
    ['#ffff00', 'yellow'],
    ['#228b22', 'green'],
    ['#8b4513', 'brown'],
    ['#808000', 'olive'],
    ['#ffc0cb', 'pink'],
    ['#ff00ff', 'magenta'],
    ['#e1c699', 'beige'],
  ])('calls %s %s', (hex, name) => {
    expect(nearestColourName(hexToRgb(hex))).toBe(name);
  });

  it('accepts Lab as well as RGB', () => {
    expect(nearestColourName(rgbToLab(hexToRgb('#cc2222')))).toBe('red');
  });
});
