// Hostile inputs for POST /v1/analyze, generated at test time into a temporary directory: nothing binary is committed.
// Valid-but-unusual images come from sharp (test side only); broken, lying and malicious files are built by hand from
// bytes (PNG chunks with their CRCs, JPEG markers, GIF blocks, ZIP records) so each one is exactly what its name says.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createDeflate } from 'node:zlib';
import sharp from 'sharp';

/** Settings the suite starts the stack with; the generator sizes its "too large" cases from them. */
export interface HostileLimits {
  maxBytes: number;
  maxPixels: number;
  maxLongSide: number;
}

export type HostileRequest =
  /** The file in multipart field "image" (the curl -F way), optionally with a lying part type or name. */
  | { kind: 'multipart'; file: string; filename?: string; partType?: string }
  /** A form with no file part at all. */
  | { kind: 'multipart-no-file' }
  /** The same file twice in field "image". */
  | { kind: 'multipart-two-files'; file: string }
  /** The bytes as the body, with this Content-Type (tasks in the query string). */
  | { kind: 'raw'; file: string; contentType: string }
  /** A JSON body sent verbatim (it may be malformed on purpose). */
  | { kind: 'json'; body: string }
  /** The file as base64 in a JSON body. */
  | { kind: 'json-base64'; file: string; dataUrl?: boolean; wrap?: boolean };

export type HostileExpectation =
  | {
      status: 200;
      /** The stored image's size after EXIF orientation and the long-side cap. */
      width: number;
      height: number;
      format: 'jpeg' | 'png' | 'webp' | 'gif' | 'tiff' | 'avif';
    }
  | { status: 400 | 413 | 415 | 422; code: string };

export interface HostileCase {
  name: string;
  /** Why the answer is what a serious product should say. */
  why: string;
  request: HostileRequest;
  expect: HostileExpectation;
}

