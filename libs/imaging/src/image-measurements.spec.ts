import {
  BLUR_THRESHOLD,
  dominantColours,
  laplacianVariance,
  MAX_COLOURS,
  measureExposure,
  measureSharpness,
} from './image-measurements';

/** Packed RGB made of horizontal bands, each `rows` rows of one colour, 10 px wide. */
function bands(...spec: Array<[rgb: [number, number, number], rows: number]>): Uint8Array {
  const width = 10;
  const out: number[] = [];
  for (const [rgb, rows] of spec) for (let i = 0; i < rows * width; i++) out.push(...rgb);
  return Uint8Array.from(out);
}

describe('dominantColours', () => {
  it('returns one colour for a flat image, with its exact hex', () => {
    expect(dominantColours(bands([[204, 34, 34], 10]))).toEqual([{ name: 'red', hex: '#cc2222', share: 1 }]);
  });

  it('orders by share and reports each share', () => {
    const colours = dominantColours(bands([[28, 42, 77], 30], [[220, 199, 161], 60], [[46, 139, 58], 10]));
    expect(colours).toEqual([
      { name: 'beige', hex: '#dcc7a1', share: 0.6 },
      { name: 'navy', hex: '#1c2a4d', share: 0.3 },
      { name: 'green', hex: '#2e8b3a', share: 0.1 },
    ]);
  });

  it('leaves out colours under 3 % of the area', () => {
    const colours = dominantColours(bands([[255, 255, 255], 98], [[255, 0, 0], 2]));
    expect(colours.map((c) => c.name)).toEqual(['white']);
  });

  it('merges shades a shopper would call one colour', () => {
    const colours = dominantColours(bands([[200, 30, 30], 50], [[206, 36, 36], 50]));
    expect(colours).toHaveLength(1);
    expect(colours[0]).toMatchObject({ name: 'red', share: 1 });
  });

  it(`reports at most ${MAX_COLOURS} colours`, () => {
    const palette: Array<[number, number, number]> = [
      [0, 0, 0],
      [255, 255, 255],
      [220, 30, 30],
      [30, 160, 60],
      [30, 80, 200],
      [250, 220, 20],
      [140, 40, 150],
      [240, 130, 20],
    ];
    const colours = dominantColours(bands(...palette.map((rgb, i): [typeof rgb, number] => [rgb, 10 + i])));
    expect(colours).toHaveLength(MAX_COLOURS);
    const shares = colours.map((c) => c.share);
    expect(shares).toEqual([...shares].sort((a, b) => b - a));
  });

  it('is deterministic', () => {
    const pixels = Uint8Array.from({ length: 64 * 64 * 3 }, (_, i) => (i * 2654435761) % 251);
    expect(dominantColours(pixels)).toEqual(dominantColours(pixels));
  });

  it('returns nothing for no pixels', () => {
    expect(dominantColours(new Uint8Array(0))).toEqual([]);
  });
});

describe('measureExposure', () => {
  const grey = (...spec: Array<[level: number, count: number]>) =>
    Uint8Array.from(spec.flatMap(([level, count]) => Array<number>(count).fill(level)));

  it('measures mean and clipping against the 2 % and 98 % levels', () => {
    const measured = measureExposure(grey([5, 10], [6, 10], [249, 10], [250, 10], [128, 60]));
    expect(measured.shadowsClipped).toBe(0.1);
    expect(measured.highlightsClipped).toBe(0.1);
    expect(measured.meanLuminance).toBeCloseTo((5 + 6 + 249 + 250 + 6 * 128) / 10 / 255, 3);
    expect(measured.verdict).toBe('ok');
  });

  it.each([
    ['a dark image', grey([30, 100]), 'under'],
    ['crushed shadows with nothing bright', grey([0, 40], [100, 60]), 'under'],
    ['a near-white image', grey([240, 50], [255, 50]), 'over'],
    ['blown highlights with nothing dark', grey([255, 40], [160, 60]), 'over'],
    ['a packshot on pure white', grey([255, 60], [60, 25], [120, 15]), 'ok'],
    ['black text on white paper', grey([255, 92], [20, 8]), 'ok'],
    ['white text on black', grey([0, 92], [240, 8]), 'ok'],
    ['a white item on white', grey([255, 70], [200, 29], [100, 1]), 'over'],
    ['a product on pure black with highlights', grey([0, 50], [180, 30], [90, 20]), 'ok'],
    ['mid grey', grey([128, 100]), 'ok'],
  ])('calls %s %s', (_name, pixels, verdict) => {
    expect(measureExposure(pixels).verdict).toBe(verdict);
  });
});

describe('laplacianVariance', () => {
  it('is zero on a flat or linear ramp image', () => {
    expect(laplacianVariance(new Uint8Array(100).fill(77), 10, 10)).toBe(0);
    const ramp = Uint8Array.from({ length: 100 }, (_, i) => (i % 10) * 20);
    expect(laplacianVariance(ramp, 10, 10)).toBe(0);
  });

  it('is large on a checkerboard', () => {
    const board = Uint8Array.from({ length: 100 }, (_, i) =>
      ((i % 10) + Math.floor(i / 10)) % 2 === 0 ? 0 : 255,
    );
    // Every interior response is ±1020 and they alternate, so the variance is 1020².
    expect(laplacianVariance(board, 10, 10)).toBe(1020 * 1020);
    expect(measureSharpness(board, 10, 10).verdict).toBe('ok');
  });

  it('needs at least 3×3 pixels', () => {
    expect(laplacianVariance(new Uint8Array(4), 2, 2)).toBe(0);
    expect(measureSharpness(new Uint8Array(4), 2, 2)).toEqual({ laplacianVariance: 0, verdict: 'blurry' });
  });

  it('calls a soft ramp blurry and a hard edge sharp', () => {
    const soft = Uint8Array.from({ length: 400 }, (_, i) => Math.round(128 + 100 * Math.sin((i % 20) / 6)));
    expect(laplacianVariance(soft, 20, 20)).toBeLessThan(BLUR_THRESHOLD);
    const edge = Uint8Array.from({ length: 400 }, (_, i) => (i % 20 < 10 ? 20 : 230));
    expect(measureSharpness(edge, 20, 20).laplacianVariance).toBeGreaterThan(BLUR_THRESHOLD);
  });
});
