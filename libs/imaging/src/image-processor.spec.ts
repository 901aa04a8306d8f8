import { createHash } from 'node:crypto';
import { ArgusError } from '@argus/contracts';
import sharp from 'sharp';
import { ImageProcessor, type ImageLimits } from './image-processor';
import { isPlainJpeg } from './jpeg-segments';

const limits: ImageLimits = { maxBytes: 20 * 1024 * 1024, maxPixels: 40_000_000, maxLongSide: 2048 };
const processor = new ImageProcessor();

const opaque = (width: number, height: number) =>
  sharp({ create: { width, height, channels: 3, background: { r: 30, g: 120, b: 200 } } });
const translucent = (width: number, height: number) =>
  sharp({ create: { width, height, channels: 4, background: { r: 30, g: 120, b: 200, alpha: 0.5 } } });
/** Noise makes real entropy-coded data, so truncation cuts through pixels rather than padding. */
const noisy = (width: number, height: number) =>
  sharp({
    create: {
      width,
      height,
      channels: 3,
      background: 'black',
      noise: { type: 'gaussian', mean: 128, sigma: 40 },
    },
  });

/** Channels and colour space of encoded bytes; ImageProcessor.probe deliberately does not expose them. */
async function pixelsOf(bytes: Buffer) {
  const { channels, space, depth } = await sharp(bytes).metadata();
  return { channels, space, depth };
}

