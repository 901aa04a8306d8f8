import { rgbToHex } from './colour-names';
import type { ExposureMeasurement, SharpnessMeasurement } from './image-measurements';

/** A rectangle in pixels of the (upright) input. */
export interface ListingBox {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface ListingBorder {
  detected: boolean;
  /** Width of the frame in pixels of the input; 0 when none was detected. */
  widthPx: number;
  /** The frame's mean colour, lowercase `#rrggbb`; null when none was detected. */
  hex: string | null;
}

/**
 * What the product stands on, read from the frame's edges (inside any added border):
 * - `plain`: one flat colour (within the white tolerance) along most of the edges, and a product that it surrounds;
 * - `transparent`: the edges are transparent (a PNG cut-out); shops show such images on white, so transparent pixels
 *   count as a pure white backdrop, and the alpha channel itself is the product's mask;
 * - `none`: no plain backdrop: the edges are a scene, a textured or cluttered surface, or the "product" would reach
 *   three or more sides of the frame (a landscape, a table of loose items, a photo filling the frame). There is then
 *   no product to separate and no background to judge.
 */
export type ListingBackdropKind = 'plain' | 'transparent' | 'none';

export interface ListingBackdrop {
  kind: ListingBackdropKind;
  /** The backdrop's colour (median of the edges), lowercase `#rrggbb`; `#ffffff` when transparent; null when none. */
  hex: string | null;
}

/** What {@link analyseListing} measures on the pixels of the small copy. */
export interface ListingAnalysis {
  /** Of the analysed (upright) image, before any downscale. */
  width: number;
  height: number;
  backdrop: ListingBackdrop;
  /**
   * Share (0–1) of the backdrop — pixels outside the product box and inside any added border — whose R, G and B are
   * all within tolerance of 255 (transparent pixels count as white). 0 when no plain backdrop was found
   * (`backdrop.kind` is `none`): a scene has no background to call white. 1 for a blank white image.
   */
  backgroundWhiteShare: number;
  /**
   * Bounding box of the product, in pixels of the input: the box around the pixels that differ from the backdrop
   * (or, for a transparent cut-out, around its opaque pixels). null when the image is blank or when no plain
   * backdrop was found.
   */
  productBox: ListingBox | null;
  /**
   * How much of the frame the product spans: its extent over the frame's matching side, on the side where it reaches
   * furthest, max(box width ÷ frame width, box height ÷ frame height), where the frame is the area inside any added
   * border. On the square frames marketplaces ask for, that is the product's longer side over the frame's side, the
   * way they state the rule ("the product fills at least 85 % of the image"). 0 when blank or when no plain backdrop
   * was found.
   */
  fillRatio: number;
  /**
   * An added frame: a band of one uniform colour along all four edges whose colour differs from what is inside it,
   * and that is not simply an even margin of the backdrop's own colour (see {@link detectBorder}).
   */
  border: ListingBorder;
}

export interface ListingMeasurements extends ListingAnalysis {
  /**
   * Sharpness of the product: the variance of the Laplacian over the product's box (a little wider, so its outline
   * counts) on the same ≤ 1024 px copy as the whole photo's quality.sharpness; over the whole photo when no product
   * was separated. A sharp product on a wide white field is judged on the product, not diluted by the field.
   */
  sharpness: SharpnessMeasurement;
  /**
   * Exposure of the photo (mean and clipping over the whole frame), with "almost no tones on the other side of
   * mid-grey" judged on the product's own pixels (see measureExposure's `subject`); the whole photo's verdict when no
   * product was separated.
   */
  exposure: ExposureMeasurement;
}

export interface ListingOptions {
  /**
   * Regions (pixels of the input), e.g. the boxes of words read in the image, whose pixels are neither product nor
   * background: promotional text over the background then neither widens the product's box nor lowers the white
   * share. The caller may also have painted them white (ImageProcessor.measureListing does), so what lay under them
   * is unknown; a region that the product's pixels run right up to (a word read on the product's cap or edge, whose
   * box covers part of it) is taken as part of the product's box, since a product does not stop at a word.
   */
  ignore?: ReadonlyArray<{ x: number; y: number; width: number; height: number }>;
  /**
   * Per-channel distance from 255 that still counts as pure white in the white share; default 15. Telling product
   * from backdrop uses at least {@link BACKDROP_TOLERANCE}, so a stricter white does not turn JPEG noise into product.
   */
  whiteTolerance?: number;
}

/** Packed 8-bit RGB, three bytes per pixel, no padding; transparency already flattened onto white. */
export interface ListingPixels {
  data: Uint8Array;
  width: number;
  height: number;
  /** The alpha channel (0 transparent, 255 opaque), one byte per pixel, for images that have one. */
  alpha?: Uint8Array;
}

/** Boxes and shares need area, not detail: 512 px on the long side keeps a pass in the low milliseconds. */
export const LISTING_ANALYSIS_LONG_SIDE = 512;

/**
 * Per-channel distance from 255 that still counts as white (so "pure white" is 240–255 on every channel). JPEG at
 * quality 70 moves a flat white background by a few levels and studio whites sit at 245–255, while visibly off-white
 * backdrops sit 17 and more away: RGB 238 (a pale grey sweep), 232,232,228, #ebe6dc (20–35 away).
 */
export const DEFAULT_WHITE_TOLERANCE = 15;
/**
 * Per-channel distance from the backdrop's colour within which a pixel is backdrop rather than product (and a band
 * is one flat colour). Wider than pure white's tolerance: JPEG ringing around dust and edges reaches 15–20 levels, and
 * should neither widen the product's box nor break a backdrop into pieces.
 */
export const BACKDROP_TOLERANCE = 20;

/**
 * JPEG noise: a row (column) belongs to the product only when at least this share of its pixels differ from the
 * backdrop (0.5 % ≈ 3 px at 512 px). Isolated specks, dust and compression ringing never fill that much of a line;
 * the price is that a product part thinner than that (a thread, a cable end) can be left out of the box.
 */
export const PRODUCT_LINE_MIN_SHARE = 0.005;

/** A frame must be at least this many pixels of the input wide (at least one pixel of the analysed copy). */
export const BORDER_MIN_WIDTH_PX = 2;
/** Frames wider than this share of the short side are not looked for: beyond it a band is a backdrop, not a frame. */
export const BORDER_MAX_SHARE = 0.1;
/** A frame is one flat colour: per-channel standard deviation over the band below this (JPEG noise is 1–3 levels). */
export const BORDER_MAX_STDDEV = 6;
/**
 * The four sides (and the band's innermost ring) must have mean colours this close (RGB distance) to the band's
 * mean: a frame is the same colour all round, and a band that has started to take in content is no longer a frame.
 */
export const BORDER_SIDE_MAX_DISTANCE = 12;
/** What is inside the frame must differ from it by more than this RGB distance, or the "frame" is just backdrop. */
export const BORDER_INNER_MIN_DISTANCE = 40;
/**
 * Share of the ring just inside the frame (corners included) that must differ from it. An added frame meets its
 * content along the whole inner edge; a product that nearly fills a plain backdrop does not (its corners, rounded
 * or not, leave backdrop in the ring), so this is what keeps a packshot's white margin from being called a frame.
 */
export const BORDER_INNER_MIN_SHARE = 0.9;
/**
 * Rings of the analysed copy ignored inside a detected frame: resampling blends the frame's inner edge into one
 * ring and JPEG ringing reaches about one more, and neither should count as product.
 */
export const BORDER_BLEED_PX = 2;
/**
 * An ignored region belongs to the product when at least this share of the pixels just outside it, within
 * {@link ATTACH_MARGIN_PX} of the product's box, are product: the product runs into the region there. Text on the
 * background, with backdrop all round it, never does; text that touches the product is taken as printed on it.
 */
export const ATTACH_MIN_SHARE = 0.5;
/** Analysed pixels around the product's box within which an ignored region counts as touching it. */
export const ATTACH_MARGIN_PX = 2;
/** Width (analysed pixels) of the edge strip, inside any border, used to decide what the backdrop is. */
export const BACKDROP_EDGE_PX = 2;
/** When at least this share of the edge strip is near-white, the backdrop is white. */
export const BACKDROP_WHITE_EDGE_SHARE = 0.5;
/**
 * Otherwise, when at least this share of the edge strip is within tolerance of its median colour, that colour is a
 * uniform (non-white) backdrop. If not, the image has no plain backdrop: a scene, a textured surface, clutter.
 */
export const BACKDROP_UNIFORM_EDGE_SHARE = 0.6;
/**
 * A product that reaches this many sides of the frame is not separated from anything: what looked like a backdrop
 * along the other edges is the sky over a landscape, a strip of table beside loose items, a photo's own margin.
 * A packshot's product may touch two (a tall bottle cropped at top and bottom, or a corner crop), never three.
 */
export const BACKDROP_MAX_SIDES_TOUCHED = 2;
/** When at least this share of the edge strip is transparent, the image is a cut-out on a transparent backdrop. */
export const TRANSPARENT_EDGE_SHARE = 0.5;
/** Alpha (0–255) from which a pixel of a cut-out is product; fainter ones (soft shadows, halos) are backdrop. */
export const ALPHA_PRODUCT_MIN = 128;
/**
 * Side in analysed pixels of the squares looked at just inside each corner of a candidate frame, one pixel in from
 * the blended ring: see {@link BORDER_MARGIN_CORNERS}. A corner rounded with a radius of about 2 % of the product's
 * side (at the 512 px analysis scale) still leaves backdrop there.
 */
export const BORDER_CORNER_PX = 2;
/**
 * A band whose own colour goes on into at least this many of the four corners inside it is an even margin of the
 * backdrop, not a frame: a product centred with the same margin on every side touches the band along its sides, but
 * its corners (rounded, bevelled, or simply where the silhouette is not a rectangle) leave backdrop there. A photo
 * inside an added frame fills its corners. Three, not one or two, so that light corners of a framed photo (a patch of
 * white sky along its top) do not hide the frame.
 */
export const BORDER_MARGIN_CORNERS = 3;

type Rgb = [number, number, number];

const WHITE: Rgb = [255, 255, 255];

interface Accumulator {
  sum: Rgb;
  sumSq: Rgb;
  count: number;
}

interface Region {
  x0: number;
  y0: number;
  /** Exclusive. */
  x1: number;
  y1: number;
}

interface BorderFound {
  /** Width in analysed pixels, with a sub-pixel estimate from the blended ring. */
  width: number;
  /** Whole rings of the analysed copy that are frame. */
  rings: number;
  colour: Rgb;
}

/**
 * Deterministic listing measurements of a downscaled, upright RGB copy of an image whose upright size is `source`
 * (transparency flattened onto white, the alpha channel passed alongside when there is one). Boxes and widths are
 * scaled back to the source's pixels.
 *
 * Steps: an added frame is looked for first (a flat band of one colour all round whose colour differs from what it
 * surrounds and that is not an even margin of the backdrop); inside it, the backdrop is read from the edges (white,
 * another plain colour, transparent, or none); the product is what differs from the backdrop; the white share is
 * taken over the backdrop outside the product's box.
 */
export function analyseListing(
  pixels: ListingPixels,
  source: { width: number; height: number },
  options: ListingOptions = {},
): ListingAnalysis {
  const tolerance = options.whiteTolerance ?? DEFAULT_WHITE_TOLERANCE;
  if (!Number.isFinite(tolerance) || tolerance < 0 || tolerance > 255) {
    throw new RangeError(`whiteTolerance must be between 0 and 255, got ${tolerance}`);
  }
  const { width, height, data, alpha } = pixels;
  if (data.length !== width * height * 3) {
    throw new RangeError(`expected ${width * height * 3} bytes of RGB, got ${data.length}`);
  }
  if (alpha && alpha.length !== width * height) {
    throw new RangeError(`expected ${width * height} bytes of alpha, got ${alpha.length}`);
  }
  const scaleX = source.width / width;
  const scaleY = source.height / height;
  const ignored = ignoredRegions(options.ignore ?? [], width, height, 1 / scaleX, 1 / scaleY);
  const mask = ignoreMask(ignored, width, height);
  const whole: Region = { x0: 0, y0: 0, x1: width, y1: height };

  // A cut-out: the alpha channel is the product's mask, and no frame is looked for on a transparent edge.
  if (
    alpha &&
    edgeShare(pixels, whole, mask, (index) => alpha[index] < ALPHA_PRODUCT_MIN) >= TRANSPARENT_EDGE_SHARE
  ) {
    const isProduct = (index: number) => alpha[index] >= ALPHA_PRODUCT_MIN;
    return measureProduct(pixels, source, whole, 0, NO_BORDER, isProduct, tolerance, ignored, mask, {
      kind: 'transparent',
      hex: '#ffffff',
    });
  }

  const separation = Math.max(tolerance, BACKDROP_TOLERANCE);
  const found = detectBorder(pixels, Math.min(1 / scaleX, 1 / scaleY), separation);
  const borderPx = found ? Math.round(found.width * ((scaleX + scaleY) / 2)) : 0;
  const border: ListingBorder = found
    ? { detected: true, widthPx: borderPx, hex: hexOf(found.colour) }
    : NO_BORDER;
  const inset = found
    ? Math.min(found.rings + BORDER_BLEED_PX, Math.floor((Math.min(width, height) - 1) / 2))
    : 0;
  const region: Region = { x0: inset, y0: inset, x1: width - inset, y1: height - inset };
  const backdrop = findBackdrop(pixels, region, tolerance, separation, mask);
  if (!backdrop) return noBackdrop(source, border);
  const isProduct = (index: number) => !withinAt(data, index * 3, backdrop, separation);
  const measured = measureProduct(
    pixels,
    source,
    region,
    borderPx,
    border,
    isProduct,
    tolerance,
    ignored,
    mask,
    {
      kind: 'plain',
      hex: hexOf(backdrop),
    },
  );
  return measured.productBox &&
    touchesSides(measured.productBox, source, borderPx, scaleX, scaleY) > BACKDROP_MAX_SIDES_TOUCHED
    ? noBackdrop(source, border)
    : measured;
}

const NO_BORDER: ListingBorder = { detected: false, widthPx: 0, hex: null };

function noBackdrop(source: { width: number; height: number }, border: ListingBorder): ListingAnalysis {
  return {
    width: source.width,
    height: source.height,
    backdrop: { kind: 'none', hex: null },
    backgroundWhiteShare: 0,
    productBox: null,
    fillRatio: 0,
    border,
  };
}

/** The product's box and fill, and the white share of what lies outside the box, once the backdrop is known. */
function measureProduct(
  pixels: ListingPixels,
  source: { width: number; height: number },
  region: Region,
  borderPx: number,
  border: ListingBorder,
  isProduct: (index: number) => boolean,
  tolerance: number,
  ignored: readonly Region[],
  mask: Mask,
  backdrop: ListingBackdrop,
): ListingAnalysis {
  const scaleX = source.width / pixels.width;
  const scaleY = source.height / pixels.height;
  const bounds = productBounds(pixels, region, isProduct, mask);
  const box = bounds && attachIgnored(pixels, region, isProduct, bounds, ignored, mask);
  const frameWidth = Math.max(1, source.width - 2 * borderPx);
  const frameHeight = Math.max(1, source.height - 2 * borderPx);
  let productBox: ListingBox | null = null;
  let fillRatio = 0;
  if (box) {
    const left = clamp(Math.floor(box.x0 * scaleX), borderPx, source.width - borderPx);
    const top = clamp(Math.floor(box.y0 * scaleY), borderPx, source.height - borderPx);
    const right = clamp(Math.ceil(box.x1 * scaleX), left, source.width - borderPx);
    const bottom = clamp(Math.ceil(box.y1 * scaleY), top, source.height - borderPx);
    productBox = { x: left, y: top, width: right - left, height: bottom - top };
    fillRatio = Math.min(1, Math.max(productBox.width / frameWidth, productBox.height / frameHeight));
  }
  return {
    width: source.width,
    height: source.height,
    backdrop,
    backgroundWhiteShare: round(whiteShareOutside(pixels, region, box, tolerance, mask), 3),
    productBox,
    fillRatio: round(fillRatio, 3),
    border,
  };
}

/** How many sides of the frame (inside any border) the box reaches, within one analysed pixel's worth. */
function touchesSides(
  box: ListingBox,
  source: { width: number; height: number },
  borderPx: number,
  scaleX: number,
  scaleY: number,
): number {
  const slackX = Math.ceil(scaleX);
  const slackY = Math.ceil(scaleY);
  return [
    box.x - borderPx <= slackX,
    box.y - borderPx <= slackY,
    source.width - borderPx - (box.x + box.width) <= slackX,
    source.height - borderPx - (box.y + box.height) <= slackY,
  ].filter(Boolean).length;
}

function hexOf(rgb: Rgb): string {
  return rgbToHex({ r: rgb[0], g: rgb[1], b: rgb[2] });
}

/**
 * Grows a band inwards from the edges, one ring at a time, for as long as it stays one flat colour that is the same
 * on all four sides; every band width whose next rings differ from it is a candidate, and the widest one wins. A
 * candidate whose colour goes on into the corners inside it is the backdrop's own margin around a product, not a
 * frame ({@link BORDER_MARGIN_CORNERS}).
 */
function detectBorder(pixels: ListingPixels, scale: number, tolerance: number): BorderFound | null {
  const { width, height } = pixels;
  const maxRings = Math.floor(BORDER_MAX_SHARE * Math.min(width, height));
  const minRings = Math.max(1, Math.round(BORDER_MIN_WIDTH_PX * scale));
  const sides = [emptyAccumulator(), emptyAccumulator(), emptyAccumulator(), emptyAccumulator()];
  let best: BorderFound | null = null;
  for (let rings = 1; rings <= maxRings; rings++) {
    const ring = emptyAccumulator();
    forEachRingPixel(pixels, rings - 1, (offset, side) => {
      add(sides[side], pixels.data, offset);
      add(ring, pixels.data, offset);
    });
    const band = sides.reduce(merge, emptyAccumulator());
    const colour = mean(band);
    const flat = stddev(band).every((s) => s < BORDER_MAX_STDDEV);
    const sameAllRound = [...sides, ring].every((a) => distance(mean(a), colour) <= BORDER_SIDE_MAX_DISTANCE);
    if (!flat || !sameAllRound) break;
    if (rings < minRings) continue;

    // The ring right inside is usually a blend of frame and content after resampling, so the next one counts too.
    const inner = innerRing(pixels, rings, colour, tolerance);
    const next = innerRing(pixels, rings + 1, colour, tolerance);
    const differs = Math.max(inner.differentShare, next.differentShare) >= BORDER_INNER_MIN_SHARE;
    // A white "frame" around white content is just backdrop; around content that is not near-white it is a frame.
    const contentOk =
      !isNearWhite(colour, tolerance) ||
      Math.max(inner.notWhiteShare, next.notWhiteShare) >= BORDER_INNER_MIN_SHARE;
    if (!differs || !contentOk) continue;
    if (backdropCorners(pixels, rings + 1, colour, tolerance) >= BORDER_MARGIN_CORNERS) continue;

    // Sub-pixel width: how far the first inner ring has moved from the frame colour towards the content colour.
    const toInner = distance(inner.mean, colour);
    const toNext = distance(next.mean, colour);
    const blended = toNext > 0 ? clamp(1 - toInner / toNext, 0, 1) : 0;
    best = { width: rings + blended, rings, colour };
  }
  return best;
}

/** How many of the four squares just inside a band of `depth` rings are mostly the band's colour. */
function backdropCorners(pixels: ListingPixels, depth: number, colour: Rgb, tolerance: number): number {
  const { width, height, data } = pixels;
  const side = BORDER_CORNER_PX;
  if (2 * (depth + side) > Math.min(width, height)) return 0;
  const starts: Array<[number, number]> = [
    [depth, depth],
    [width - depth - side, depth],
    [depth, height - depth - side],
    [width - depth - side, height - depth - side],
  ];
  let corners = 0;
  for (const [x0, y0] of starts) {
    let same = 0;
    for (let y = y0; y < y0 + side; y++) {
      for (let x = x0; x < x0 + side; x++) if (withinAt(data, (y * width + x) * 3, colour, tolerance)) same++;
    }
    if (same * 4 >= side * side * 3) corners++;
  }
  return corners;
}

function innerRing(
  pixels: ListingPixels,
  depth: number,
  colour: Rgb,
  tolerance: number,
): { mean: Rgb; differentShare: number; notWhiteShare: number } {
  const all = emptyAccumulator();
  let different = 0;
  let notWhite = 0;
  forEachRingPixel(pixels, depth, (offset) => {
    add(all, pixels.data, offset);
    const rgb = pixelAt(pixels.data, offset);
    if (distance(rgb, colour) > BORDER_INNER_MIN_DISTANCE) different++;
    if (!isNearWhite(rgb, tolerance)) notWhite++;
  });
  const count = Math.max(1, all.count);
  return { mean: mean(all), differentShare: different / count, notWhiteShare: notWhite / count };
}

/** Visits each pixel of the ring `depth` pixels in from the edge; side is 0 top, 1 bottom, 2 left, 3 right. */
function forEachRingPixel(
  pixels: ListingPixels,
  depth: number,
  visit: (offset: number, side: number) => void,
): void {
  const { width, height } = pixels;
  const left = depth;
  const right = width - 1 - depth;
  const top = depth;
  const bottom = height - 1 - depth;
  if (left > right || top > bottom) return;
  for (let x = left; x <= right; x++) {
    visit((top * width + x) * 3, 0);
    if (bottom !== top) visit((bottom * width + x) * 3, 1);
  }
  for (let y = top + 1; y < bottom; y++) {
    visit((y * width + left) * 3, 2);
    if (right !== left) visit((y * width + right) * 3, 3);
  }
}

/**
 * The backdrop's colour: white when the edges (inside any border) are mostly near-white; else their median colour
 * when they are mostly that colour; else null, no plain backdrop.
 */
function findBackdrop(
  pixels: ListingPixels,
  region: Region,
  whiteTolerance: number,
  tolerance: number,
  mask: Mask,
): Rgb | null {
  const edge = edgeOffsets(pixels, region, mask);
  if (edge.length === 0) return WHITE;
  const white = edge.filter((o) => withinAt(pixels.data, o, WHITE, whiteTolerance)).length;
  if (white / edge.length >= BACKDROP_WHITE_EDGE_SHARE) return WHITE;
  const median: Rgb = [0, 1, 2].map((c) => medianOf(edge.map((o) => pixels.data[o + c]))) as Rgb;
  const uniform = edge.filter((o) => withinAt(pixels.data, o, median, tolerance)).length;
  return uniform / edge.length >= BACKDROP_UNIFORM_EDGE_SHARE ? median : null;
}

/** Byte offsets of the pixels in the strip {@link BACKDROP_EDGE_PX} wide along the region's edges, not ignored. */
function edgeOffsets(pixels: ListingPixels, region: Region, mask: Mask): number[] {
  const edge: number[] = [];
  for (let y = region.y0; y < region.y1; y++) {
    const nearEdgeRow = y - region.y0 < BACKDROP_EDGE_PX || region.y1 - 1 - y < BACKDROP_EDGE_PX;
    for (let x = region.x0; x < region.x1; x++) {
      if (mask?.[y * pixels.width + x]) continue;
      if (nearEdgeRow || x - region.x0 < BACKDROP_EDGE_PX || region.x1 - 1 - x < BACKDROP_EDGE_PX) {
        edge.push((y * pixels.width + x) * 3);
      }
    }
  }
  return edge;
}

/** Share of the edge strip whose pixels (by index) pass `test`; 0 when the strip is empty. */
function edgeShare(
  pixels: ListingPixels,
  region: Region,
  mask: Mask,
  test: (index: number) => boolean,
): number {
  const edge = edgeOffsets(pixels, region, mask);
  return edge.length === 0 ? 0 : edge.filter((o) => test(o / 3)).length / edge.length;
}

/** Bounds (analysed pixels, exclusive ends) of the rows and columns with enough non-backdrop pixels. */
function productBounds(
  pixels: ListingPixels,
  region: Region,
  isProduct: (index: number) => boolean,
  mask: Mask,
): Region | null {
  const regionWidth = region.x1 - region.x0;
  const regionHeight = region.y1 - region.y0;
  const rows = new Uint32Array(regionHeight);
  const columns = new Uint32Array(regionWidth);
  for (let y = region.y0; y < region.y1; y++) {
    for (let x = region.x0; x < region.x1; x++) {
      const index = y * pixels.width + x;
      if (mask?.[index]) continue;
      if (isProduct(index)) {
        rows[y - region.y0]++;
        columns[x - region.x0]++;
      }
    }
  }
  const rowMin = Math.max(1, Math.ceil(PRODUCT_LINE_MIN_SHARE * regionWidth));
  const columnMin = Math.max(1, Math.ceil(PRODUCT_LINE_MIN_SHARE * regionHeight));
  const y0 = rows.findIndex((n) => n >= rowMin);
  const x0 = columns.findIndex((n) => n >= columnMin);
  if (y0 < 0 || x0 < 0) return null;
  const y1 = rows.findLastIndex((n) => n >= rowMin) + 1;
  const x1 = columns.findLastIndex((n) => n >= columnMin) + 1;
  return { x0: region.x0 + x0, y0: region.y0 + y0, x1: region.x0 + x1, y1: region.y0 + y1 };
}

/** 1 for pixels of the analysed copy inside an ignored region; null when nothing is ignored. */
type Mask = Uint8Array | null;

/**
 * Ignored boxes in analysed pixels, exclusive ends, grown by one pixel each way as ImageProcessor.measureListing
 * grows them when it paints them, for the resampling blur at their edges.
 */
function ignoredRegions(
  boxes: NonNullable<ListingOptions['ignore']>,
  width: number,
  height: number,
  scaleX: number,
  scaleY: number,
): Region[] {
  return boxes
    .map((box) => ({
      x0: clamp(Math.floor(box.x * scaleX) - 1, 0, width),
      y0: clamp(Math.floor(box.y * scaleY) - 1, 0, height),
      x1: clamp(Math.ceil((box.x + box.width) * scaleX) + 1, 0, width),
      y1: clamp(Math.ceil((box.y + box.height) * scaleY) + 1, 0, height),
    }))
    .filter((r) => r.x1 > r.x0 && r.y1 > r.y0);
}

function ignoreMask(regions: readonly Region[], width: number, height: number): Mask {
  if (regions.length === 0) return null;
  const mask = new Uint8Array(width * height);
  for (const r of regions) {
    for (let y = r.y0; y < r.y1; y++) mask.fill(1, y * width + r.x0, y * width + r.x1);
  }
  return mask;
}

/**
 * Grows the product's box over every ignored region the product runs into (see {@link ATTACH_MIN_SHARE}), until no
 * more do: what lay under such a region is unknown, and was most likely more of the product.
 */
function attachIgnored(
  pixels: ListingPixels,
  region: Region,
  isProduct: (index: number) => boolean,
  box: Region,
  ignored: readonly Region[],
  mask: Mask,
): Region {
  let current = box;
  const pending = [...ignored];
  for (let changed = true; changed;) {
    changed = false;
    for (let i = pending.length - 1; i >= 0; i--) {
      if (!productRunsInto(pixels, region, isProduct, current, pending[i], mask)) continue;
      const r = pending[i];
      current = {
        x0: Math.max(region.x0, Math.min(current.x0, r.x0)),
        y0: Math.max(region.y0, Math.min(current.y0, r.y0)),
        x1: Math.min(region.x1, Math.max(current.x1, r.x1)),
        y1: Math.min(region.y1, Math.max(current.y1, r.y1)),
      };
      pending.splice(i, 1);
      changed = true;
    }
  }
  return current;
}

/** Whether the pixels just outside `r`, near the product's box, are mostly product. */
function productRunsInto(
  pixels: ListingPixels,
  region: Region,
  isProduct: (index: number) => boolean,
  box: Region,
  r: Region,
  mask: Mask,
): boolean {
  let near = 0;
  let product = 0;
  const visit = (x: number, y: number) => {
    if (x < region.x0 || x >= region.x1 || y < region.y0 || y >= region.y1) return;
    if (x < box.x0 - ATTACH_MARGIN_PX || x >= box.x1 + ATTACH_MARGIN_PX) return;
    if (y < box.y0 - ATTACH_MARGIN_PX || y >= box.y1 + ATTACH_MARGIN_PX) return;
    const index = y * pixels.width + x;
    if (mask?.[index]) return;
    near++;
    if (isProduct(index)) product++;
  };
  for (let x = r.x0 - 1; x <= r.x1; x++) {
    visit(x, r.y0 - 1);
    visit(x, r.y1);
  }
  for (let y = r.y0; y < r.y1; y++) {
    visit(r.x0 - 1, y);
    visit(r.x1, y);
  }
  return near > 0 && product / near >= ATTACH_MIN_SHARE;
}

function whiteShareOutside(
  pixels: ListingPixels,
  region: Region,
  box: Region | null,
  tolerance: number,
  mask: Mask,
): number {
  let background = 0;
  let white = 0;
  for (let y = region.y0; y < region.y1; y++) {
    for (let x = region.x0; x < region.x1; x++) {
      if (box && x >= box.x0 && x < box.x1 && y >= box.y0 && y < box.y1) continue;
      if (mask?.[y * pixels.width + x]) continue;
      background++;
      if (withinAt(pixels.data, (y * pixels.width + x) * 3, WHITE, tolerance)) white++;
    }
  }
  return background === 0 ? 1 : white / background;
}

function pixelAt(data: Uint8Array, offset: number): Rgb {
  return [data[offset], data[offset + 1], data[offset + 2]];
}

function isNearWhite(rgb: Rgb, tolerance: number): boolean {
  return within(rgb, WHITE, tolerance);
}

/** Every channel within tolerance (Chebyshev distance), the per-channel rule the options describe. */
function within(rgb: Rgb, reference: Rgb, tolerance: number): boolean {
  return (
    Math.abs(rgb[0] - reference[0]) <= tolerance &&
    Math.abs(rgb[1] - reference[1]) <= tolerance &&
    Math.abs(rgb[2] - reference[2]) <= tolerance
  );
}

/** {@link within} on a pixel read in place: the per-pixel loops run over every analysed pixel, so no arrays. */
function withinAt(data: Uint8Array, offset: number, reference: Rgb, tolerance: number): boolean {
  return (
    Math.abs(data[offset] - reference[0]) <= tolerance &&
    Math.abs(data[offset + 1] - reference[1]) <= tolerance &&
    Math.abs(data[offset + 2] - reference[2]) <= tolerance
  );
}

/** Euclidean RGB distance. */
function distance(p: Rgb, q: Rgb): number {
  return Math.hypot(p[0] - q[0], p[1] - q[1], p[2] - q[2]);
}

function emptyAccumulator(): Accumulator {
  return { sum: [0, 0, 0], sumSq: [0, 0, 0], count: 0 };
}

function add(a: Accumulator, data: Uint8Array, offset: number): void {
  for (let c = 0; c < 3; c++) {
    const v = data[offset + c];
    a.sum[c] += v;
    a.sumSq[c] += v * v;
  }
  a.count++;
}

function merge(a: Accumulator, b: Accumulator): Accumulator {
  return {
    sum: [a.sum[0] + b.sum[0], a.sum[1] + b.sum[1], a.sum[2] + b.sum[2]],
    sumSq: [a.sumSq[0] + b.sumSq[0], a.sumSq[1] + b.sumSq[1], a.sumSq[2] + b.sumSq[2]],
    count: a.count + b.count,
  };
}

function mean(a: Accumulator): Rgb {
  const n = Math.max(1, a.count);
  return [a.sum[0] / n, a.sum[1] / n, a.sum[2] / n];
}

function stddev(a: Accumulator): Rgb {
  const m = mean(a);
  const n = Math.max(1, a.count);
  return [0, 1, 2].map((c) => Math.sqrt(Math.max(0, a.sumSq[c] / n - m[c] * m[c]))) as Rgb;
}

function medianOf(values: number[]): number {
  const histogram = new Uint32Array(256);
  for (const v of values) histogram[v]++;
  let seen = 0;
  for (let v = 0; v < 256; v++) {
    seen += histogram[v];
    if (seen * 2 >= values.length) return v;
  }
  return 255;
}

function clamp(value: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, value));
}

function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
