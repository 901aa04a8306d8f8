import sharp from 'sharp';
import { isPlainJpeg, walkJpegMarkers } from './jpeg-segments';

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

function segment(marker: number, payload: number[]): Buffer {
  const length = payload.length + 2;
  return Buffer.from([0xff, marker, length >> 8, length & 0xff, ...payload]);
}

function afterSoi(jpeg: Buffer, inserted: Buffer): Buffer {
  return Buffer.concat([jpeg.subarray(0, 2), inserted, jpeg.subarray(2)]);
}

const JFIF = segment(0xe0, [0x4a, 0x46, 0x49, 0x46, 0x00, 1, 1, 0, 0, 1, 0, 1, 0, 0]);
const sof0 = (precision: number, lumaSampling = 0x22, chromaSampling = 0x11) =>
  segment(0xc0, [precision, 0, 16, 0, 16, 3, 1, lumaSampling, 0, 2, chromaSampling, 1, 3, chromaSampling, 1]);
const SOS = segment(0xda, [3, 1, 0x00, 2, 0x11, 3, 0x11, 0, 63, 0]);

/** A hand-built layout (the walker does not decode tables): entropy data with stuffed FF00 and RST markers. */
function synthetic(
  frame = sof0(8),
  entropy = [0x12, 0xff, 0x00, 0x34, 0xff, 0xd0, 0x56, 0xff, 0xd7, 0x78],
): Buffer {
  return Buffer.concat([
    Buffer.from([0xff, 0xd8]),
    JFIF,
    segment(0xdb, [0, ...new Array<number>(64).fill(1)]),
    frame,
    segment(0xc4, [0, ...new Array<number>(16).fill(0)]),
    segment(0xdd, [0, 4]),
    SOS,
    Buffer.from(entropy),
    Buffer.from([0xff, 0xd9]),
  ]);
}

