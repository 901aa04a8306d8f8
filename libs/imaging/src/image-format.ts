import { crc32 as zlibCrc32 } from 'node:zlib';
import { type SourceFormat } from '@argus/contracts';

/** What clients are told they may send; kept next to the sniffer so the two cannot drift apart. */
export const ACCEPTED_MEDIA_TYPES = [
  'image/jpeg',
  'image/png',
  'image/webp',
  'image/gif',
  'image/tiff',
  'image/avif',
] as const;

const AVIF_BRANDS = new Set(['avif', 'avis']);

function startsWith(bytes: Uint8Array, signature: readonly number[], offset = 0): boolean {
  if (bytes.length < offset + signature.length) return false;
  return signature.every((byte, i) => bytes[offset + i] === byte);
}

function ascii(bytes: Uint8Array, offset: number, length: number): string {
  return String.fromCharCode(...bytes.subarray(offset, offset + length));
}

/**
 * HEIC shares the ISO-BMFF container with AVIF, but the bundled libvips cannot decode HEVC,
 * so only the AV1 brands count. A file qualifies if any brand in its `ftyp` box says AVIF.
 */
function isAvif(bytes: Uint8Array): boolean {
  if (bytes.length < 16 || ascii(bytes, 4, 4) !== 'ftyp') return false;
  const boxSize = new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0);
  // Size 0 ("to end of file") and 1 (64-bit size) never occur for a real ftyp box.
  if (boxSize < 16) return false;
  // A truncated upload still sniffs as AVIF so that the decoder, not the sniffer, reports it.
  const end = Math.min(boxSize, bytes.length);
  if (AVIF_BRANDS.has(ascii(bytes, 8, 4))) return true;
  // Bytes 12..15 are the minor version; compatible brands follow in 4-byte steps.
  for (let offset = 16; offset + 4 <= end; offset += 4) {
    if (AVIF_BRANDS.has(ascii(bytes, offset, 4))) return true;
  }
  return false;
}

/**
 * The type of an image judged by its magic bytes only. Declared content types and file names are
 * ignored because clients get them wrong, and anything not listed here (SVG, PDF, HEIC...) is
 * refused before it reaches a decoder.
 */
export function sniffImageFormat(bytes: Uint8Array): SourceFormat | null {
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return 'jpeg';
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'png';
  if (bytes.length >= 12 && ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 4) === 'WEBP') return 'webp';
  if (bytes.length >= 6 && (ascii(bytes, 0, 6) === 'GIF87a' || ascii(bytes, 0, 6) === 'GIF89a')) return 'gif';
  if (startsWith(bytes, [0x49, 0x49, 0x2a, 0x00]) || startsWith(bytes, [0x4d, 0x4d, 0x00, 0x2a]))
    return 'tiff';
  if (isAvif(bytes)) return 'avif';
  return null;
}

const PNG_SIGNATURE_BYTES = 8;
/** Chunk length, type and CRC around each chunk's data. */
const PNG_CHUNK_OVERHEAD = 12;

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n += 1) {
    let c = n;
    for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** zlib's native crc32 (Node ≥ 20.15) when there is one; the table version otherwise. */
function crc32(bytes: Uint8Array): number {
  if (typeof zlibCrc32 === 'function') return zlibCrc32(bytes);
  let crc = 0xffffffff;
  for (const byte of bytes) crc = CRC_TABLE[(crc ^ byte) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/**
 * The first critical PNG chunk (IHDR, PLTE, IDAT, IEND) whose CRC does not match its bytes, or null. libvips checks
 * the CRC of the header but not of the pixel data, so a corrupt IDAT would otherwise decode silently into whatever
 * the damaged bytes say. Ancillary chunks (lower-case first letter) are skipped: metadata is stripped anyway, and
 * a chunk that runs past the end is left to the decoder to report as truncation.
 */
export function findCorruptPngChunk(bytes: Uint8Array): string | null {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = PNG_SIGNATURE_BYTES;
  while (offset + PNG_CHUNK_OVERHEAD <= bytes.length) {
    const length = view.getUint32(offset);
    const end = offset + PNG_CHUNK_OVERHEAD + length;
    if (end > bytes.length) return null;
    const type = ascii(bytes, offset + 4, 4);
    const critical = (bytes[offset + 4] & 0x20) === 0;
    if (critical && crc32(bytes.subarray(offset + 4, end - 4)) !== view.getUint32(end - 4)) return type;
    if (type === 'IEND') return null;
    offset = end;
  }
  return null;
}