describe('ImageProcessor.normalise', () => {
  // libvips always decodes GIF with an alpha channel, so even an opaque GIF stays lossless PNG.
  it.each([
    ['jpeg', 'jpeg', () => opaque(64, 48).jpeg().toBuffer()],
    ['png', 'jpeg', () => opaque(64, 48).png().toBuffer()],
    ['webp', 'jpeg', () => opaque(64, 48).webp().toBuffer()],
    ['gif', 'png', () => opaque(64, 48).gif().toBuffer()],
    ['tiff', 'jpeg', () => opaque(64, 48).tiff().toBuffer()],
    ['avif', 'jpeg', () => opaque(64, 48).avif().toBuffer()],
  ] as const)('decodes opaque %s into %s', async (format, output, make) => {
    const image = await processor.normalise(await make(), limits);
    expect(image.sourceFormat).toBe(format);
    expect([image.width, image.height]).toEqual([64, 48]);
    expect(image.mime).toBe(`image/${output}`);
    expect(await processor.probe(image.data)).toMatchObject({ format: output, width: 64, height: 48 });
  });

  it('applies EXIF orientation and strips EXIF', async () => {
    const input = await opaque(300, 200)
      .jpeg()
      .withMetadata({ orientation: 6 })
      .withExifMerge({ IFD0: { Artist: 'someone', Copyright: 'private' } })
      .toBuffer();
    expect(await processor.probe(input)).toMatchObject({ orientation: 6, hasExif: true });

    const image = await processor.normalise(input, limits);
    expect([image.width, image.height]).toEqual([200, 300]);
    const out = await processor.probe(image.data);
    expect([out.width, out.height]).toEqual([200, 300]);
    expect(out.hasExif).toBe(false);
    expect(out.orientation).toBeUndefined();
  });

  it('caps the long side and keeps the aspect ratio', async () => {
    const image = await processor.normalise(await opaque(4000, 1000).png().toBuffer(), limits);
    expect([image.width, image.height]).toEqual([2048, 512]);
  });

  it('does not enlarge a small image', async () => {
    const image = await processor.normalise(await opaque(120, 90).jpeg().toBuffer(), limits);
    expect([image.width, image.height]).toEqual([120, 90]);
  });

  it('keeps transparency as PNG and turns opaque images into JPEG', async () => {
    const withAlpha = await processor.normalise(await translucent(50, 40).png().toBuffer(), limits);
    expect(withAlpha.mime).toBe('image/png');
    expect(await processor.probe(withAlpha.data)).toMatchObject({ format: 'png', hasAlpha: true });

    const withoutAlpha = await processor.normalise(await opaque(50, 40).png().toBuffer(), limits);
    expect(withoutAlpha.mime).toBe('image/jpeg');
    expect(await processor.probe(withoutAlpha.data)).toMatchObject({ format: 'jpeg', hasAlpha: false });
  });

  it('hashes the input bytes, not the output', async () => {
    const input = await opaque(40, 30).png().toBuffer();
    const image = await processor.normalise(input, limits);
    const expected = createHash('sha256').update(input).digest('hex');
    expect(image.sha256).toBe(expected);
    expect(processor.sha256(input)).toBe(expected);
    expect(image.sourceBytes).toBe(input.length);
    expect(image.sourcePixels).toBe(40 * 30);
    expect(image.timings.decodeMs).toBeGreaterThanOrEqual(0);
    expect(image.timings.normaliseMs).toBeGreaterThanOrEqual(0);
  });

  it('reads only the first frame of an animated GIF', async () => {
    const frame = (r: number) =>
      sharp({ create: { width: 40, height: 30, channels: 3, background: { r, g: 0, b: 0 } } })
        .png()
        .toBuffer();
    const frames = await Promise.all([frame(255), frame(0), frame(128)]);
    const gif = await sharp(frames, { join: { animated: true } })
      .gif()
      .toBuffer();
    expect((await sharp(gif).metadata()).pages).toBe(3);

    const image = await processor.normalise(gif, limits);
    expect(image.sourceFormat).toBe('gif');
    expect([image.width, image.height]).toEqual([40, 30]);
    expect((await sharp(image.data).metadata()).pages).toBeUndefined();
    const { dominant } = await sharp(image.data).stats(); // the first frame is red, the others are not
    expect(dominant.r).toBeGreaterThan(200);
    expect(Math.max(dominant.g, dominant.b)).toBeLessThan(30);
  });

  it('turns a 16-bit PNG into 8-bit output', async () => {
    const input = await opaque(64, 48).toColourspace('rgb16').png().toBuffer();
    expect((await processor.probe(input)).depth).toBe('ushort');

    const image = await processor.normalise(input, limits);
    expect(await pixelsOf(image.data)).toEqual({ channels: 3, space: 'srgb', depth: 'uchar' });
  });

  it('turns a 16-bit PNG with alpha into an 8-bit PNG', async () => {
    const input = await translucent(64, 48).toColourspace('rgb16').png().toBuffer();
    expect(await processor.probe(input)).toMatchObject({ depth: 'ushort', hasAlpha: true });

    const image = await processor.normalise(input, limits);
    expect(image.mime).toBe('image/png');
    expect(await pixelsOf(image.data)).toEqual({ channels: 4, space: 'srgb', depth: 'uchar' });
  });

  it('turns grey with alpha into sRGB with alpha', async () => {
    const input = await translucent(30, 20).toColourspace('b-w').png().toBuffer();
    expect(await pixelsOf(input)).toMatchObject({ channels: 2, space: 'b-w' });

    const image = await processor.normalise(input, limits);
    expect(image.mime).toBe('image/png');
    expect(await pixelsOf(image.data)).toEqual({ channels: 4, space: 'srgb', depth: 'uchar' });
  });

  it('converts a CMYK JPEG to three-channel sRGB', async () => {
    const input = await opaque(64, 48).toColourspace('cmyk').jpeg().toBuffer();
    expect(await pixelsOf(input)).toMatchObject({ channels: 4, space: 'cmyk' });

    const image = await processor.normalise(input, limits);
    expect(image.mime).toBe('image/jpeg');
    expect(await pixelsOf(image.data)).toEqual({ channels: 3, space: 'srgb', depth: 'uchar' });
  });

  it('rejects an empty upload', async () => {
    await expect(processor.normalise(Buffer.alloc(0), limits)).rejects.toMatchObject({
      code: 'IMAGE_DECODE_FAILED',
      message: 'The image is empty',
    });
  });

  it('rejects an upload over the byte limit before looking inside', async () => {
    const input = await noisy(200, 200).png().toBuffer();
    const error = processor.normalise(input, { ...limits, maxBytes: input.length - 1 });
    await expect(error).rejects.toBeInstanceOf(ArgusError);
    await expect(error).rejects.toMatchObject({ code: 'IMAGE_TOO_LARGE' });
  });

  it('rejects a pixel bomb from its header, naming the size and the limit', async () => {
    // A flat 3000x3000 PNG is a few kilobytes yet decodes to 27 MB of pixels.
    const input = await opaque(3000, 3000).png({ compressionLevel: 9 }).toBuffer();
    expect(input.length).toBeLessThan(100_000);

    const error = processor.normalise(input, { ...limits, maxPixels: 1_000_000 });
    await expect(error).rejects.toMatchObject({ code: 'IMAGE_TOO_LARGE' });
    await expect(error).rejects.toThrow(/3000x3000 = 9000000 pixels.*1000000/);
  });

  it.each([
    ['SVG', Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>')],
    ['PDF', Buffer.from('%PDF-1.7\n')],
    ['text', Buffer.from('just some words')],
  ])('refuses %s and names the accepted types', async (_name, input) => {
    const error = processor.normalise(input, limits);
    await expect(error).rejects.toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE' });
    await expect(error).rejects.toThrow(/image\/jpeg.*image\/avif/);
  });

  it('reports a truncated JPEG as undecodable without leaking internals', async () => {
    const whole = await noisy(300, 200).jpeg().toBuffer();
    const truncated = whole.subarray(0, Math.floor(whole.length / 2));

    const error = processor.normalise(truncated, limits);
    await expect(error).rejects.toMatchObject({
      code: 'IMAGE_DECODE_FAILED',
      message: 'The jpeg image could not be decoded',
    });
  });

  it('reports a JPEG whose SOF declares 65535x65535 as too large, not as undecodable', async () => {
    // libjpeg itself refuses sides over 65500 px while reading the header.
    const jpeg = await noisy(64, 48).jpeg().toBuffer();
    const sof = jpeg.indexOf(Buffer.from([0xff, 0xc0]));
    expect(sof).toBeGreaterThan(0);
    const lying = Buffer.from(jpeg);
    lying.writeUInt16BE(65_535, sof + 5);
    lying.writeUInt16BE(65_535, sof + 7);

    const error = processor.normalise(lying, limits);
    await expect(error).rejects.toMatchObject({ code: 'IMAGE_TOO_LARGE' });
  });

  it('reports a PNG whose pixel data fails its CRC as undecodable (libvips checks only the header CRC)', async () => {
    const png = await noisy(64, 48).png().toBuffer();
    const idat = png.indexOf(Buffer.from('IDAT', 'latin1')) - 4;
    const crcAt = idat + 8 + png.readUInt32BE(idat) + 3;
    const damaged = Buffer.from(png);
    damaged[crcAt] ^= 0xff;

    await expect(processor.normalise(png, limits)).resolves.toMatchObject({ width: 64, height: 48 });
    await expect(processor.normalise(damaged, limits)).rejects.toMatchObject({
      code: 'IMAGE_DECODE_FAILED',
      message: 'The png image could not be decoded',
      details: { reason: 'IDAT chunk fails its CRC check' },
    });
  });

  it('reports garbage behind valid magic bytes as undecodable', async () => {
    const input = Buffer.concat([
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
      Buffer.alloc(64, 7),
    ]);
    await expect(processor.normalise(input, limits)).rejects.toMatchObject({ code: 'IMAGE_DECODE_FAILED' });
  });
});

describe('ImageProcessor.resizeForModel', () => {
  it('caps the long side to the target', async () => {
    const out = await processor.resizeForModel(await opaque(3000, 1500).jpeg().toBuffer(), {
      longSide: 1024,
    });
    expect([out.width, out.height]).toEqual([1024, 512]);
    expect(out.mime).toBe('image/jpeg');
    expect(await processor.probe(out.data)).toMatchObject({ format: 'jpeg', width: 1024, height: 512 });
  });

  it('does not enlarge a small image', async () => {
    const out = await processor.resizeForModel(await opaque(300, 200).jpeg().toBuffer(), { longSide: 896 });
    expect([out.width, out.height]).toEqual([300, 200]);
  });

  it('pads a thin strip with white so the short side reaches 28 px', async () => {
    const out = await processor.resizeForModel(await opaque(2000, 10).png().toBuffer(), { longSide: 1024 });
    expect([out.width, out.height]).toEqual([1024, 28]);

    const { data, info } = await sharp(out.data).raw().toBuffer({ resolveWithObject: true });
    const topLeft = [...data.subarray(0, info.channels)];
    expect(Math.min(...topLeft)).toBeGreaterThan(245);
    const middle = (Math.floor(info.height / 2) * info.width + Math.floor(info.width / 2)) * info.channels;
    expect(data[middle + 2]).toBeGreaterThan(150); // the blue of the strip survives in the middle
  });

  it('honours a custom minimum side on both axes', async () => {
    const out = await processor.resizeForModel(await opaque(10, 12).png().toBuffer(), {
      longSide: 512,
      minSide: 32,
    });
    expect([out.width, out.height]).toEqual([32, 32]);
  });

  it('keeps transparency as PNG', async () => {
    const out = await processor.resizeForModel(await translucent(800, 400).png().toBuffer(), {
      longSide: 400,
    });
    expect(out.mime).toBe('image/png');
    expect([out.width, out.height]).toEqual([400, 200]);
    expect(await processor.probe(out.data)).toMatchObject({ format: 'png', hasAlpha: true, depth: 'uchar' });
  });

  it('maps undecodable bytes to IMAGE_DECODE_FAILED', async () => {
    await expect(processor.resizeForModel(Buffer.from('nope'), { longSide: 512 })).rejects.toMatchObject({
      code: 'IMAGE_DECODE_FAILED',
    });
  });
});

describe('ImageProcessor.resizeForModel pass-through', () => {
  const processor = new ImageProcessor();

  it('returns normalised bytes untouched when they already fit the model', async () => {
    const source = await sharp({ create: { width: 800, height: 600, channels: 3, background: '#808080' } })
      .jpeg()
      .toBuffer();
    const normalised = await processor.normalise(source, {
      maxBytes: 1e7,
      maxPixels: 1e8,
      maxLongSide: 2048,
    });
    const resized = await processor.resizeForModel(normalised.data, { longSide: 1024 });
    expect(resized.data.equals(normalised.data)).toBe(true);
    expect(resized).toMatchObject({ mime: 'image/jpeg', width: 800, height: 600 });
  });

  it('still re-encodes an image that carries EXIF orientation or is too large', async () => {
    const rotated = await sharp({ create: { width: 300, height: 200, channels: 3, background: '#808080' } })
      .jpeg()
      .withMetadata({ orientation: 6 })
      .toBuffer();
    const upright = await processor.resizeForModel(rotated, { longSide: 1024 });
    expect(upright).toMatchObject({ width: 200, height: 300 });
    expect(upright.data.equals(rotated)).toBe(false);
    const big = await sharp({ create: { width: 1500, height: 600, channels: 3, background: '#808080' } })
      .jpeg()
      .toBuffer();
    expect(await processor.resizeForModel(big, { longSide: 1024 })).toMatchObject({ width: 1024 });
  });
});

/** A rendered "photo": a shaded shoe box with a label, on white. */
function productSvg(width = 1200, height = 900): Buffer {
  return Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 1200 900">
    <defs><linearGradient id="side" x1="0" y1="0" x2="1" y2="0">
      <stop offset="0" stop-color="#c9621f"/><stop offset="1" stop-color="#8f3f12"/></linearGradient></defs>
    <rect width="1200" height="900" fill="#ffffff"/>
    <rect x="250" y="300" width="700" height="350" rx="24" fill="url(#side)"/>
    <text x="600" y="490" font-family="DejaVu Sans" font-size="40" text-anchor="middle" fill="#fff">RUNNER 42</text>
  </svg>`);
}

function textSvg(width: number, height: number, size: number): Buffer {
  const lines = Array.from(
    { length: Math.floor(height / (size * 1.5)) - 1 },
    (_, i) =>
      `<text x="20" y="${(i + 1) * size * 1.5}" font-family="DejaVu Sans" font-size="${size}" fill="#222">` +
      `The quick brown fox jumps over the lazy dog 0123456789</text>`,
  ).join('');
  return Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">` +
      `<rect width="100%" height="100%" fill="#fff"/>${lines}</svg>`,
  );
}

