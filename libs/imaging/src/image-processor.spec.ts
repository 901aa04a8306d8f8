import { createHash } from 'node:crypto';
import { ArgusError } from '@argus/contracts';
import sharp from 'sharp';
import { ImageProcessor, type ImageLimits } from './image-processor';

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
