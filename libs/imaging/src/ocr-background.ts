/**
 * Illumination estimate for OCR preprocessing, on 8-bit grey pixels. A photographed page is reflectance ×
 * illumination, so dividing by a smooth estimate of the blank paper ("background") flattens shadows and gradients
 * while keeping each stroke's contrast with the paper around it.
 *
 * The paper is estimated per tile as a high percentile of its grey levels: text covers well under half of any tile,
 * so the 90th percentile is paper even inside a paragraph, where a blurred copy of the image would be darkened by
 * the text itself and would wash the text out when divided.
 */

/** Tiles along the long side: small enough to follow a shadow's edge, large enough to always contain paper. */
const TILES_ALONG_LONG_SIDE = 32;
const MIN_TILE = 8;
const PAPER_PERCENTILE = 0.9;
/** Tiles per side of the coarse cells that vote on polarity: big enough that the background is their majority. */
const POLARITY_CELL_TILES = 8;
/** Grey levels away from a cell's median for a pixel to count as ink rather than paper texture or shading. */
const INK_CONTRAST = 48;
/**
 * Light ink must outnumber dark ink by this factor before the image is negated. A light-on-dark tag or label has
 * almost no ink darker than its background (light:dark votes run into the thousands on rendered tags); a product
 * photo with white lettering on a dark product and dark lettering on the white backdrop is mixed (ratios up to about
 * 6 on the eval's synthetic photos), and there the backdrop's dark text, where overlay words and contact details
 * go, is what must stay readable.
 */
const LIGHT_INK_DOMINANCE = 8;
/**
 * The largest gain the division may apply: the paper estimate is floored at 1/8 of the brightest paper. That is
 * enough for a page whose far side is in deep shadow, and stops a large dark area without text (a photo, a dark band)
 * from being blown up into noise.
 */
const MAX_GAIN = 8;

export interface PaperEstimate {
  /** True when the text is lighter than its background, so the image is negated before dividing. */
  inverted: boolean;
  /** Paper brightness per tile (after the negation, when inverted), already floored; row-major. */
  paper: Uint8Array;
  columns: number;
  rows: number;
}

export function estimatePaper(grey: Uint8Array, width: number, height: number): PaperEstimate {
  const tile = Math.max(MIN_TILE, Math.round(Math.max(width, height) / TILES_ALONG_LONG_SIDE));
  const columns = Math.ceil(width / tile);
  const rows = Math.ceil(height / tile);
  const histograms = new Uint32Array(columns * rows * 256);
  const columnOf = new Int32Array(width);
  for (let x = 0; x < width; x++) columnOf[x] = Math.floor(x / tile);
  for (let y = 0; y < height; y++) {
    const tileRow = Math.floor(y / tile) * columns;
    const offset = y * width;
    for (let x = 0; x < width; x++) histograms[(tileRow + columnOf[x]) * 256 + grey[offset + x]]++;
  }

  const inverted = lightInkDominates(histograms, columns, rows);
  const paper = new Uint8Array(columns * rows);
  for (let t = 0; t < paper.length; t++) {
    const level = percentile(histograms, t, PAPER_PERCENTILE);
    paper[t] = inverted ? 255 - percentile(histograms, t, 1 - PAPER_PERCENTILE) : level;
  }
  const floor = Math.max(1, Math.ceil(Math.max(...paper) / MAX_GAIN));
  for (let t = 0; t < paper.length; t++) paper[t] = Math.max(paper[t], floor);
  return { inverted, paper, columns, rows };
}

/**
 * Decides whether the text is light on dark (a price tag, a dark label) by counting, in coarse cells, pixels far
 * below and far above the cell's median: the median is the background, so whichever side has more pixels is ink.
 * Cells are coarse because inside big bold lettering a single small tile can be mostly ink.
 *
 * Ink is thin strokes on paper, so a tile where the far side is the majority is not counted: it lies inside a large
 * area of another level (a dark product on a white backdrop, the white backdrop beside a product that fills most of
 * a cell), and counting such areas made a product photo vote "light ink" by the size of its backdrop rather than by
 * its text. Only the tiles along such an area's edge still count, on both sides alike.
 */