const solid = (width: number, height: number, colour: string) =>
  sharp({ create: { width, height, channels: 3, background: colour } });

async function rawPixels(bytes: Buffer) {
  return sharp(bytes).raw().toBuffer({ resolveWithObject: true });
}

describe('ImageProcessor.resizeForModel to a square', () => {
  it('fits 1600×900 inside 896×896 and pads the rest with white', async () => {
    const out = await processor.resizeForModel(await solid(1600, 900, '#336699').jpeg().toBuffer(), {
      square: 896,
    });
    expect([out.width, out.height]).toEqual([896, 896]);
    expect(await processor.probe(out.data)).toMatchObject({ format: 'jpeg', width: 896, height: 896 });
    const { data, info } = await rawPixels(out.data);
    const at = (x: number, y: number) => [
      ...data.subarray((y * info.width + x) * 3, (y * info.width + x) * 3 + 3),
    ];
    // 900/1600 × 896 = 504 rows of image, 196 rows of padding above and below.
    expect(Math.min(...at(448, 100))).toBeGreaterThan(245);
    expect(Math.min(...at(448, 795))).toBeGreaterThan(245);
    const centre = at(448, 448);
    expect(centre[2]).toBeGreaterThan(centre[0] + 80);
  });

  it('enlarges a small image, because the model always sees the full square', async () => {
    const out = await processor.resizeForModel(await solid(300, 200, '#336699').png().toBuffer(), {
      square: 896,
    });
    expect([out.width, out.height]).toEqual([896, 896]);
  });

  it('passes an image that is already the square through untouched', async () => {
    const exact = await solid(896, 896, '#808080').jpeg().toBuffer();
    const out = await processor.resizeForModel(exact, { square: 896 });
    expect(out.data.equals(exact)).toBe(true);
  });

  it('keeps transparency as PNG', async () => {
    const out = await processor.resizeForModel(await translucent(400, 200).png().toBuffer(), { square: 224 });
    expect(out.mime).toBe('image/png');
    expect(await processor.probe(out.data)).toMatchObject({ width: 224, height: 224, hasAlpha: true });
  });

  it('applies EXIF orientation before fitting', async () => {
    const rotated = await solid(400, 200, '#336699').jpeg().withMetadata({ orientation: 6 }).toBuffer();
    const out = await processor.resizeForModel(rotated, { square: 100 });
    const { data, info } = await rawPixels(out.data);
    // Upright the image is 200 wide and 400 tall, so the padding is left and right, not above and below.
    expect(Math.min(...data.subarray(0, 3))).toBeGreaterThan(245);
    expect(data[(10 * info.width + 50) * 3 + 2]).toBeGreaterThan(150);
  });
});

