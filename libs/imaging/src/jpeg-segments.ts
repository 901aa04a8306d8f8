/**
 * What a walk over a JPEG's markers found. normalise() keeps an upload byte for byte only when both answers are yes:
 * any other marker may carry metadata (EXIF, ICC, XMP, IPTC, comments, vendor APPn data) that re-encoding would strip,
 * and bytes after EOI may hide another file (a JPEG+ZIP polyglot).
 */
export interface JpegMarkerWalk {
  /**
   * Only SOI, APP0 (JFIF without a thumbnail), DQT, DHT, DRI, one 8-bit SOF0/SOF1/SOF2, SOS with its entropy-coded
   * data (RST0-7 inside it), and EOI.
   */
  onlyPlainMarkers: boolean;
  /**
   * The frame is three components in a sampling layout every decoder reads (Y 1×1, 2×1, 1×2 or 2×2; Cb and Cr 1×1).
   * libjpeg decodes odd layouts that Go's image/jpeg, which Ollama uses, refuses; re-encoding makes them ordinary.
   */
  commonSampling: boolean;
  /** The first EOI after the last scan is the last two bytes of the file. */
  endsAtEoi: boolean;
}

const NOT_PLAIN: JpegMarkerWalk = { onlyPlainMarkers: false, commonSampling: false, endsAtEoi: false };

const MARKER_PREFIX = 0xff;
const SOI = 0xd8;
const EOI = 0xd9;
const SOS = 0xda;
const APP0 = 0xe0;
const STUFFED_ZERO = 0x00;
const RST0 = 0xd0;
const RST7 = 0xd7;
/** SOF0 baseline, SOF1 extended sequential and SOF2 progressive, all Huffman-coded: what libjpeg writes. */
const PLAIN_FRAME_MARKERS = new Set([0xc0, 0xc1, 0xc2]);
/** DQT, DHT and DRI: tables a decoder needs, nothing a person wrote. */
const PLAIN_TABLE_MARKERS = new Set([0xdb, 0xc4, 0xdd]);
/** "JFIF\0", then version, density units and two densities, then a 0×0 thumbnail: 16 bytes with the length field. */
const JFIF_IDENTIFIER = [0x4a, 0x46, 0x49, 0x46, 0x00];
const JFIF_WITHOUT_THUMBNAIL_LENGTH = 16;
/** SOF precision: 12-bit JPEGs decode to 16-bit samples, which normalise() must convert. */
const PLAIN_SAMPLE_PRECISION = 8;
/** Luma sampling factors (h << 4 | v) of 4:4:4, 4:4:0, 4:2:2 and 4:2:0. */
const COMMON_LUMA_SAMPLING = new Set([0x11, 0x12, 0x21, 0x22]);
const CHROMA_SAMPLING = 0x11;

/** SOF payload: precision, height (2), width (2), component count, then per component id, sampling, table. */
function hasCommonSampling(bytes: Uint8Array, payloadStart: number, length: number): boolean {
  const components = bytes[payloadStart + 5];
  if (components !== 3 || length !== 8 + components * 3) return false;
  const sampling = (component: number) => bytes[payloadStart + 6 + component * 3 + 1];
  return (
    COMMON_LUMA_SAMPLING.has(sampling(0)) &&
    sampling(1) === CHROMA_SAMPLING &&
    sampling(2) === CHROMA_SAMPLING
  );
}

function isPlainApp0(bytes: Uint8Array, payloadStart: number, length: number): boolean {
  if (length !== JFIF_WITHOUT_THUMBNAIL_LENGTH) return false;
  return JFIF_IDENTIFIER.every((byte, index) => bytes[payloadStart + index] === byte);
}

/**
 * Where the entropy-coded data starting at `from` ends: the offset of the next real marker (FF followed by anything
 * but 00 or RST0-7), or -1 when the file ends first.
 */
function endOfEntropyCodedData(bytes: Uint8Array, from: number): number {
  let position = from;
  for (;;) {
    const prefix = bytes.indexOf(MARKER_PREFIX, position);
    if (prefix < 0 || prefix + 1 >= bytes.length) return -1;
    const next = bytes[prefix + 1];
    if (next !== STUFFED_ZERO && (next < RST0 || next > RST7)) return prefix;
    position = prefix + 2;
  }
}

/**
 * Walks SOI, the segments, each scan's entropy-coded data and EOI. Never throws: anything it cannot parse (a bad
 * length, fill bytes, a missing EOI, a marker where none belongs) answers no to both questions, which sends the
 * upload down the re-encoding path.
 */
export function walkJpegMarkers(bytes: Uint8Array): JpegMarkerWalk {
  if (bytes.length < 4 || bytes[0] !== MARKER_PREFIX || bytes[1] !== SOI) return NOT_PLAIN;
  let onlyPlainMarkers = true;
  let commonSampling = false;
  let frames = 0;
  let scans = 0;
  let position = 2;
  while (position + 1 < bytes.length) {
    // Fill bytes (FF FF) are legal before a marker but libjpeg never writes them; they count as a parse problem.
    if (bytes[position] !== MARKER_PREFIX) return NOT_PLAIN;
    const marker = bytes[position + 1];
    if (marker === EOI) {
      if (frames !== 1 || scans === 0) return NOT_PLAIN;
      return { onlyPlainMarkers, commonSampling, endsAtEoi: position + 2 === bytes.length };
    }
    // SOI again, TEM, RSTn outside a scan and the reserved FF 00 have no length to skip by.
    if (marker === SOI || marker === 0x01 || marker === STUFFED_ZERO || (marker >= RST0 && marker <= RST7)) {
      return NOT_PLAIN;
    }
    if (position + 4 > bytes.length) return NOT_PLAIN;
    const length = (bytes[position + 2] << 8) | bytes[position + 3];
    const payloadStart = position + 4;
    const segmentEnd = position + 2 + length;
    if (length < 2 || segmentEnd > bytes.length) return NOT_PLAIN;

    if (PLAIN_FRAME_MARKERS.has(marker)) {
      frames += 1;
      if (length < 3 || bytes[payloadStart] !== PLAIN_SAMPLE_PRECISION) onlyPlainMarkers = false;
      commonSampling = hasCommonSampling(bytes, payloadStart, length);
    } else if (marker === APP0) {
      if (!isPlainApp0(bytes, payloadStart, length)) onlyPlainMarkers = false;
    } else if (marker !== SOS && !PLAIN_TABLE_MARKERS.has(marker)) {
      onlyPlainMarkers = false;
    }

    if (marker === SOS) {
      if (frames === 0) return NOT_PLAIN;
      scans += 1;
      const next = endOfEntropyCodedData(bytes, segmentEnd);
      if (next < 0) return NOT_PLAIN;
      position = next;
    } else {
      position = segmentEnd;
    }
  }
  return NOT_PLAIN;
}

/** Every answer yes: nothing in the file but an ordinary picture. */
export function isPlainJpeg(bytes: Uint8Array): boolean {
  const walk = walkJpegMarkers(bytes);
  return walk.onlyPlainMarkers && walk.commonSampling && walk.endsAtEoi;
}