describe('walkJpegMarkers', () => {
  it('finds nothing but the picture in a JPEG that sharp writes, baseline or progressive', async () => {
    const baseline = await noisy(64, 48).jpeg().toBuffer();
    const progressive = await noisy(64, 48).jpeg({ progressive: true }).toBuffer();
    const everyChroma = await noisy(64, 48).jpeg({ chromaSubsampling: '4:4:4' }).toBuffer();
    for (const jpeg of [baseline, progressive, everyChroma]) {
      expect(walkJpegMarkers(jpeg)).toEqual({
        onlyPlainMarkers: true,
        commonSampling: true,
        endsAtEoi: true,
      });
      expect(isPlainJpeg(jpeg)).toBe(true);
    }
  });

  it('treats stuffed FF00 and RST0-7 inside a scan as data, and accepts DRI', () => {
    expect(walkJpegMarkers(synthetic())).toEqual({
      onlyPlainMarkers: true,
      commonSampling: true,
      endsAtEoi: true,
    });
  });

  it('walks every scan of a progressive JPEG, with tables between them', async () => {
    const progressive = await noisy(64, 48).jpeg({ progressive: true }).toBuffer();
    let scans = 0;
    for (let index = 0; index + 1 < progressive.length; index += 1) {
      if (progressive[index] === 0xff && progressive[index + 1] === 0xda) scans += 1;
    }
    expect(scans).toBeGreaterThan(1);
    expect(isPlainJpeg(progressive)).toBe(true);
  });

  it.each([
    [
      'EXIF (APP1)',
      () =>
        noisy(32, 32)
          .jpeg()
          .withExif({ IFD0: { Artist: 'someone' } })
          .toBuffer(),
    ],
    ['an ICC profile (APP2)', () => noisy(32, 32).jpeg().withIccProfile('p3').toBuffer()],
    [
      'a COM comment',
      async () => afterSoi(await noisy(32, 32).jpeg().toBuffer(), segment(0xfe, [0x68, 0x69])),
    ],
    [
      'an Adobe APP14',
      async () => afterSoi(await noisy(32, 32).jpeg().toBuffer(), segment(0xee, [0x41, 0x64])),
    ],
    [
      'a JFXX APP0 (thumbnail extension)',
      async () =>
        afterSoi(await noisy(32, 32).jpeg().toBuffer(), segment(0xe0, [0x4a, 0x46, 0x58, 0x58, 0, 0x10])),
    ],
    ['a 12-bit frame', () => Promise.resolve(synthetic(sof0(12)))],
  ])('flags %s as not plain, still finding EOI at the end', async (_name, make) => {
    const walk = walkJpegMarkers(await make());
    expect(walk.onlyPlainMarkers).toBe(false);
    expect(walk.endsAtEoi).toBe(true);
  });

  it('flags a JFIF APP0 that carries a thumbnail', () => {
    const thumbnail = segment(0xe0, [0x4a, 0x46, 0x49, 0x46, 0x00, 1, 1, 0, 0, 1, 0, 1, 1, 1, 0, 0, 0]);
    const jpeg = synthetic();
    const withThumbnail = Buffer.concat([jpeg.subarray(0, 2), thumbnail, jpeg.subarray(2 + JFIF.length)]);
    expect(walkJpegMarkers(withThumbnail).onlyPlainMarkers).toBe(false);
  });

  it('flags grey and unusual chroma layouts as uncommon sampling', async () => {
    expect(walkJpegMarkers(await noisy(32, 32).toColourspace('b-w').jpeg().toBuffer()).commonSampling).toBe(
      false,
    );
    expect(walkJpegMarkers(synthetic(sof0(8, 0x11, 0x22))).commonSampling).toBe(false);
    expect(walkJpegMarkers(synthetic(sof0(8, 0x31, 0x11))).commonSampling).toBe(false);
    expect(walkJpegMarkers(synthetic(sof0(8, 0x21, 0x11))).commonSampling).toBe(true);
  });

  it('finds bytes after EOI', async () => {
    const jpeg = await noisy(32, 32).jpeg().toBuffer();
    const zipTail = Buffer.from([0x50, 0x4b, 0x05, 0x06, ...new Array<number>(18).fill(0)]);
    expect(walkJpegMarkers(Buffer.concat([jpeg, zipTail]))).toEqual({
      onlyPlainMarkers: true,
      commonSampling: true,
      endsAtEoi: false,
    });
    expect(isPlainJpeg(Buffer.concat([jpeg, Buffer.from([0])]))).toBe(false);
  });

  it.each([
    ['nothing', Buffer.alloc(0)],
    ['SOI only', Buffer.from([0xff, 0xd8])],
    ['SOI then garbage', Buffer.from([0xff, 0xd8, 0x12, 0x34, 0x56, 0x78])],
    ['a PNG signature', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])],
    ['a segment length past the end', Buffer.from([0xff, 0xd8, 0xff, 0xdb, 0xff, 0xff, 0x00])],
    ['a segment length under 2', Buffer.from([0xff, 0xd8, 0xff, 0xdb, 0x00, 0x01, 0xff, 0xd9])],
    ['EOI without a frame or scan', Buffer.from([0xff, 0xd8, 0xff, 0xd9])],
    ['fill bytes before a marker', Buffer.concat([Buffer.from([0xff, 0xd8, 0xff]), synthetic().subarray(2)])],
    ['a second SOI', Buffer.concat([Buffer.from([0xff, 0xd8]), synthetic()])],
    ['RST outside a scan', Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xd0]), synthetic().subarray(2)])],
    [
      'a scan before any frame',
      Buffer.concat([Buffer.from([0xff, 0xd8]), SOS, Buffer.from([1, 0xff, 0xd9])]),
    ],
    ['two frames', Buffer.concat([Buffer.from([0xff, 0xd8]), sof0(8), synthetic().subarray(2)])],
  ])('answers no to everything for %s', (_name, bytes) => {
    expect(walkJpegMarkers(bytes)).toEqual({
      onlyPlainMarkers: false,
      commonSampling: false,
      endsAtEoi: false,
    });
  });

  it('answers no for every truncation of a JPEG, never throwing', async () => {
    const jpeg = await noisy(32, 32).jpeg({ progressive: true }).toBuffer();
    for (let length = 0; length < jpeg.length; length += 1) {
      expect(isPlainJpeg(jpeg.subarray(0, length))).toBe(false);
    }
  });

  it('never throws on mangled bytes', async () => {
    const jpeg = await noisy(32, 32).jpeg().toBuffer();
    let seed = 7;
    const next = () => (seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648);
    for (let round = 0; round < 2000; round += 1) {
      const mangled = Buffer.from(jpeg);
      for (let flips = 0; flips < 4; flips += 1) mangled[next() % mangled.length] = next() % 256;
      expect(() => walkJpegMarkers(mangled)).not.toThrow();
    }
  });
});