// ---------------------------------------------------------------------------------------------------------------
// Byte helpers

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n += 1) {
    let c = n;
    for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

export function crc32(...parts: Uint8Array[]): number {
  let crc = 0xffffffff;
  for (const part of parts) for (const byte of part) crc = CRC_TABLE[(crc ^ byte) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

const u32be = (value: number) => {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(value >>> 0);
  return bytes;
};
const u16le = (value: number) => {
  const bytes = Buffer.alloc(2);
  bytes.writeUInt16LE(value);
  return bytes;
};
const u32le = (value: number) => {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32LE(value >>> 0);
  return bytes;
};

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

export function pngChunk(type: string, data: Buffer): Buffer {
  const name = Buffer.from(type, 'latin1');
  return Buffer.concat([u32be(data.length), name, data, u32be(crc32(name, data))]);
}

function ihdr(width: number, height: number, bitDepth: number, colourType: number): Buffer {
  return pngChunk(
    'IHDR',
    Buffer.concat([u32be(width), u32be(height), Buffer.from([bitDepth, colourType, 0, 0, 0])]),
  );
}

/**
 * A valid PNG of width × height 1-bit grey zeros whose IDAT is deflated in a stream, so neither the generator nor the
 * file holds the decoded rows: 50 000 × 50 000 is 312 MB of scanlines in about 300 KB.
 */
export async function pngBomb(width: number, height: number): Promise<Buffer> {
  const rowBytes = 1 + Math.ceil(width / 8);
  const rowsPerWrite = Math.max(1, Math.floor((4 * 1024 * 1024) / rowBytes));
  const zeros = Buffer.alloc(rowBytes * rowsPerWrite);
  const deflate = createDeflate({ level: 9 });
  const chunks: Buffer[] = [];
  deflate.on('data', (chunk: Buffer) => chunks.push(chunk));
  const ended = new Promise<void>((resolve, reject) => {
    deflate.once('end', resolve);
    deflate.once('error', reject);
  });
  for (let rows = 0; rows < height; rows += rowsPerWrite) {
    const slice = zeros.subarray(0, rowBytes * Math.min(rowsPerWrite, height - rows));
    if (!deflate.write(slice)) await new Promise((resolve) => deflate.once('drain', resolve));
  }
  deflate.end();
  await ended;
  return Buffer.concat([
    PNG_SIGNATURE,
    ihdr(width, height, 1, 0),
    pngChunk('IDAT', Buffer.concat(chunks)),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

/** Flips the last byte of the first chunk of `type` (its CRC), leaving the data intact. */
function breakCrc(png: Buffer, type: string): Buffer {
  const copy = Buffer.from(png);
  let offset = PNG_SIGNATURE.length;
  while (offset + 8 <= copy.length) {
    const length = copy.readUInt32BE(offset);
    if (copy.toString('latin1', offset + 4, offset + 8) === type) {
      const crcAt = offset + 8 + length + 3;
      copy[crcAt] ^= 0xff;
      return copy;
    }
    offset += 12 + length;
  }
  throw new Error(`no ${type} chunk`);
}

/** Rewrites the size in every SOFn segment of a JPEG: the header then declares width × height. */
export function jpegWithDeclaredSize(jpeg: Buffer, width: number, height: number): Buffer {
  const copy = Buffer.from(jpeg);
  let offset = 2;
  let patched = 0;
  while (offset + 4 <= copy.length && copy[offset] === 0xff) {
    const marker = copy[offset + 1];
    const length = copy.readUInt16BE(offset + 2);
    const isSof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isSof) {
      copy.writeUInt16BE(height, offset + 5);
      copy.writeUInt16BE(width, offset + 7);
      patched += 1;
    }
    if (marker === 0xda) break; // start of scan: entropy-coded data follows
    offset += 2 + length;
  }
  if (patched === 0) throw new Error('no SOF marker found');
  return copy;
}

/** An APP1 "Exif" segment of about `size` bytes: a TIFF header and IFD0 with one long ImageDescription. */
export function exifApp1(size: number): Buffer {
  // TIFF (little-endian) header, IFD0 at offset 8 with one entry, no next IFD, then the string.
  const textLength = size - 2 - 6 - 8 - 2 - 12 - 4 - 2;
  const tiff = Buffer.concat([
    Buffer.from('II*\0', 'latin1'),
    u32le(8),
    u16le(1),
    u16le(0x010e), // ImageDescription
    u16le(2), // ASCII
    u32le(textLength),
    u32le(8 + 2 + 12 + 4),
    u32le(0),
    Buffer.alloc(textLength - 1, 0x41),
    Buffer.from([0]),
  ]);
  const payload = Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), tiff]);
  if (payload.length + 2 > 0xffff) throw new Error('an APP1 segment holds at most 65533 bytes');
  const header = Buffer.from([0xff, 0xe1, 0, 0]);
  header.writeUInt16BE(payload.length + 2, 2);
  return Buffer.concat([header, payload]);
}

/** Inserts a segment straight after a JPEG's SOI marker. */
function afterSoi(jpeg: Buffer, segment: Buffer): Buffer {
  return Buffer.concat([jpeg.subarray(0, 2), segment, jpeg.subarray(2)]);
}

/**
 * A GIF89a of `frames` 1×1 frames, each with a graphic-control extension: the classic frame-count bomb, tiny on the wire
 * (26 bytes a frame). `screen` is the logical screen size the header declares.
 */
export function gifFrames(frames: number, screen = { width: 1, height: 1 }): Buffer {
  const header = Buffer.concat([
    Buffer.from('GIF89a', 'latin1'),
    u16le(screen.width),
    u16le(screen.height),
    Buffer.from([0x80, 0, 0]), // global colour table of 2 entries
    Buffer.from([0, 0, 0, 0xff, 0xff, 0xff]),
    // NETSCAPE2.0 loop forever
    Buffer.from([0x21, 0xff, 0x0b]),
    Buffer.from('NETSCAPE2.0', 'latin1'),
    Buffer.from([0x03, 0x01, 0x00, 0x00, 0x00]),
  ]);
  const frame = Buffer.from([
    // graphic control: no disposal, 10 ms, no transparency
    0x21, 0xf9, 0x04, 0x00, 0x01, 0x00, 0x00, 0x00,
    // image descriptor: 1×1 at 0,0, no local table
    0x2c, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00,
    // LZW minimum code size 2; one sub-block: clear, index 1, end
    0x02, 0x02, 0x4c, 0x01, 0x00,
  ]);
  return Buffer.concat([header, Buffer.alloc(frame.length * frames).fill(frame), Buffer.from([0x3b])]);
}

/** A ZIP archive (stored, no compression) with the given files, built record by record. */
export function zipArchive(files: Record<string, Buffer>): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [name, data] of Object.entries(files)) {
    const fileName = Buffer.from(name, 'utf8');
    const crc = crc32(data);
    const common = Buffer.concat([
      u16le(20), // version needed
      u16le(0), // flags
      u16le(0), // stored
      u16le(0), // time
      u16le(0x21), // date 1980-01-01
      u32le(crc),
      u32le(data.length),
      u32le(data.length),
      u16le(fileName.length),
      u16le(0), // extra
    ]);
    const local = Buffer.concat([u32le(0x04034b50), common, fileName, data]);
    centrals.push(
      Buffer.concat([
        u32le(0x02014b50),
        u16le(20), // version made by
        common,
        u16le(0), // comment
        u16le(0), // disk
        u16le(0), // internal attributes
        u32le(0), // external attributes
        u32le(offset),
        fileName,
      ]),
    );
    locals.push(local);
    offset += local.length;
  }
  const central = Buffer.concat(centrals);
  const end = Buffer.concat([
    u32le(0x06054b50),
    u16le(0),
    u16le(0),
    u16le(centrals.length),
    u16le(centrals.length),
    u32le(central.length),
    u32le(offset),
    u16le(0),
  ]);
  return Buffer.concat([...locals, central, end]);
}