describe('ImageProcessor.resizeForModel to a model family', () => {
  it('sends a 12 MP photo to qwen2.5vl at the SmartResize size: sides multiples of 28, within the budget', async () => {
    const photo = await solid(4000, 3000, '#336699').jpeg().toBuffer();
    const full = await processor.resizeForModel(photo, { family: 'qwen2.5vl' });
    expect([full.width, full.height]).toEqual([1652, 1232]);
    expect(await processor.probe(full.data)).toMatchObject({ format: 'jpeg', width: 1652, height: 1232 });

    const budget = await processor.resizeForModel(photo, { family: 'qwen2.5vl', maxPixels: 1_003_520 });
    expect([budget.width, budget.height]).toEqual([1148, 840]);
    expect(budget.width * budget.height).toBeLessThanOrEqual(1_003_520);
    expect([budget.width % 28, budget.height % 28]).toEqual([0, 0]);
  });

  it('rounds a small image to multiples of 28 too (640×480 → 644×476), so Ollama has nothing left to resize', async () => {
    const out = await processor.resizeForModel(await solid(640, 480, '#336699').jpeg().toBuffer(), {
      family: 'qwen2.5vl',
    });
    expect([out.width, out.height]).toEqual([644, 476]);
  });

  it('passes an image already at the size through untouched', async () => {
    const exact = await solid(644, 476, '#808080').jpeg().toBuffer();
    const out = await processor.resizeForModel(exact, { family: 'qwen2.5vl' });
    expect(out.data.equals(exact)).toBe(true);
  });

  it('sizes the upright image when EXIF turns it', async () => {
    // Upright 200×300: 200 ÷ 28 = 7.1 → 196, 300 ÷ 28 = 10.7 → 308.
    const rotated = await solid(300, 200, '#336699').jpeg().withMetadata({ orientation: 6 }).toBuffer();
    const out = await processor.resizeForModel(rotated, { family: 'qwen2.5vl' });
    expect([out.width, out.height]).toEqual([196, 308]);
    expect(await processor.probe(out.data)).toMatchObject({
      width: 196,
      height: 308,
      orientation: undefined,
    });
  });

  it('keeps transparency as PNG', async () => {
    const out = await processor.resizeForModel(await translucent(400, 200).png().toBuffer(), {
      family: 'qwen3-vl',
    });
    // qwen3-vl rounds to multiples of 32: 400 ÷ 32 = 12.5 → 12 (half to even), 200 ÷ 32 = 6.25 → 6.
    expect(out.mime).toBe('image/png');
    expect(await processor.probe(out.data)).toMatchObject({ width: 384, height: 192, hasAlpha: true });
  });

  it('pads to 896² for gemma3 and fits the tiled canvas for mllama', async () => {
    const photo = await solid(2560, 1920, '#336699').jpeg().toBuffer();
    expect(await processor.resizeForModel(photo, { family: 'gemma3' })).toMatchObject({
      width: 896,
      height: 896,
    });
    expect(await processor.resizeForModel(photo, { family: 'mllama' })).toMatchObject({
      width: 1120,
      height: 840,
    });
  });
});

