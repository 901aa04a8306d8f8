import sharp from 'sharp';
import { ImageProcessor } from './image-processor';
import { analyseListing, type ListingMeasurements } from './listing-measurements';

const SIZE = 1200;
const PRODUCT = '#2b2f36';

/** A dark rounded rectangle ("product") covering the central `share` of a square canvas of colour `background`. */
function packshotSvg(share: number, background = '#ffffff', size = SIZE): Buffer {
  const side = Math.round(size * share);
  const offset = Math.round((size - side) / 2);
  const radius = Math.round(side * 0.1);
  return Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}">` +
      `<rect width="100%" height="100%" fill="${background}"/>` +
      `<rect x="${offset}" y="${offset}" width="${side}" height="${side}" rx="${radius}" fill="${PRODUCT}"/></svg>`,
  );
}

function png(svg: Buffer): Promise<Buffer> {
  return sharp(svg).png().toBuffer();
}

/** Deterministic "photo": colour gradients plus pseudo-random noise, nowhere near white, edge to edge. */
function photo(width: number, height: number): Promise<Buffer> {
  const data = Buffer.alloc(width * height * 3);
  let seed = 12345;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      const noise = (seed % 61) - 30;
      const o = (y * width + x) * 3;
      data[o] = 40 + Math.round((140 * x) / width) + noise;
      data[o + 1] = 40 + Math.round((140 * y) / height) - noise;
      data[o + 2] = 110 + noise;
    }
  }
  return sharp(data, { raw: { width, height, channels: 3 } })
    .jpeg({ quality: 85 })
    .toBuffer();
}

function expectBoxNear(
  measured: ListingMeasurements,
  expected: { x: number; y: number; width: number; height: number },
  slack: number,
): void {
  const box = measured.productBox;
  expect(box).not.toBeNull();
  if (!box) return;
  for (const key of ['x', 'y', 'width', 'height'] as const) {
    expect(Math.abs(box[key] - expected[key])).toBeLessThanOrEqual(slack);
  }
}

