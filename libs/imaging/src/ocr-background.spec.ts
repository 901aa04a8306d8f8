import { divideByPaper, estimatePaper, stretchContrast } from './ocr-background';

/** A 256×128 page lit from the right (paper from 64 to 255 grey) with dark "ink" dots on a 16 px grid. */
function litPage(ink: (paper: number) => number, paperAt = (x: number) => 64 + Math.round((191 * x) / 255)) {
  const width = 256;
  const height = 128;
  const grey = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const isInk = x % 16 < 3 && y % 16 < 3;
      grey[y * width + x] = isInk ? ink(paperAt(x)) : paperAt(x);
    }
  }
  return { grey, width, height, paperAt };
}

describe('estimatePaper', () => {
  it('follows the light across the page and ignores the ink', () => {
    const { grey, width, height, paperAt } = litPage((paper) => Math.round(paper * 0.1));
    const estimate = estimatePaper(grey, width, height);
    expect(estimate.inverted).toBe(false);
    expect([estimate.columns, estimate.rows]).toEqual([32, 16]);
    for (let column = 0; column < estimate.columns; column++) {
      const x = column * 8 + 4;
      expect(Math.abs(estimate.paper[column] - paperAt(x))).toBeLessThanOrEqual(8);
    }
  });

  it('notices light ink on dark paper and estimates the paper as if negated', () => {
    const { grey, width, height } = litPage(
      () => 250,
      () => 40,
    );
    const estimate = estimatePaper(grey, width, height);
    expect(estimate.inverted).toBe(true);
    expect(Math.min(...estimate.paper)).toBe(255 - 40);
  });

  it('does not take a large dark product beside white paper for light ink', () => {
    // A white backdrop (250) with dark "overlay" dots, and a dark product (60) covering three quarters of the two
    // middle 64 px polarity cells, with white lettering dots on it: the backdrop left in those cells is not ink.
    const width = 256;
    const height = 128;
    const grey = new Uint8Array(width * height);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const onProduct = x >= 80 && x < 176;
        const dot = x % 16 < 3 && y % 16 < 3;
        grey[y * width + x] = onProduct ? (dot ? 250 : 60) : dot ? 20 : 250;
      }
    }
    expect(estimatePaper(grey, width, height).inverted).toBe(false);
  });

  it('negates only when light ink clearly dominates', () => {
    // Mostly light lettering on dark paper, with a little dark ink: still a light-on-dark label.
    const { grey, width, height } = litPage(
      () => 250,
      () => 40,
    );
    for (let x = 0; x < 3; x++) grey[64 * width + 100 + x] = 0;
    expect(estimatePaper(grey, width, height).inverted).toBe(true);
    // As much dark ink as light: a mixed picture keeps the common dark-on-light reading.
    const mixed = new Uint8Array(width * height).fill(128);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        if (x % 16 < 3 && y % 16 < 3) mixed[y * width + x] = (x + y) % 32 < 16 ? 250 : 5;
      }
    }
    expect(estimatePaper(mixed, width, height).inverted).toBe(false);
  });

  it('floors the paper so no tile is divided by less than 1/8 of the brightest', () => {
    const { grey, width, height } = litPage(
      () => 0,
      (x) => (x < 128 ? 8 : 240),
    );
    const estimate = estimatePaper(grey, width, height);
    expect(Math.min(...estimate.paper)).toBe(30);
  });

  it('handles an image smaller than one tile', () => {
    expect(estimatePaper(new Uint8Array([200]), 1, 1)).toEqual({
      inverted: false,
      paper: Uint8Array.from([200]),
      columns: 1,
      rows: 1,
    });
  });
});

describe('divideByPaper', () => {
  it('turns the paper white and keeps the ink in proportion', () => {
    const out = divideByPaper(Uint8Array.from([64, 16, 255, 20]), Uint8Array.from([64, 64, 255, 200]), false);
    expect([...out]).toEqual([255, 64, 255, 26]);
  });

  it('negates first when the ink is light, and never divides by zero', () => {
    const out = divideByPaper(Uint8Array.from([40, 250, 0]), Uint8Array.from([215, 215, 0]), true);
    expect([...out]).toEqual([255, 6, 255]);
  });
});

describe('stretchContrast', () => {
  it('maps the 1st and 99th percentiles to black and white', () => {
    const pixels = Uint8Array.from({ length: 1000 }, (_, i) => 100 + Math.floor(i / 10));
    stretchContrast(pixels);
    expect(pixels[0]).toBe(0);
    expect(pixels[999]).toBe(255);
    expect(pixels[500]).toBeGreaterThan(120);
    expect(pixels[500]).toBeLessThan(135);
  });

  it('leaves a flat image alone', () => {
    const pixels = new Uint8Array(100).fill(77);
    stretchContrast(pixels);
    expect(pixels.every((v) => v === 77)).toBe(true);
  });
});