describe('ImageProcessor.toRawRgb', () => {
  it('stretches to exactly size×size packed RGB', async () => {
    const rgb = await processor.toRawRgb(await solid(50, 80, '#123456').png().toBuffer(), 224);
    expect([rgb.width, rgb.height]).toEqual([224, 224]);
    expect(rgb.data).toHaveLength(224 * 224 * 3);
    expect([...rgb.data.subarray(0, 3)]).toEqual([0x12, 0x34, 0x56]);
  });

  it('flattens transparency onto white', async () => {
    const clear = sharp({
      create: { width: 30, height: 30, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } },
    });
    const rgb = await processor.toRawRgb(await clear.png().toBuffer(), 16);
    expect(rgb.data).toHaveLength(16 * 16 * 3);
    expect(rgb.data.every((v) => v === 255)).toBe(true);
  });

  it('turns grey input into three channels', async () => {
    const grey = await solid(20, 20, '#808080').toColourspace('b-w').png().toBuffer();
    expect((await sharp(grey).metadata()).channels).toBe(1);
    expect((await processor.toRawRgb(grey, 8)).data).toHaveLength(8 * 8 * 3);
  });

  it('turns 16-bit input into 8-bit RGB', async () => {
    const input = await opaque(64, 48).toColourspace('rgb16').png().toBuffer();
    const rgb = await processor.toRawRgb(input, 10);
    expect(rgb.data).toHaveLength(10 * 10 * 3);
    // 16-bit levels are 257 × the 8-bit ones, so the conversion may land one level low.
    [30, 120, 200].forEach((level, i) => {
      expect(Math.abs(rgb.data[i] - level)).toBeLessThanOrEqual(1);
    });
  });

  it('refuses a size that is not a positive integer', async () => {
    const png = await solid(8, 8, '#808080').png().toBuffer();
    await expect(processor.toRawRgb(png, 0)).rejects.toThrow(RangeError);
    await expect(processor.toRawRgb(png, 22.5)).rejects.toThrow(RangeError);
  });

  it('maps undecodable bytes to IMAGE_DECODE_FAILED', async () => {
    await expect(processor.toRawRgb(Buffer.from('nope'), 224)).rejects.toMatchObject({
      code: 'IMAGE_DECODE_FAILED',
    });
  });
});

