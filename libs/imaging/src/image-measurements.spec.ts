import {
  BLUR_THRESHOLD,
  dominantColours,
  laplacianVariance,
  MAX_COLOURS,
  measureExposure,
  measureRegionSharpness,
  measureSharpness,
  subjectGrey,
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

  it("judges the missing dark tones on the product's own pixels when given them", () => {
    // A thin dark tool on white: 1 % of the frame, so the frame alone looks washed out; the tool has its dark tones.
    const frame = grey([255, 99], [40, 1]);
    expect(measureExposure(frame).verdict).toBe('over');
    expect(measureExposure(frame, grey([40, 1]))).toMatchObject({ verdict: 'ok', meanLuminance: 0.992 });
    // A blown-out product has none left, however small it is.
    expect(measureExposure(frame, grey([200, 90], [100, 1])).verdict).toBe('over');
    // No product pixels: the frame's verdict.
    expect(measureExposure(frame, new Uint8Array(0)).verdict).toBe('over');
  });
});

describe('subjectGrey', () => {
  it("keeps the grey levels of the region's pixels that differ from the backdrop", () => {
    // 3×1: white, dark, off-white; grey levels 255, 40, 230.
    const rgb = Uint8Array.from([255, 255, 255, 40, 40, 40, 232, 232, 228]);
    const grey = Uint8Array.from([255, 40, 230]);
    const all = { x0: 0, y0: 0, x1: 3, y1: 1 };
    expect([...subjectGrey(rgb, grey, 3, all, { r: 255, g: 255, b: 255 }, 20)]).toEqual([40, 230]);
    expect([...subjectGrey(rgb, grey, 3, all, { r: 232, g: 232, b: 228 }, 20)]).toEqual([255, 40]);
    expect([...subjectGrey(rgb, grey, 3, { x0: 0, y0: 0, x1: 1, y1: 1 }, { r: 0, g: 0, b: 0 }, 20)]).toEqual([
      255,
    ]);
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

  it('measures a region (with a few pixels around it) instead of the whole image when given one', () => {
    // A sharp 10×10 checkerboard in the corner of a soft 40×40 image: over the whole image the soft part dilutes it.
    const width = 40;
    const image = Uint8Array.from({ length: width * width }, (_, i) => {
      const x = i % width;
      const y = Math.floor(i / width);
      if (x < 10 && y < 10) return (x + y) % 2 === 0 ? 0 : 255;
      return Math.round(128 + 60 * Math.sin(x / 5) * Math.cos(y / 7));
    });
    const whole = measureSharpness(image, width, width).laplacianVariance;
    const region = measureRegionSharpness(image, width, width, { x: 0, y: 0, width: 10, height: 10 });
    expect(region.laplacianVariance).toBeGreaterThan(whole);
    expect(measureRegionSharpness(image, width, width, null)).toEqual(measureSharpness(image, width, width));
  });

  it('calls a soft ramp blurry and a hard edge sharp', () => {
    const soft = Uint8Array.from({ length: 400 }, (_, i) => Math.round(128 + 100 * Math.sin((i % 20) / 6)));
    expect(laplacianVariance(soft, 20, 20)).toBeLessThan(BLUR_THRESHOLD);
    const edge = Uint8Array.from({ length: 400 }, (_, i) => (i % 20 < 10 ? 20 : 230));
    expect(measureSharpness(edge, 20, 20).laplacianVariance).toBeGreaterThan(BLUR_THRESHOLD);
  });
});
