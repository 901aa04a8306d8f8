import sharp from 'sharp';
import { BLUR_THRESHOLD } from './image-measurements';
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

  describe('a product centred with an even 60 px margin (the standard packshot)', () => {
    /** A 900 px photo-textured product with corners rounded at 3 % of its side, 60 px from every edge. */
    async function evenMargin(background: string): Promise<Buffer> {
      const side = 900;
      const mask = Buffer.from(
        `<svg xmlns="http://www.w3.org/2000/svg" width="${side}" height="${side}"><rect width="${side}" height="${side}" rx="27" fill="#fff"/></svg>`,
      );
      const product = await sharp(await photo(side, side))
        .ensureAlpha()
        .composite([{ input: mask, blend: 'dest-in' }])
        .png()
        .toBuffer();
      return sharp({ create: { width: side + 120, height: side + 120, channels: 3, background } })
        .composite([{ input: product, left: 60, top: 60 }])
        .jpeg({ quality: 90 })
        .toBuffer();
    }

    it('on pure white: the margin is backdrop, not an added white frame', async () => {
      const measured = await processor.measureListing(await evenMargin('#ffffff'));
      expect(measured.border).toEqual({ detected: false, widthPx: 0, hex: null });
      expect(measured.backdrop).toEqual({ kind: 'plain', hex: '#ffffff' });
      expect(measured.backgroundWhiteShare).toBeGreaterThanOrEqual(0.98);
      expectBoxNear(measured, { x: 60, y: 60, width: 900, height: 900 }, 6);
      expect(Math.abs(measured.fillRatio - 900 / 1020)).toBeLessThanOrEqual(0.01);
    });

    it('on RGB 232,232,228: the margin is an off-white backdrop, so the background is not white', async () => {
      const measured = await processor.measureListing(await evenMargin('rgb(232,232,228)'));
      expect(measured.border.detected).toBe(false);
      expect(measured.backdrop.kind).toBe('plain');
      expect(measured.backdrop.hex).toMatch(/^#e[6-a]e[6-a]e[2-6]$/);
      expect(measured.backgroundWhiteShare).toBeLessThan(0.02);
      expect(Math.abs(measured.fillRatio - 900 / 1020)).toBeLessThanOrEqual(0.01);
    });
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
    expect(measured).toMatchObject({
      width: 800,
      height: 600,
      backdrop: { kind: 'plain', hex: '#ffffff' },
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
    expect(measured.backdrop).toEqual({ kind: 'transparent', hex: '#ffffff' });
    expect(measured.backgroundWhiteShare).toBe(1);
    expectBoxNear(measured, { x: 100, y: 100, width: 200, height: 200 }, 2);
  });

  it("takes a transparent cut-out's product from its alpha, even a white product that flattening would hide", async () => {
    // A white product with a pale grey label on a transparent backdrop: on white it all but vanishes.
    const cutout = await sharp(
      Buffer.from(
        '<svg xmlns="http://www.w3.org/2000/svg" width="1000" height="1000">' +
          '<rect x="80" y="150" width="840" height="700" rx="60" fill="#fafafa"/>' +
          '<rect x="200" y="400" width="600" height="200" fill="#eeeeee"/></svg>',
      ),
    )
      .png()
      .toBuffer();
    const measured = await processor.measureListing(cutout);
    expect(measured.backdrop.kind).toBe('transparent');
    expectBoxNear(measured, { x: 80, y: 150, width: 840, height: 700 }, 4);
    expect(measured.fillRatio).toBeCloseTo(0.84, 2);
    expect(measured.backgroundWhiteShare).toBe(1);
    expect(measured.border.detected).toBe(false);
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

  // A photo that fills the frame has no backdrop at all: there is no product to separate and no background to call
  // white, so neither a white share of 1 ("100% of nothing") nor a fill of 1 would be true.
  it('finds no plain backdrop in a photo that fills the frame: no product, share 0, fill 0, no frame', async () => {
    const measured = await processor.measureListing(await photo(1600, 1200));
    expect(measured.backdrop).toEqual({ kind: 'none', hex: null });
    expect(measured.productBox).toBeNull();
    expect(measured.fillRatio).toBe(0);
    expect(measured.backgroundWhiteShare).toBe(0);
    expect(measured.border.detected).toBe(false);
  });

  it('finds no plain backdrop in a landscape: a uniform sky along the top does not make the ground a product', async () => {
    // Pale sky over the top 60 %, whose edges are mostly that one colour; the "product" under it would reach the
    // left, right and bottom edges.
    const ground = await photo(1600, 480);
    const landscape = await sharp({
      create: { width: 1600, height: 1200, channels: 3, background: '#c8dcf0' },
    })
      .composite([{ input: ground, left: 0, top: 720 }])
      .jpeg({ quality: 90 })
      .toBuffer();
    const measured = await processor.measureListing(landscape);
    expect(measured.backdrop.kind).toBe('none');
    expect(measured.productBox).toBeNull();
    expect(measured.backgroundWhiteShare).toBe(0);
  });

  it('detects a white frame around a photo whose edges are not a plain backdrop, and finds none inside it', async () => {
    const framed = await sharp(await photo(800, 600))
      .extend({ top: 24, bottom: 24, left: 24, right: 24, background: '#ffffff' })
      .png()
      .toBuffer();
    const measured = await processor.measureListing(framed);
    expect(measured.border.detected).toBe(true);
    expect(Math.abs(measured.border.widthPx - 24)).toBeLessThanOrEqual(3);
    expect(measured.border.hex).toBe('#ffffff');
    // The frame is not a backdrop: inside it is a photo edge to edge, so there is no white background to count.
    expect(measured.backdrop.kind).toBe('none');
    expect(measured.backgroundWhiteShare).toBe(0);
  });

  it('honours a stricter white tolerance', async () => {
    const nearWhite = await png(packshotSvg(0.5, '#f0f0f0'));
    expect((await processor.measureListing(nearWhite)).backgroundWhiteShare).toBeGreaterThanOrEqual(0.98);
    expect(
      (await processor.measureListing(nearWhite, { whiteTolerance: 5 })).backgroundWhiteShare,
    ).toBeLessThan(0.02);
  });

  it('judges sharpness on the product: sharp on a wide white field, and a blurred product is still caught', async () => {
    // A 500 px detailed product in a 2400 px white frame: a fifth of the frame's side.
    const product = await photo(500, 500);
    const onField = await sharp({ create: { width: 2400, height: 2400, channels: 3, background: '#ffffff' } })
      .composite([{ input: product, left: 950, top: 950 }])
      .png()
      .toBuffer();
    const sharpShot = await processor.measureListing(await sharp(onField).jpeg({ quality: 90 }).toBuffer());
    const blurredShot = await processor.measureListing(
      await sharp(onField).blur(8).jpeg({ quality: 90 }).toBuffer(),
    );
    expect(sharpShot.sharpness.verdict).toBe('ok');
    expect(sharpShot.sharpness.laplacianVariance).toBeGreaterThan(BLUR_THRESHOLD);
    expect(blurredShot.sharpness.verdict).toBe('blurry');
    expect(blurredShot.sharpness.laplacianVariance).toBeLessThan(20);
  });

  it('does not call a thin dark tool on a wide white field overexposed, and still calls a blown-out one so', async () => {
    // A 24 px wide dark bar across a 1200 px white frame: 2 % of the pixels, all of them the product's.
    const tool = (fill: string) =>
      Buffer.from(
        '<svg xmlns="http://www.w3.org/2000/svg" width="1200" height="1200"><rect width="100%" height="100%" fill="#fff"/>' +
          `<rect x="120" y="588" width="960" height="24" fill="${fill}"/></svg>`,
      );
    const dark = await processor.measureListing(await sharp(tool('#2b2f36')).jpeg().toBuffer());
    expect(dark.exposure.meanLuminance).toBeGreaterThan(0.95);
    expect(dark.exposure.verdict).toBe('ok');
    const blown = await processor.measureListing(await sharp(tool('#d8d8d8')).jpeg().toBuffer());
    expect(blown.exposure.verdict).toBe('over');
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
    expect(() => analyseListing({ ...pixels, alpha: new Uint8Array(3) }, { width: 2, height: 2 })).toThrow(
      RangeError,
    );
  });

  /** 100×100 of one colour, with a dark 40×60 product at x 30–70, y 20–80 and the given alpha outside it. */
  function cutout(outsideAlpha: number): {
    data: Uint8Array;
    width: number;
    height: number;
    alpha: Uint8Array;
  } {
    const data = new Uint8Array(100 * 100 * 3).fill(255);
    const alpha = new Uint8Array(100 * 100).fill(outsideAlpha);
    for (let y = 20; y < 80; y++) {
      data.fill(30, (y * 100 + 30) * 3, (y * 100 + 70) * 3);
      alpha.fill(255, y * 100 + 30, y * 100 + 70);
    }
    return { data, width: 100, height: 100, alpha };
  }

  it('uses the alpha channel as the mask when the backdrop is transparent, and ignores an opaque one', () => {
    const transparent = analyseListing(cutout(0), { width: 100, height: 100 });
    expect(transparent.backdrop).toEqual({ kind: 'transparent', hex: '#ffffff' });
    expect(transparent.productBox).toEqual({ x: 30, y: 20, width: 40, height: 60 });
    expect(transparent.backgroundWhiteShare).toBe(1);
    const opaque = analyseListing(cutout(255), { width: 100, height: 100 });
    expect(opaque.backdrop).toEqual({ kind: 'plain', hex: '#ffffff' });
    expect(opaque.productBox).toEqual({ x: 30, y: 20, width: 40, height: 60 });
  });

  it('finds no plain backdrop when the edges are a patchwork of colours (a cluttered table)', () => {
    const data = new Uint8Array(100 * 100 * 3);
    for (let i = 0; i < 100 * 100; i++) {
      // 10 px patches of unrelated colours, as loose items on a table.
      const patch = Math.floor((i % 100) / 10) + 10 * Math.floor(i / 1000);
      data[i * 3] = (patch * 97) % 256;
      data[i * 3 + 1] = (patch * 57) % 256;
      data[i * 3 + 2] = (patch * 31) % 256;
    }
    const measured = analyseListing({ data, width: 100, height: 100 }, { width: 100, height: 100 });
    expect(measured).toMatchObject({
      backdrop: { kind: 'none', hex: null },
      productBox: null,
      fillRatio: 0,
      backgroundWhiteShare: 0,
    });
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