describe('ImageProcessor.measure', () => {
  it('names a solid colour and returns its hex', async () => {
    const measured = await processor.measure(await solid(300, 200, '#cc2222').png().toBuffer());
    expect(measured).toMatchObject({ width: 300, height: 200 });
    expect(measured.dominantColours).toHaveLength(1);
    const [top] = measured.dominantColours;
    expect(top.name).toBe('red');
    expect(top.share).toBe(1);
    const channels = [1, 3, 5].map((i) => Number.parseInt(top.hex.slice(i, i + 2), 16));
    const distance = Math.hypot(channels[0] - 0xcc, channels[1] - 0x22, channels[2] - 0x22);
    expect(distance).toBeLessThan(4);
  });

  it('calls pure white white', async () => {
    const measured = await processor.measure(await solid(120, 120, '#ffffff').jpeg().toBuffer());
    expect(measured.dominantColours[0]).toEqual({ name: 'white', hex: '#ffffff', share: 1 });
  });

  it('finds both halves of a half navy, half beige image at about 50 % each', async () => {
    const half = await solid(400, 300, '#1c2a4d')
      .composite([{ input: await solid(200, 300, '#dcc7a1').png().toBuffer(), left: 200, top: 0 }])
      .jpeg()
      .toBuffer();
    const colours = (await processor.measure(half)).dominantColours;
    expect(colours.map((c) => c.name).sort()).toEqual(['beige', 'navy']);
    for (const colour of colours) expect(colour.share).toBeCloseTo(0.5, 1);
  });

  it('sees the product and the background of a packshot', async () => {
    const measured = await processor.measure(await sharp(productSvg()).jpeg().toBuffer());
    expect(measured.dominantColours[0].name).toBe('white');
    expect(measured.dominantColours.slice(1).map((c) => c.name)).toEqual(
      expect.arrayContaining([expect.stringMatching(/orange|brown|tan/)]),
    );
    expect(measured.exposure.verdict).toBe('ok');
    expect(measured.sharpness.verdict).toBe('ok');
  });

  it('reads 16-bit and grey input as 8-bit colour', async () => {
    const deep = await processor.measure(await opaque(64, 48).toColourspace('rgb16').png().toBuffer());
    expect(deep.dominantColours).toHaveLength(1);
    expect(deep.dominantColours[0]).toMatchObject({ name: 'blue', share: 1 });
    // 16-bit levels are 257 × the 8-bit ones, so the conversion may land one level low.
    expect(deep.dominantColours[0].hex).toMatch(/^#1[de]7[78]c[78]$/);
    const grey = await processor.measure(
      await solid(64, 48, '#808080').toColourspace('grey16').png().toBuffer(),
    );
    expect(grey.dominantColours).toEqual([{ name: 'grey', hex: '#808080', share: 1 }]);
  });

  it('reports the upright size of an image with EXIF orientation', async () => {
    const rotated = await solid(300, 200, '#808080').jpeg().withMetadata({ orientation: 6 }).toBuffer();
    expect(await processor.measure(rotated)).toMatchObject({ width: 200, height: 300 });
  });

  describe('exposure', () => {
    it('calls a very dark photo under-exposed', async () => {
      const dark = await sharp(productSvg()).linear(0.12, 0).jpeg().toBuffer();
      expect((await processor.measure(dark)).exposure).toMatchObject({ verdict: 'under' });
    });

    it('calls a washed-out near-white photo over-exposed', async () => {
      const washed = await sharp(productSvg()).linear(0.25, 200).jpeg().toBuffer();
      const { exposure } = await processor.measure(washed);
      expect(exposure.verdict).toBe('over');
      expect(exposure.meanLuminance).toBeGreaterThan(0.8);
    });

    it('calls a mid-grey gradient fine', async () => {
      const gradient = Buffer.from(
        `<svg xmlns="http://www.w3.org/2000/svg" width="600" height="400"><defs><linearGradient id="g">` +
          `<stop offset="0" stop-color="#404040"/><stop offset="1" stop-color="#c0c0c0"/></linearGradient></defs>` +
          `<rect width="600" height="400" fill="url(#g)"/></svg>`,
      );
      const { exposure } = await processor.measure(await sharp(gradient).png().toBuffer());
      expect(exposure.verdict).toBe('ok');
      expect(exposure.meanLuminance).toBeGreaterThan(0.35);
      expect(exposure.meanLuminance).toBeLessThan(0.65);
      expect(exposure.shadowsClipped).toBe(0);
      expect(exposure.highlightsClipped).toBe(0);
    });

    it('does not call black text on white paper over-exposed', async () => {
      const page = await sharp(textSvg(1000, 800, 24))
        .png()
        .toBuffer();
      expect((await processor.measure(page)).exposure.verdict).toBe('ok');
    });
  });

  describe('sharpness', () => {
    it('tells rendered text from the same text blurred', async () => {
      const page = await sharp(textSvg(1000, 800, 24))
        .png()
        .toBuffer();
      const sharpPage = (await processor.measure(page)).sharpness;
      const blurred = (await processor.measure(await sharp(page).blur(8).png().toBuffer())).sharpness;
      expect(sharpPage.verdict).toBe('ok');
      expect(blurred.verdict).toBe('blurry');
      expect(sharpPage.laplacianVariance).toBeGreaterThan(10 * blurred.laplacianVariance);
    });

    it('tells a sharp packshot from the same packshot blurred', async () => {
      const photo = await sharp(productSvg()).png().toBuffer();
      expect((await processor.measure(photo)).sharpness.verdict).toBe('ok');
      const blurred = await sharp(photo).blur(8).jpeg().toBuffer();
      expect((await processor.measure(blurred)).sharpness.verdict).toBe('blurry');
    });

    it('judges a large upload at the same scale as a small one', async () => {
      const small = await processor.measure(await sharp(productSvg(1024, 768)).png().toBuffer());
      const large = await processor.measure(await sharp(productSvg(2048, 1536)).png().toBuffer());
      expect(large.sharpness.laplacianVariance).toBeGreaterThan(small.sharpness.laplacianVariance * 0.5);
      expect(large.sharpness.laplacianVariance).toBeLessThan(small.sharpness.laplacianVariance * 2);
    });
  });

  it('maps undecodable bytes to IMAGE_DECODE_FAILED', async () => {
    await expect(processor.measure(Buffer.from('nope'))).rejects.toMatchObject({
      code: 'IMAGE_DECODE_FAILED',
    });
  });
});

describe('ImageProcessor.prepareForOcr', () => {
  async function greyOf(png: Buffer) {
    const { data, info } = await sharp(png).greyscale().raw().toBuffer({ resolveWithObject: true });
    return { data, width: info.width, height: info.height };
  }
  type Grey = { data: Buffer; width: number; height: number };
  const columnMean = (image: Grey, from: number, to: number) => {
    let sum = 0;
    for (let y = 0; y < image.height; y++)
      for (let x = from; x < to; x++) sum += image.data[y * image.width + x];
    return sum / (image.height * (to - from));
  };
  /** The paper's level in a band of columns: text covers far less than half of any band. */
  const columnMedian = (image: Grey, from: number, to: number) => {
    const levels: number[] = [];
    for (let y = 0; y < image.height; y++)
      for (let x = from; x < to; x++) levels.push(image.data[y * image.width + x]);
    return levels.sort((a, b) => a - b)[Math.floor(levels.length / 2)];
  };

  it('doubles a small image and reports the scale', async () => {
    const out = await processor.prepareForOcr(await solid(800, 300, '#ffffff').png().toBuffer());
    expect(out).toMatchObject({ width: 1600, height: 600, scale: 2 });
    expect(await processor.probe(out.data)).toMatchObject({ format: 'png', width: 1600, height: 600 });
    expect((await sharp(out.data).metadata()).channels).toBe(1);
  });

  it('keeps a large image at its size and caps a huge one at 4000 px', async () => {
    expect(await processor.prepareForOcr(await solid(2000, 1000, '#fff').png().toBuffer())).toMatchObject({
      width: 2000,
      height: 1000,
      scale: 1,
    });
    expect(await processor.prepareForOcr(await solid(5000, 1000, '#fff').png().toBuffer())).toMatchObject({
      width: 4000,
      height: 800,
      scale: 0.8,
    });
  });

  it('measures the scale against the upright image', async () => {
    const rotated = await solid(300, 100, '#ffffff').jpeg().withMetadata({ orientation: 6 }).toBuffer();
    expect(await processor.prepareForOcr(rotated)).toMatchObject({ width: 200, height: 600, scale: 2 });
  });

  it('survives tiny and blank images', async () => {
    for (const [width, height] of [
      [1, 1],
      [4, 4],
      [3000, 20],
    ]) {
      const out = await processor.prepareForOcr(await solid(width, height, '#888').png().toBuffer());
      expect(out.width).toBeGreaterThan(0);
    }
  });

  it('flattens a strong left-to-right lighting gradient', async () => {
    const shade = Buffer.from(
      `<svg xmlns="http://www.w3.org/2000/svg" width="1000" height="800"><defs><linearGradient id="g">` +
        `<stop offset="0" stop-color="#303030"/><stop offset="1" stop-color="#ffffff"/></linearGradient></defs>` +
        `<rect width="1000" height="800" fill="url(#g)"/></svg>`,
    );
    const page = await sharp(textSvg(1000, 800, 24))
      .composite([{ input: await sharp(shade).png().toBuffer(), blend: 'multiply' }])
      .png()
      .toBuffer();
    const before = await greyOf(page);
    expect(columnMedian(before, 900, 1000) - columnMedian(before, 0, 100)).toBeGreaterThan(150);

    const out = await greyOf((await processor.prepareForOcr(page)).data);
    expect(Math.abs(columnMedian(out, 1800, 2000) - columnMedian(out, 0, 200))).toBeLessThan(16);
    expect(columnMedian(out, 0, 200)).toBeGreaterThan(220);
  });

  it('turns light text on a dark background into dark text on light', async () => {
    const tag = Buffer.from(
      `<svg xmlns="http://www.w3.org/2000/svg" width="360" height="160"><rect width="360" height="160" fill="#b3121f"/>` +
        `<text x="40" y="105" font-family="DejaVu Sans" font-size="64" font-weight="bold" fill="#fff">€ 12.99</text></svg>`,
    );
    const out = await greyOf((await processor.prepareForOcr(await sharp(tag).png().toBuffer())).data);
    expect(columnMean(out, 0, out.width)).toBeGreaterThan(160);
  });

  it('maps undecodable bytes to IMAGE_DECODE_FAILED', async () => {
    await expect(processor.prepareForOcr(Buffer.from('nope'))).rejects.toMatchObject({
      code: 'IMAGE_DECODE_FAILED',
    });
  });
});

describe('ImageProcessor.normalise keeping an upload that is already normal', () => {
  const limits640: ImageLimits = { ...limits, maxLongSide: 1024 };
  /** A store-style ZIP end-of-central-directory record: what a JPEG+ZIP polyglot ends with. */
  const zipTail = Buffer.from([0x50, 0x4b, 0x05, 0x06, ...new Array<number>(18).fill(0)]);
  const afterSoi = (jpeg: Buffer, segment: Buffer) =>
    Buffer.concat([jpeg.subarray(0, 2), segment, jpeg.subarray(2)]);
  const comment = Buffer.from([0xff, 0xfe, 0x00, 0x07, 0x68, 0x65, 0x6c, 0x6c, 0x6f]);

  it.each([
    ['baseline', () => noisy(640, 480).jpeg({ quality: 85 }).toBuffer()],
    ['progressive', () => noisy(640, 480).jpeg({ quality: 85, progressive: true }).toBuffer()],
    ['4:4:4', () => noisy(640, 480).jpeg({ chromaSubsampling: '4:4:4' }).toBuffer()],
  ])('returns a clean %s JPEG byte for byte', async (_name, make) => {
    const input = await make();
    const image = await processor.normalise(input, limits640);
    expect(image.data.equals(input)).toBe(true);
    expect(image).toMatchObject({ mime: 'image/jpeg', width: 640, height: 480, sourceFormat: 'jpeg' });
    expect(image.sourcePixels).toBe(640 * 480);
    expect(image.timings.normaliseMs).toBeGreaterThanOrEqual(0);
  });

  it.each([
    [
      'EXIF',
      () =>
        noisy(64, 48)
          .jpeg()
          .withExif({ IFD0: { Artist: 'someone', Copyright: 'private' } })
          .toBuffer(),
    ],
    ['an ICC profile', () => noisy(64, 48).jpeg().withIccProfile('p3').toBuffer()],
    ['a COM comment', async () => afterSoi(await noisy(64, 48).jpeg().toBuffer(), comment)],
    ['bytes after EOI', async () => Buffer.concat([await noisy(64, 48).jpeg().toBuffer(), zipTail])],
  ])('re-encodes a JPEG with %s and drops it', async (_name, make) => {
    const input = await make();
    const image = await processor.normalise(input, limits);
    expect(image.data.equals(input)).toBe(false);
    expect([image.width, image.height]).toEqual([64, 48]);
    const meta = await sharp(image.data).metadata();
    expect([meta.exif, meta.icc, meta.comments]).toEqual([undefined, undefined, undefined]);
    expect(isPlainJpeg(image.data)).toBe(true);
  });

  it('re-encodes a JPEG with orientation 6, upright', async () => {
    const input = await noisy(300, 200).jpeg().withMetadata({ orientation: 6 }).toBuffer();
    const image = await processor.normalise(input, limits);
    expect(image.data.equals(input)).toBe(false);
    expect([image.width, image.height]).toEqual([200, 300]);
    expect((await processor.probe(image.data)).orientation).toBeUndefined();
  });

  it('re-encodes and resizes a clean JPEG larger than maxLongSide', async () => {
    const input = await noisy(3000, 1000).jpeg().toBuffer();
    const image = await processor.normalise(input, limits);
    expect(image.data.equals(input)).toBe(false);
    expect([image.width, image.height]).toEqual([2048, 683]);
  });

  it('re-encodes a grey JPEG into three-channel sRGB', async () => {
    const input = await noisy(64, 48).toColourspace('b-w').jpeg().toBuffer();
    expect((await sharp(input).metadata()).channels).toBe(1);
    const image = await processor.normalise(input, limits);
    expect(image.data.equals(input)).toBe(false);
    expect(await pixelsOf(image.data)).toEqual({ channels: 3, space: 'srgb', depth: 'uchar' });
  });

  it('refuses a truncated clean JPEG', async () => {
    const whole = await noisy(640, 480).jpeg().toBuffer();
    await expect(processor.normalise(whole.subarray(0, whole.length >> 1), limits)).rejects.toMatchObject({
      code: 'IMAGE_DECODE_FAILED',
    });
  });

  it.each([
    ['baseline', () => noisy(640, 480).jpeg().toBuffer()],
    ['progressive', () => noisy(640, 480).jpeg({ progressive: true }).toBuffer()],
  ])(
    'refuses a %s JPEG cut mid-scan and closed with EOI, which the marker walk alone would keep',
    async (_name, make) => {
      const whole = await make();
      const firstScan = whole.indexOf(Buffer.from([0xff, 0xda]));
      const cut = Buffer.concat([whole.subarray(0, firstScan + 2000), Buffer.from([0xff, 0xd9])]);
      expect(isPlainJpeg(cut)).toBe(true);
      await expect(processor.normalise(cut, limits)).rejects.toMatchObject({ code: 'IMAGE_DECODE_FAILED' });
    },
  );

  it('refuses a kept-looking JPEG over the pixel limit before decoding it', async () => {
    const input = await noisy(640, 480).jpeg().toBuffer();
    await expect(processor.normalise(input, { ...limits, maxPixels: 640 * 480 - 1 })).rejects.toMatchObject({
      code: 'IMAGE_TOO_LARGE',
    });
  });
});

describe('ImageProcessor.resizeForModel with known facts', () => {
  const cases: Array<[string, () => Promise<Buffer>]> = [
    ['800×600 JPEG', () => noisy(800, 600).jpeg().toBuffer()],
    ['1500×400 JPEG', () => noisy(1500, 400).jpeg().toBuffer()],
    ['896×896 JPEG', () => noisy(896, 896).jpeg().toBuffer()],
    ['2000×10 JPEG strip', () => noisy(2000, 10).jpeg().toBuffer()],
    ['600×300 translucent PNG', () => translucent(600, 300).png().toBuffer()],
  ];
  const targets = [
    { longSide: 1024 },
    { longSide: 512 },
    { square: 224 },
    { family: 'qwen2.5vl' as const },
    { family: 'gemma3' as const },
  ];

  it.each(cases)('gives %s the same model input with and without them', async (_name, make) => {
    const normalised = await processor.normalise(await make(), limits);
    const known = {
      width: normalised.width,
      height: normalised.height,
      hasAlpha: normalised.mime === 'image/png',
    };
    for (const target of targets) {
      const read = await processor.resizeForModel(normalised.data, target);
      const told = await processor.resizeForModel(normalised.data, target, known);
      expect({ target, mime: told.mime, width: told.width, height: told.height }).toEqual({
        target,
        mime: read.mime,
        width: read.width,
        height: read.height,
      });
      expect(told.data.equals(read.data)).toBe(true);
    }
  });

  it('reads no header when told the facts: bytes that fit pass through unread', async () => {
    const unread = Buffer.from('not an image, never decoded');
    const out = await processor.resizeForModel(
      unread,
      { longSide: 1024 },
      { width: 800, height: 600, hasAlpha: false },
    );
    expect(out).toEqual({ data: unread, mime: 'image/jpeg', width: 800, height: 600 });
  });
});