function lightInkDominates(histograms: Uint32Array, columns: number, rows: number): boolean {
  const cellColumns = Math.ceil(columns / POLARITY_CELL_TILES);
  const cellRows = Math.ceil(rows / POLARITY_CELL_TILES);
  const cellOf = (row: number, column: number) =>
    Math.floor(row / POLARITY_CELL_TILES) * cellColumns + Math.floor(column / POLARITY_CELL_TILES);
  const cells = new Uint32Array(cellColumns * cellRows * 256);
  for (let row = 0; row < rows; row++) {
    for (let column = 0; column < columns; column++) {
      const cell = cellOf(row, column);
      const from = (row * columns + column) * 256;
      for (let v = 0; v < 256; v++) cells[cell * 256 + v] += histograms[from + v];
    }
  }
  const medians = new Int32Array(cellColumns * cellRows);
  for (let cell = 0; cell < medians.length; cell++) medians[cell] = percentile(cells, cell, 0.5);

  let dark = 0;
  let light = 0;
  for (let row = 0; row < rows; row++) {
    for (let column = 0; column < columns; column++) {
      const median = medians[cellOf(row, column)];
      const from = (row * columns + column) * 256;
      let tileDark = 0;
      let tileLight = 0;
      let total = 0;
      for (let v = 0; v < 256; v++) {
        const n = histograms[from + v];
        total += n;
        if (v < median - INK_CONTRAST) tileDark += n;
        else if (v > median + INK_CONTRAST) tileLight += n;
      }
      if (tileDark * 2 > total || tileLight * 2 > total) continue;
      dark += tileDark;
      light += tileLight;
    }
  }
  return light > LIGHT_INK_DOMINANCE * dark;
}

/** The grey level below which `fraction` of histogram `index`'s pixels fall. */
function percentile(histograms: Uint32Array, index: number, fraction: number): number {
  const from = index * 256;
  let total = 0;
  for (let v = 0; v < 256; v++) total += histograms[from + v];
  const target = fraction * total;
  let seen = 0;
  for (let v = 0; v < 255; v++) {
    seen += histograms[from + v];
    if (seen >= target) return v;
  }
  return 255;
}

/**
 * Divides each pixel by the paper behind it (full-size, ≥ 1), negating first when the ink is light, so blank paper
 * becomes white everywhere and ink keeps its contrast with the paper around it. Done in JS rather than with libvips:
 * its only divide is the colour-dodge blend against the negated background, which works (image ÷ background) but
 * goes through float RGBA and took ten times as long as this loop (about 70 ms against 6 ms for 0.8 MP).
 */
export function divideByPaper(grey: Uint8Array, paper: Uint8Array, inverted: boolean): Buffer {
  // The clamped array rounds and clamps to 0–255 on store, which keeps Math calls out of this hot loop.
  const out = new Uint8ClampedArray(grey.length);
  for (let i = 0; i < grey.length; i++) {
    const ink = inverted ? 255 - grey[i] : grey[i];
    out[i] = (ink * 255) / (paper[i] || 1);
  }
  return Buffer.from(out.buffer, out.byteOffset, out.length);
}

/**
 * Stretches levels so that `clip` of the pixels at each end saturate, in place: sharp's normalise() does the same
 * with the same 1 % defaults, but its float pipeline costs about 40 ms on 0.8 MP where this costs a few.
 */
export function stretchContrast(pixels: Uint8Array, clip = 0.01): void {
  const histogram = new Uint32Array(256);
  for (let i = 0; i < pixels.length; i++) histogram[pixels[i]]++;
  const limit = clip * pixels.length;
  let low = 0;
  for (let seen = 0; low < 255; low++) {
    seen += histogram[low];
    if (seen > limit) break;
  }
  let high = 255;
  for (let seen = 0; high > 0; high--) {
    seen += histogram[high];
    if (seen > limit) break;
  }
  if (high <= low) return;
  const table = new Uint8Array(256);
  for (let v = 0; v < 256; v++)
    table[v] = Math.max(0, Math.min(255, Math.round(((v - low) * 255) / (high - low))));
  for (let i = 0; i < pixels.length; i++) pixels[i] = table[pixels[i]];
}