describe('ImageProcessor.measureListing', () => {
  const processor = new ImageProcessor();
  const side90 = Math.round(SIZE * 0.9);
  const offset90 = (SIZE - side90) / 2;

  it('measures a white packshot whose product covers the central 90 %', async () => {
    const measured = await processor.measureListing(await png(packshotSvg(0.9)));
    expect(measured.width).toBe(SIZE);
    expect(measured.height).toBe(SIZE);
    expect(measured.fillRatio).toBeCloseTo(0.9, 1);
    expect(Math.abs(measured.fillRatio - 0.9)).toBeLessThanOrEqual(0.03);
    expect(measured.backgroundWhiteShare).toBeGreaterThanOrEqual(0.98);
    expectBoxNear(measured, { x: offset90, y: offset90, width: side90, height: side90 }, 8);
    expect(measured.border).toEqual({ detected: false, widthPx: 0, hex: null });
  });

  it('reports half the fill for the product at 50 %', async () => {
    const measured = await processor.measureListing(await png(packshotSvg(0.5)));
    expect(Math.abs(measured.fillRatio - 0.5)).toBeLessThanOrEqual(0.03);
    expect(measured.backgroundWhiteShare).toBeGreaterThanOrEqual(0.98);
    expectBoxNear(measured, { x: 300, y: 300, width: 600, height: 600 }, 8);
    expect(measured.border.detected).toBe(false);
  });

  it('sees an off-white backdrop as background that is not white, and still finds the product', async () => {
    const measured = await processor.measureListing(await png(packshotSvg(0.7, '#ebe6dc')));
    expect(measured.backgroundWhiteShare).toBeLessThan(0.2);
    expect(Math.abs(measured.fillRatio - 0.7)).toBeLessThanOrEqual(0.03);
    expect(measured.border.detected).toBe(false);
  });

  it('does not call the off-white margin around a 90 % product a frame', async () => {
    const measured = await processor.measureListing(await png(packshotSvg(0.9, '#ebe6dc')));
    expect(measured.border.detected).toBe(false);
    expect(measured.backgroundWhiteShare).toBeLessThan(0.2);
    expect(Math.abs(measured.fillRatio - 0.9)).toBeLessThanOrEqual(0.03);
  });

  it('detects an added black frame and measures the fill inside it', async () => {
    const framed = await sharp(await png(packshotSvg(0.5)))
      .extend({ top: 30, bottom: 30, left: 30, right: 30, background: '#000000' })
      .png()
      .toBuffer();
    const measured = await processor.measureListing(framed);
    expect(measured.width).toBe(SIZE + 60);
    expect(measured.border.detected).toBe(true);
    expect(Math.abs(measured.border.widthPx - 30)).toBeLessThanOrEqual(3);
    expect(measured.border.hex).toMatch(/^#0[0-4]0[0-4]0[0-4]$/);
    // The product, not the frame: 600 px inside a 1200 px area.
    expectBoxNear(measured, { x: 330, y: 330, width: 600, height: 600 }, 8);
    expect(Math.abs(measured.fillRatio - 0.5)).toBeLessThanOrEqual(0.03);
    expect(measured.backgroundWhiteShare).toBeGreaterThanOrEqual(0.98);
  });

  it('tolerates JPEG noise (quality 70) on a packshot', async () => {
    const jpeg = await sharp(packshotSvg(0.9)).jpeg({ quality: 70 }).toBuffer();
    const measured = await processor.measureListing(jpeg);
    expect(measured.backgroundWhiteShare).toBeGreaterThanOrEqual(0.95);
    expectBoxNear(measured, { x: offset90, y: offset90, width: side90, height: side90 }, 10);
    expect(Math.abs(measured.fillRatio - 0.9)).toBeLessThanOrEqual(0.03);
    expect(measured.border.detected).toBe(false);
  });

  it('ignores isolated specks on the background', async () => {
    // Dust: 2 px black dots over the margins, JPEG-compressed. Larger dust (3 px and up at 1200 px, once JPEG smears
    // it over its 8×8 block) reaches the 0.5 % line threshold and does widen the box: the rule is for noise, not debris.
    const specks = Array.from({ length: 40 }, (_, i) => [(i * 97) % 1180, (i * 89 + 7) % 1180])
      .filter(([x, y]) => x < 290 || x > 910 || y < 290 || y > 910)
      .map(([x, y]) => `<rect x="${x}" y="${y}" width="2" height="2" fill="#000"/>`)
      .join('');
    const svg = packshotSvg(0.5).toString().replace('</svg>', `${specks}</svg>`);
    const measured = await processor.measureListing(
      await sharp(Buffer.from(svg)).jpeg({ quality: 70 }).toBuffer(),
    );
    expectBoxNear(measured, { x: 300, y: 300, width: 600, height: 600 }, 10);
  });

  it('reports a blank white image as having no product', async () => {
    const blank = await sharp({ create: { width: 800, height: 600, channels: 3, background: '#ffffff' } })
      .jpeg({ quality: 80 })
      .toBuffer();
    const measured = await processor.measureListing(blank);
    expect(measured).toEqual({
      width: 800,
      height: 600,
      backgroundWhiteShare: 1,
      productBox: null,
      fillRatio: 0,
      border: { detected: false, widthPx: 0, hex: null },
    });
  });

  it('flattens transparency onto white', async () => {
    const cutout = await sharp(
      Buffer.from(
        '<svg xmlns="http://www.w3.org/2000/svg" width="400" height="400">' +
          `<rect x="100" y="100" width="200" height="200" fill="${PRODUCT}"/></svg>`,
      ),
    )
      .png()
      .toBuffer();
    const measured = await processor.measureListing(cutout);
    expect(measured.backgroundWhiteShare).toBe(1);
    expectBoxNear(measured, { x: 100, y: 100, width: 200, height: 200 }, 2);
  });

  it('measures the upright image when EXIF says rotate', async () => {
    const portrait = await sharp(packshotSvg(0.5))
      .resize({ width: 600, height: 300, fit: 'fill' })
      .jpeg()
      .withMetadata({ orientation: 6 })
      .toBuffer();
    const measured = await processor.measureListing(portrait);
    expect([measured.width, measured.height]).toEqual([300, 600]);
    expectBoxNear(measured, { x: 75, y: 150, width: 150, height: 300 }, 4);
  });

  // A photo that fills the frame has no background at all, so backgroundWhiteShare is 1 by definition ("1 when there
  // is no background"); it is the fill ratio of 1 with a box over the whole frame that says "this is not a packshot".
  it('treats a full-frame photo as product everywhere: fill 1, no background (share 1), no frame', async () => {
    const measured = await processor.measureListing(await photo(1600, 1200));
    expect(measured.fillRatio).toBeGreaterThanOrEqual(0.99);
    expect(measured.productBox).toEqual({ x: 0, y: 0, width: 1600, height: 1200 });
    expect(measured.backgroundWhiteShare).toBe(1);
    expect(measured.border.detected).toBe(false);
  });

  it('detects a white frame around a photo, whose content is not near-white', async () => {
    const framed = await sharp(await photo(800, 600))
      .extend({ top: 24, bottom: 24, left: 24, right: 24, background: '#ffffff' })
      .png()
      .toBuffer();
    const measured = await processor.measureListing(framed);
    expect(measured.border.detected).toBe(true);
    expect(Math.abs(measured.border.widthPx - 24)).toBeLessThanOrEqual(3);
    expect(measured.border.hex).toBe('#ffffff');
    expect(measured.fillRatio).toBeGreaterThanOrEqual(0.98);
  });

  it('honours a stricter white tolerance', async () => {
    const nearWhite = await png(packshotSvg(0.5, '#f0f0f0'));
    expect((await processor.measureListing(nearWhite)).backgroundWhiteShare).toBeGreaterThanOrEqual(0.98);
    expect(
      (await processor.measureListing(nearWhite, { whiteTolerance: 5 })).backgroundWhiteShare,
    ).toBeLessThan(0.02);
  });

  it('is deterministic', async () => {
    const jpeg = await sharp(packshotSvg(0.8)).jpeg({ quality: 70 }).toBuffer();
    expect(await processor.measureListing(jpeg)).toEqual(await processor.measureListing(jpeg));
  });
});

describe('analyseListing', () => {
  it('rejects a tolerance outside 0–255 and a buffer of the wrong size', () => {
    const pixels = { data: new Uint8Array(12).fill(255), width: 2, height: 2 };
    expect(() => analyseListing(pixels, { width: 2, height: 2 }, { whiteTolerance: -1 })).toThrow(RangeError);
    expect(() => analyseListing({ ...pixels, width: 3 }, { width: 3, height: 2 })).toThrow(RangeError);
  });
});

describe('ImageProcessor.measureListing with ignored regions', () => {
  it('measures text over the background as background when its box is ignored', async () => {
    const processor = new ImageProcessor();
    const svg =
      '<svg xmlns="http://www.w3.org/2000/svg" width="1000" height="1000"><rect width="100%" height="100%" fill="#fff"/>' +
      '<rect x="250" y="250" width="500" height="500" fill="#203050"/><rect x="820" y="30" width="160" height="50" fill="#d01010"/></svg>';
    const image = await sharp(Buffer.from(svg)).png().toBuffer();
    const plain = await processor.measureListing(image);
    expect(plain.productBox!.y).toBeLessThan(60);
    const ignored = await processor.measureListing(image, {
      ignore: [{ x: 820, y: 30, width: 160, height: 50 }],
    });
    expect(ignored.productBox).toMatchObject({
      x: expect.closeTo(250, -1) as number,
      y: expect.closeTo(250, -1) as number,
    });
    expect(ignored.fillRatio).toBeCloseTo(0.5, 1);
  });

  it('keeps a word read on the edge of the product in the product, though its box was painted over', async () => {
    // A bottle-like product from y 100 to 900; tesseract's box for a "word" on its cap covers the top 300 px.
    const processor = new ImageProcessor();
    const svg =
      '<svg xmlns="http://www.w3.org/2000/svg" width="1000" height="1000"><rect width="100%" height="100%" fill="#fff"/>' +
      '<rect x="400" y="100" width="200" height="150" fill="#101010"/><rect x="300" y="250" width="400" height="650" fill="#203050"/></svg>';
    const image = await sharp(Buffer.from(svg)).png().toBuffer();
    const measured = await processor.measureListing(image, {
      ignore: [{ x: 280, y: 90, width: 440, height: 310 }],
    });
    expect(measured.productBox!.y).toBeLessThanOrEqual(100);
    expect(measured.productBox!.y + measured.productBox!.height).toBeGreaterThanOrEqual(898);
    expect(measured.fillRatio).toBeGreaterThanOrEqual(0.8);
  });

  it('counts ignored text as neither product nor background on an off-white backdrop', async () => {
    const processor = new ImageProcessor();
    const svg =
      '<svg xmlns="http://www.w3.org/2000/svg" width="1000" height="1000"><rect width="100%" height="100%" fill="#e6e1d6"/>' +
      '<rect x="250" y="250" width="500" height="500" fill="#203050"/><rect x="820" y="30" width="160" height="50" fill="#d01010"/></svg>';
    const image = await sharp(Buffer.from(svg)).png().toBuffer();
    const measured = await processor.measureListing(image, {
      ignore: [{ x: 820, y: 30, width: 160, height: 50 }],
    });
    // Painted white, the text's box would otherwise differ from the off-white backdrop and read as product.
    expectBoxNear(measured, { x: 250, y: 250, width: 500, height: 500 }, 6);
    expect(measured.backgroundWhiteShare).toBe(0);
  });
});

describe('analyseListing with ignored regions', () => {
  /** 100×100 white, a dark product at x 30–70, y 20–80. */
  function pixels(): { data: Uint8Array; width: number; height: number } {
    const data = new Uint8Array(100 * 100 * 3).fill(255);
    for (let y = 20; y < 80; y++) data.fill(30, (y * 100 + 30) * 3, (y * 100 + 70) * 3);
    return { data, width: 100, height: 100 };
  }

  it('leaves text on the backdrop, clear of the product, out of the product box', () => {
    const image = pixels();
    const measured = analyseListing(
      image,
      { width: 100, height: 100 },
      {
        ignore: [{ x: 78, y: 40, width: 15, height: 8 }],
      },
    );
    expect(measured.productBox).toEqual({ x: 30, y: 20, width: 40, height: 60 });
  });

  it('grows the product box over a painted region the product runs into', () => {
    const image = pixels();
    // The caller painted the product's top white under a word box that reaches above the product.
    for (let y = 15; y < 35; y++) image.data.fill(255, (y * 100 + 25) * 3, (y * 100 + 75) * 3);
    const plain = analyseListing(image, { width: 100, height: 100 });
    expect(plain.productBox!.y).toBe(35);
    const measured = analyseListing(
      image,
      { width: 100, height: 100 },
      {
        ignore: [{ x: 26, y: 16, width: 48, height: 18 }],
      },
    );
    expect(measured.productBox).toEqual({ x: 25, y: 15, width: 50, height: 65 });
  });
});
