import sharp from 'sharp';
import { findCorruptPngChunk, sniffImageFormat } from './image-format';

const base = () =>
  sharp({ create: { width: 8, height: 8, channels: 3, background: { r: 200, g: 40, b: 40 } } });

/** A minimal ISO-BMFF `ftyp` box: size, 'ftyp', major brand, minor version 0, compatible brands. */
function ftyp(major: string, compatible: string[]): Buffer {
  const size = 16 + compatible.length * 4;
  const box = Buffer.alloc(size);
  box.writeUInt32BE(size, 0);
  box.write('ftyp', 4, 'ascii');
  box.write(major, 8, 'ascii');
  compatible.forEach((brand, i) => box.write(brand, 16 + i * 4, 'ascii'));
  return box;
}

describe('sniffImageFormat', () => {
  it.each([
    ['jpeg', () => base().jpeg().toBuffer()],
    ['png', () => base().png().toBuffer()],
    ['webp', () => base().webp().toBuffer()],
    ['gif', () => base().gif().toBuffer()],
    ['tiff', () => base().tiff().toBuffer()],
    ['avif', () => base().avif().toBuffer()],
  ] as const)('recognises %s written by sharp', async (format, make) => {
    expect(sniffImageFormat(await make())).toBe(format);
  });

  it('recognises big-endian TIFF and GIF87a', () => {
    expect(sniffImageFormat(Buffer.from([0x4d, 0x4d, 0x00, 0x2a, 0, 0, 0, 8]))).toBe('tiff');
    expect(sniffImageFormat(Buffer.from('GIF87a\x01\x00\x01\x00', 'latin1'))).toBe('gif');
  });

  it('accepts AVIF named by the major brand or only by a compatible brand', () => {
    expect(sniffImageFormat(ftyp('avif', ['mif1', 'miaf']))).toBe('avif');
    expect(sniffImageFormat(ftyp('avis', ['msf1']))).toBe('avif');
    expect(sniffImageFormat(ftyp('mif1', ['mif1', 'miaf', 'avif']))).toBe('avif');
  });

  it('rejects HEIC and other ISO-BMFF brands', () => {
    expect(sniffImageFormat(ftyp('heic', ['mif1', 'heic']))).toBeNull();
    expect(sniffImageFormat(ftyp('heix', ['mif1', 'heix']))).toBeNull();
    expect(sniffImageFormat(ftyp('mif1', ['mif1']))).toBeNull();
    expect(sniffImageFormat(ftyp('isom', ['isom', 'mp41']))).toBeNull();
  });

  it('ignores brands beyond the ftyp box', () => {
    const heicThenAvifBytes = Buffer.concat([ftyp('heic', ['mif1']), Buffer.from('avif')]);
    expect(sniffImageFormat(heicThenAvifBytes)).toBeNull();
  });

  it.each([
    ['SVG', Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>')],
    ['SVG with XML prolog', Buffer.from('<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>')],
    ['PDF', Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n', 'latin1')],
    ['text', Buffer.from('hello, this is not an image')],
    ['empty input', Buffer.alloc(0)],
    ['a lone JPEG marker', Buffer.from([0xff, 0xd8])],
    ['RIFF that is not WebP', Buffer.from('RIFF\x24\x00\x00\x00WAVEfmt ', 'latin1')],
  ])('rejects %s', (_name, bytes) => {
    expect(sniffImageFormat(bytes)).toBeNull();
  });

  it('reads a view into a larger buffer at its own offset', async () => {
    const png = await base().png().toBuffer();
    const padded = Buffer.concat([Buffer.from('junk'), png]);
    expect(sniffImageFormat(padded.subarray(4))).toBe('png');
    const avif = ftyp('avif', []);
    const shared = new ArrayBuffer(3 + avif.length);
    new Uint8Array(shared).set(avif, 3);
    expect(sniffImageFormat(new Uint8Array(shared, 3))).toBe('avif');
  });
});

describe('findCorruptPngChunk', () => {
  /** Flips one bit of the CRC of the first chunk of this type. */
  function damageCrc(png: Buffer, type: string): Buffer {
    const start = png.indexOf(Buffer.from(type, 'latin1')) - 4;
    const copy = Buffer.from(png);
    copy[start + 8 + png.readUInt32BE(start) + 3] ^= 0x01;
    return copy;
  }

  it('passes an intact PNG, also as a view into a larger buffer', async () => {
    const png = await base().png().toBuffer();
    expect(findCorruptPngChunk(png)).toBeNull();
    expect(findCorruptPngChunk(Buffer.concat([Buffer.from('junk'), png]).subarray(4))).toBeNull();
  });

  it.each(['IHDR', 'IDAT', 'IEND'])('names a critical %s chunk whose CRC does not match', async (type) => {
    const png = await base().png().toBuffer();
    expect(findCorruptPngChunk(damageCrc(png, type))).toBe(type);
  });

  it('ignores ancillary chunks and leaves truncation to the decoder', async () => {
    const png = await base().png().withMetadata({ density: 300 }).toBuffer();
    expect(png.includes(Buffer.from('pHYs', 'latin1'))).toBe(true);
    expect(findCorruptPngChunk(damageCrc(png, 'pHYs'))).toBeNull();
    expect(findCorruptPngChunk(png.subarray(0, png.length - 20))).toBeNull();
  });
});