/** An ISO-BMFF file whose ftyp box says HEIC, then junk: enough for anything that sniffs the brand. */
function heicLike(): Buffer {
  const ftyp = Buffer.concat([
    u32be(24),
    Buffer.from('ftypheic', 'latin1'),
    u32be(0),
    Buffer.from('mif1heic', 'latin1'),
  ]);
  const meta = Buffer.concat([u32be(16), Buffer.from('meta', 'latin1'), Buffer.alloc(8)]);
  return Buffer.concat([ftyp, meta, randomBytes(2048)]);
}

// ---------------------------------------------------------------------------------------------------------------
// Sharp-made images

/** A textured photo: noise tiles over a colour, so it compresses like a real one. */
async function photo(width: number, height: number): Promise<sharp.Sharp> {
  const tile = 32;
  const noise = Buffer.alloc(tile * tile * 3);
  for (let i = 0; i < noise.length; i += 1) noise[i] = (i * 7919) % 251;
  const texture = await sharp(noise, { raw: { width: tile, height: tile, channels: 3 } })
    .png()
    .toBuffer();
  const composed = await sharp({ create: { width, height, channels: 3, background: '#c87a3c' } })
    .composite([{ input: texture, tile: true, blend: 'overlay' }])
    .png()
    .toBuffer();
  return sharp(composed);
}

// ---------------------------------------------------------------------------------------------------------------
// The cases

/**
 * Writes every case's file into `dir` and returns the cases. Sizes that depend on the stack's settings (the byte limit)
 * are derived from `limits`.
 */
export async function generateHostileCases(dir: string, limits: HostileLimits): Promise<HostileCase[]> {
  const cases: HostileCase[] = [];
  const write = (name: string, bytes: Buffer | string): string => {
    const path = join(dir, name);
    writeFileSync(path, bytes);
    return path;
  };
  const add = (entry: HostileCase) => cases.push(entry);
  const reject = (status: 400 | 413 | 415 | 422, code: string) => ({ status, code }) as const;

  const jpeg = await (await photo(320, 240)).jpeg({ quality: 80 }).toBuffer();
  const png = await (await photo(320, 240)).png().toBuffer();
  const jpegFile = write('photo.jpg', jpeg);
  const pngFile = write('photo.png', png);

  // Not images at all.
  add({
    name: 'empty file (0 bytes)',
    why: 'nothing to decode',
    request: { kind: 'multipart', file: write('empty.jpg', Buffer.alloc(0)) },
    expect: reject(422, 'IMAGE_DECODE_FAILED'),
  });
  add({
    name: 'empty raw body with Content-Type image/jpeg',
    why: 'nothing to decode',
    request: { kind: 'raw', file: join(dir, 'empty.jpg'), contentType: 'image/jpeg' },
    expect: reject(422, 'IMAGE_DECODE_FAILED'),
  });
  add({
    name: 'random bytes',
    why: 'no known signature: refused by the sniffer before any decoder runs',
    request: { kind: 'multipart', file: write('random.jpg', randomBytes(64 * 1024)) },
    expect: reject(415, 'UNSUPPORTED_MEDIA_TYPE'),
  });
  add({
    name: 'plain text',
    why: 'not an image type',
    request: {
      kind: 'multipart',
      file: write('notes.txt', 'hello, this is not an image\n'.repeat(20)),
      filename: 'notes.jpg',
    },
    expect: reject(415, 'UNSUPPORTED_MEDIA_TYPE'),
  });
  add({
    name: 'HTML page',
    why: 'not an image type; never reflected anywhere',
    request: {
      kind: 'multipart',
      file: write(
        'page.html',
        '<!DOCTYPE html><html><head><title>x</title></head><body><script>alert(1)</script><img src=x onerror=alert(2)></body></html>',
      ),
      filename: 'page.png',
    },
    expect: reject(415, 'UNSUPPORTED_MEDIA_TYPE'),
  });
  add({
    name: 'PDF document',
    why: 'PDF is not an accepted type (libvips could rasterise it with poppler; it must never try)',
    request: {
      kind: 'multipart',
      file: write(
        'doc.pdf',
        '%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n' +
          '3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n',
      ),
      filename: 'doc.jpg',
    },
    expect: reject(415, 'UNSUPPORTED_MEDIA_TYPE'),
  });
  add({
    name: 'ZIP archive holding a JPEG',
    why: 'an archive is not an image, whatever it contains',
    request: { kind: 'multipart', file: write('archive.zip', zipArchive({ 'photo.jpg': jpeg })) },
    expect: reject(415, 'UNSUPPORTED_MEDIA_TYPE'),
  });
  add({
    name: 'BMP image',
    why: 'not one of the six accepted types',
    request: {
      kind: 'multipart',
      file: write(
        'image.bmp',
        Buffer.concat([Buffer.from('BM', 'latin1'), u32le(62), u32le(0), u32le(54), randomBytes(48)]),
      ),
    },
    expect: reject(415, 'UNSUPPORTED_MEDIA_TYPE'),
  });
  add({
    name: 'HEIC (ftyp heic box + junk)',
    why: 'HEIC shares the AVIF container but the bundled libvips cannot decode HEVC: refused by brand',
    request: { kind: 'multipart', file: write('photo.heic', heicLike()) },
    expect: reject(415, 'UNSUPPORTED_MEDIA_TYPE'),
  });

  // SVG: never rendered (librsvg would fetch, run and rasterise whatever the file says).
  const svgs: Record<string, string> = {
    'svg-xxe':
      '<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>' +
      '<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100"><text y="20">&xxe;</text></svg>',
    'svg-external-href':
      '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="100" height="100">' +
      '<image xlink:href="http://169.254.169.254/latest/meta-data/" width="100" height="100"/></svg>',
    'svg-script':
      '<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100"><script>alert(document.cookie)</script>' +
      '<rect width="100" height="100" onload="alert(1)"/></svg>',
    'svg-huge-viewbox':
      '<svg xmlns="http://www.w3.org/2000/svg" width="1000000" height="1000000" viewBox="0 0 1000000 1000000">' +
      '<rect width="1000000" height="1000000" fill="red"/></svg>',
  };
  for (const [name, svg] of Object.entries(svgs)) {
    add({
      name: name.replace('svg-', 'SVG with ').replace(/-/g, ' '),
      why: 'SVG is never rendered: refused by the sniffer, so no entity, href or script is ever read',
      request: { kind: 'multipart', file: write(`${name}.svg`, svg), filename: `${name}.png` },
      expect: reject(415, 'UNSUPPORTED_MEDIA_TYPE'),
    });
  }

  // Broken images of accepted types.
  add({
    name: 'truncated JPEG (first third)',
    why: 'a JPEG signature with missing scan data',
    request: {
      kind: 'multipart',
      file: write('truncated.jpg', jpeg.subarray(0, Math.floor(jpeg.length / 3))),
    },
    expect: reject(422, 'IMAGE_DECODE_FAILED'),
  });
  add({
    name: 'truncated PNG (first half)',
    why: 'a PNG whose IDAT stops mid-stream and has no IEND',
    request: { kind: 'multipart', file: write('truncated.png', png.subarray(0, Math.floor(png.length / 2))) },
    expect: reject(422, 'IMAGE_DECODE_FAILED'),
  });
  add({
    name: 'PNG with a bad IDAT CRC',
    why: 'corrupt chunk: failOn warning refuses it rather than guessing',
    request: { kind: 'multipart', file: write('bad-crc.png', breakCrc(png, 'IDAT')) },
    expect: reject(422, 'IMAGE_DECODE_FAILED'),
  });
  add({
    name: 'PNG with a bad IHDR CRC',
    why: 'corrupt header chunk',
    request: { kind: 'multipart', file: write('bad-ihdr-crc.png', breakCrc(png, 'IHDR')) },
    expect: reject(422, 'IMAGE_DECODE_FAILED'),
  });
  add({
    name: 'PNG signature then garbage',
    why: 'sniffs as PNG, decodes as nothing',
    request: {
      kind: 'multipart',
      file: write('garbage.png', Buffer.concat([PNG_SIGNATURE, randomBytes(4096)])),
    },
    expect: reject(422, 'IMAGE_DECODE_FAILED'),
  });
  add({
    name: 'JPEG SOI then garbage',
    why: 'sniffs as JPEG, decodes as nothing',
    request: {
      kind: 'multipart',
      file: write('garbage.jpg', Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), randomBytes(4096)])),
    },
    expect: reject(422, 'IMAGE_DECODE_FAILED'),
  });
  add({
    name: 'PNG declaring 0×0 in IHDR',
    why: 'a zero-sized image is corrupt, not empty-but-fine',
    request: {
      kind: 'multipart',
      file: write(
        'zero-size.png',
        Buffer.concat([PNG_SIGNATURE, ihdr(0, 0, 8, 2), pngChunk('IEND', Buffer.alloc(0))]),
      ),
    },
    expect: reject(422, 'IMAGE_DECODE_FAILED'),
  });
  add({
    name: 'PNG with IHDR and no IDAT',
    why: 'a header without pixels',
    request: {
      kind: 'multipart',
      file: write(
        'no-idat.png',
        Buffer.concat([PNG_SIGNATURE, ihdr(64, 64, 8, 2), pngChunk('IEND', Buffer.alloc(0))]),
      ),
    },
    expect: reject(422, 'IMAGE_DECODE_FAILED'),
  });

  // Decompression and dimension bombs: refused from the header, before any pixel is allocated.
  add({
    name: 'PNG bomb 50000×50000 (tiny IDAT of zeros)',
    why: '2.5 gigapixels declared: over ARGUS_MAX_IMAGE_PIXELS, refused from the header',
    request: { kind: 'multipart', file: write('bomb-50k.png', await pngBomb(50_000, 50_000)) },
    expect: reject(413, 'IMAGE_TOO_LARGE'),
  });
  add({
    name: 'JPEG whose SOF declares 65535×65535',
    why: '4.3 gigapixels declared: refused from the header',
    request: { kind: 'multipart', file: write('sof-65535.jpg', jpegWithDeclaredSize(jpeg, 65_535, 65_535)) },
    expect: reject(413, 'IMAGE_TOO_LARGE'),
  });
  add({
    name: 'GIF declaring a 65535×65535 logical screen',
    why: 'libvips sizes the canvas from the frames, so the absurd screen allocates nothing: the 1×1 frame is the image',
    request: {
      kind: 'multipart',
      file: write('screen-65535.gif', gifFrames(1, { width: 65_535, height: 65_535 })),
    },
    expect: { status: 200, width: 1, height: 1, format: 'gif' },
  });
  const side = Math.floor(Math.sqrt(limits.maxPixels)) + 64;
  add({
    name: `PNG just over the pixel limit (${side}×${side} zeros)`,
    why: 'ARGUS_MAX_IMAGE_PIXELS is enforced exactly, not only for absurd sizes',
    request: { kind: 'multipart', file: write('over-limit.png', await pngBomb(side, side)) },
    expect: reject(413, 'IMAGE_TOO_LARGE'),
  });
  add({
    name: 'PNG 6000×6000 of zeros (36 MP, under the limit)',
    why: 'a legal but huge decode: must stream through sharp without blowing the gateway memory',
    request: { kind: 'multipart', file: write('big-zeros.png', await pngBomb(6000, 6000)) },
    expect: { status: 200, width: limits.maxLongSide, height: limits.maxLongSide, format: 'png' },
  });
  add({
    name: 'GIF with 10000 frames',
    why: 'only the first frame is decoded (pages: 1), so the frame count costs nothing',
    request: { kind: 'multipart', file: write('frames-10000.gif', gifFrames(10_000)) },
    expect: { status: 200, width: 1, height: 1, format: 'gif' },
  });

  // Polyglots and lying metadata.
  add({
    name: 'JPEG+ZIP polyglot (ZIP appended after EOI)',
    why: 'a valid JPEG; re-encoding drops the trailing archive, so what is stored is only the picture',
    request: {
      kind: 'multipart',
      file: write(
        'polyglot.jpg',
        Buffer.concat([jpeg, zipArchive({ 'payload.sh': Buffer.from('#!/bin/sh\nid\n') })]),
      ),
    },
    expect: { status: 200, width: 320, height: 240, format: 'jpeg' },
  });
  add({
    name: 'PNG sent raw as image/jpeg',
    why: 'the type is sniffed from the bytes; a wrong Content-Type among image/* is harmless',
    request: { kind: 'raw', file: pngFile, contentType: 'image/jpeg' },
    expect: { status: 200, width: 320, height: 240, format: 'png' },
  });
  add({
    name: 'JPEG sent raw as text/plain',
    why: 'the body type is not an image, JSON or form: refused as an unsupported body type',
    request: { kind: 'raw', file: jpegFile, contentType: 'text/plain' },
    expect: reject(415, 'UNSUPPORTED_MEDIA_TYPE'),
  });
  add({
    name: 'JPEG sent raw as application/octet-stream',
    why: 'generic bytes are sniffed like any image body',
    request: { kind: 'raw', file: jpegFile, contentType: 'application/octet-stream' },
    expect: { status: 200, width: 320, height: 240, format: 'jpeg' },
  });
  add({
    name: 'PNG in a multipart part named photo.exe with type application/x-msdownload',
    why: 'the file name and part type are ignored; the bytes decide',
    request: {
      kind: 'multipart',
      file: pngFile,
      filename: 'photo.exe',
      partType: 'application/x-msdownload',
    },
    expect: { status: 200, width: 320, height: 240, format: 'png' },
  });
  add({
    name: 'JPEG in a multipart part named photo.png',
    why: 'a wrong extension is harmless',
    request: { kind: 'multipart', file: jpegFile, filename: 'photo.png', partType: 'image/png' },
    expect: { status: 200, width: 320, height: 240, format: 'jpeg' },
  });
  add({
    name: 'JPEG with a ~60 KB EXIF APP1 segment',
    why: 'metadata is read for orientation, then stripped; its size is no problem',
    request: { kind: 'multipart', file: write('huge-exif.jpg', afterSoi(jpeg, exifApp1(60_000))) },
    expect: { status: 200, width: 320, height: 240, format: 'jpeg' },
  });

  // Unusual but legitimate images.
  for (let orientation = 1; orientation <= 8; orientation += 1) {
    const upright = orientation < 5;
    add({
      name: `JPEG with EXIF orientation ${orientation}`,
      why: 'EXIF orientation is applied, so 5–8 swap width and height',
      request: {
        kind: 'multipart',
        file: write(
          `orientation-${orientation}.jpg`,
          await (await photo(160, 90)).withMetadata({ orientation }).jpeg().toBuffer(),
        ),
      },
      expect: { status: 200, width: upright ? 160 : 90, height: upright ? 90 : 160, format: 'jpeg' },
    });
  }
  add({
    name: 'CMYK JPEG',
    why: 'converted to sRGB for every model',
    request: {
      kind: 'multipart',
      file: write('cmyk.jpg', await (await photo(200, 150)).toColourspace('cmyk').jpeg().toBuffer()),
    },
    expect: { status: 200, width: 200, height: 150, format: 'jpeg' },
  });
  add({
    name: '16-bit RGB PNG',
    why: 'converted to 8-bit',
    request: {
      kind: 'multipart',
      file: write('rgb16.png', await (await photo(200, 150)).toColourspace('rgb16').png().toBuffer()),
    },
    expect: { status: 200, width: 200, height: 150, format: 'png' },
  });
  const greyAlpha = Buffer.alloc(64 * 48 * 2);
  for (let i = 0; i < greyAlpha.length; i += 2) {
    greyAlpha[i] = (i * 13) % 256;
    greyAlpha[i + 1] = i % 7 === 0 ? 0 : 255;
  }
  add({
    name: 'grey+alpha PNG',
    why: 'two channels; transparency is kept (stored as PNG) and flattened for the models',
    request: {
      kind: 'multipart',
      file: write(
        'grey-alpha.png',
        await sharp(greyAlpha, { raw: { width: 64, height: 48, channels: 2 } })
          .png()
          .toBuffer(),
      ),
    },
    expect: { status: 200, width: 64, height: 48, format: 'png' },
  });
  add({
    name: '1×1 PNG',
    why: 'the smallest image is still an image; workers scale it as they need',
    request: {
      kind: 'multipart',
      file: write(
        'pixel.png',
        await sharp({ create: { width: 1, height: 1, channels: 3, background: '#808080' } })
          .png()
          .toBuffer(),
      ),
    },
    expect: { status: 200, width: 1, height: 1, format: 'png' },
  });
  add({
    name: '100000×1 strip PNG',
    why: '100 000 pixels is small; the long side is capped and the short side stays at least 1 px',
    request: {
      kind: 'multipart',
      file: write(
        'strip.png',
        await sharp({ create: { width: 100_000, height: 1, channels: 3, background: '#336699' } })
          .png()
          .toBuffer(),
      ),
    },
    expect: { status: 200, width: limits.maxLongSide, height: 1, format: 'png' },
  });
  add({
    name: 'multi-page TIFF (3 pages)',
    why: 'only the first page is used',
    request: {
      kind: 'multipart',
      file: write('pages.tiff', multiPageTiff(120, 80, 3)),
    },
    expect: { status: 200, width: 120, height: 80, format: 'tiff' },
  });
  add({
    name: 'WebP',
    why: 'an accepted type',
    request: { kind: 'multipart', file: write('photo.webp', await (await photo(120, 90)).webp().toBuffer()) },
    expect: { status: 200, width: 120, height: 90, format: 'webp' },
  });

  // Request-level hostility.
  add({
    name: 'multipart with no file',
    why: 'nothing to analyse',
    request: { kind: 'multipart-no-file' },
    expect: reject(400, 'INVALID_REQUEST'),
  });
  add({
    name: 'multipart with two files',
    why: 'one image per request; a second file is refused, not silently ignored',
    request: { kind: 'multipart-two-files', file: jpegFile },
    expect: reject(400, 'INVALID_REQUEST'),
  });
  const oversized = write('oversized.jpg', Buffer.concat([jpeg, randomBytes(limits.maxBytes + 256 * 1024)]));
  add({
    name: 'multipart file over ARGUS_MAX_IMAGE_BYTES',
    why: 'the upload is cut at the byte limit',
    request: { kind: 'multipart', file: oversized },
    expect: reject(413, 'IMAGE_TOO_LARGE'),
  });
  add({
    name: 'raw body over ARGUS_MAX_IMAGE_BYTES',
    why: 'the body limit of raw images is the byte limit',
    request: { kind: 'raw', file: oversized, contentType: 'image/jpeg' },
    expect: reject(413, 'IMAGE_TOO_LARGE'),
  });
  add({
    name: 'base64 JSON over ARGUS_MAX_IMAGE_BYTES',
    why: 'the JSON body limit is the byte limit in base64 plus an envelope',
    request: { kind: 'json-base64', file: oversized },
    expect: reject(413, 'IMAGE_TOO_LARGE'),
  });
  add({
    name: 'malformed JSON',
    why: 'a syntax error is the caller’s',
    request: { kind: 'json', body: '{"imageBase64": "abc", "tasks": ["tagging"' },
    expect: reject(400, 'INVALID_REQUEST'),
  });
  add({
    name: 'JSON that is an array',
    why: 'the body must be an object',
    request: { kind: 'json', body: '[1,2,3]' },
    expect: reject(400, 'INVALID_REQUEST'),
  });
  add({
    name: 'JSON with __proto__ pollution',
    why: 'unknown members are refused, prototype keys included',
    request: { kind: 'json', body: `{"imageBase64":"${png.toString('base64')}","__proto__":{"admin":true}}` },
    expect: reject(400, 'INVALID_REQUEST'),
  });
  add({
    name: 'base64 with junk characters',
    why: 'base64 is validated, not decoded leniently',
    request: {
      kind: 'json',
      body: JSON.stringify({
        imageBase64: `${png.toString('base64').slice(0, 400)}!!<>*%$`,
        tasks: ['tagging'],
      }),
    },
    expect: reject(400, 'INVALID_REQUEST'),
  });
  add({
    name: 'empty base64',
    why: 'no image at all',
    request: { kind: 'json', body: JSON.stringify({ imageBase64: '', tasks: ['tagging'] }) },
    expect: reject(400, 'INVALID_REQUEST'),
  });
  add({
    name: 'base64 PNG as a data: URL wrapped at 76 columns',
    why: 'data: prefixes and MIME line breaks are accepted',
    request: { kind: 'json-base64', file: pngFile, dataUrl: true, wrap: true },
    expect: { status: 200, width: 320, height: 240, format: 'png' },
  });
  add({
    name: 'base64 of a text file',
    why: 'valid base64 of something that is not an image',
    request: { kind: 'json-base64', file: join(dir, 'notes.txt') },
    expect: reject(415, 'UNSUPPORTED_MEDIA_TYPE'),
  });
  for (const [name, url, code] of [
    ['imageUrl to 127.0.0.1', 'http://127.0.0.1:8080/v1/analyze', 'URL_NOT_ALLOWED'],
    ['imageUrl to the cloud metadata address', 'http://169.254.169.254/latest/meta-data/', 'URL_NOT_ALLOWED'],
    ['imageUrl to [::1]', 'http://[::1]/photo.jpg', 'URL_NOT_ALLOWED'],
    ['imageUrl to an IPv4-mapped loopback', 'http://[::ffff:127.0.0.1]/photo.jpg', 'URL_NOT_ALLOWED'],
    ['imageUrl with file://', 'file:///etc/passwd', 'URL_NOT_ALLOWED'],
  ] as const) {
    add({
      name,
      why: 'server-side request forgery: no private, loopback or non-http address without ARGUS_URL_ALLOW_PRIVATE',
      request: { kind: 'json', body: JSON.stringify({ imageUrl: url, tasks: ['tagging'] }) },
      expect: reject(400, code),
    });
  }
  add({
    name: 'unknown task',
    why: 'options are validated',
    request: {
      kind: 'json',
      body: JSON.stringify({ imageBase64: png.toString('base64'), tasks: ['rm -rf'] }),
    },
    expect: reject(400, 'INVALID_REQUEST'),
  });
  return cases;
}

/**
 * A little-endian TIFF of `pages` 8-bit grey pages chained through each IFD's next-IFD offset, uncompressed, one strip
 * each: built by hand so the file certainly holds separate pages.
 */
function multiPageTiff(width: number, height: number, pages: number): Buffer {
  const pixels = width * height;
  const entries = (dataOffset: number): Array<[number, number, number]> => [
    [0x0100, 4, width], // ImageWidth, LONG
    [0x0101, 4, height], // ImageLength
    [0x0102, 3, 8], // BitsPerSample, SHORT
    [0x0103, 3, 1], // Compression: none
    [0x0106, 3, 1], // PhotometricInterpretation: black is zero
    [0x0111, 4, dataOffset], // StripOffsets
    [0x0115, 3, 1], // SamplesPerPixel
    [0x0116, 4, height], // RowsPerStrip
    [0x0117, 4, pixels], // StripByteCounts
  ];
  const count = entries(0).length;
  const ifdSize = 2 + 12 * count + 4;
  const blocks: Buffer[] = [Buffer.from('II*\0', 'latin1'), u32le(8)];
  let offset = 8;
  for (let page = 0; page < pages; page += 1) {
    const dataOffset = offset + ifdSize;
    const ifd = Buffer.alloc(ifdSize);
    ifd.writeUInt16LE(count, 0);
    entries(dataOffset).forEach(([tag, type, value], index) => {
      const at = 2 + index * 12;
      ifd.writeUInt16LE(tag, at);
      ifd.writeUInt16LE(type, at + 2);
      ifd.writeUInt32LE(1, at + 4);
      if (type === 3) ifd.writeUInt16LE(value, at + 8);
      else ifd.writeUInt32LE(value, at + 8);
    });
    ifd.writeUInt32LE(page + 1 < pages ? dataOffset + pixels : 0, ifdSize - 4);
    blocks.push(ifd, Buffer.alloc(pixels, 0x30 + page * 0x40));
    offset = dataOffset + pixels;
  }
  return Buffer.concat(blocks);
}
