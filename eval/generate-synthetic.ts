// The built-in synthetic eval dataset: listing photos with one defect each (or none), rendered labels and receipts
// with known text, and product photos with and without contact details. Everything is drawn from SVG with sharp and
// a seeded PRNG, so the same version always writes the same images, and every label is true by construction: it
// says what was drawn, never what the system answers.
//
//   npm run eval:generate -- [DIR]     (default .cache/eval/synthetic)
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { DATASET_FILE, type CheckId, type DatasetItem } from './dataset';

/** Bump whenever a change alters an image or a label: run-eval regenerates a cached copy with another version. */
export const GENERATOR_VERSION = 1;
export const GENERATOR_FILE = 'generator.json';
const SEED = 0x5eed_a765;

const ROOT = join(__dirname, '..');
export const DEFAULT_SYNTHETIC_DIR = join(ROOT, '.cache', 'eval', 'synthetic');

const FONT = 'DejaVu Sans';
const PROFILE = 'marketplace-main';
/** Clean products fill at least this much of the frame: well clear of the profile's 0.85. */
const CLEAN_FILL: [number, number] = [0.88, 0.95];
/** Products that are too small: well clear of 0.85 on the other side. */
const SMALL_FILL: [number, number] = [0.42, 0.7];

// ---------------------------------------------------------------------------------------------------------------
// Deterministic randomness

/** mulberry32: a small seeded PRNG; Math.random is never used, so every run draws the same dataset. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Random {
  private readonly next: () => number;
  constructor(seed: number) {
    this.next = prng(seed);
  }
  float(low: number, high: number): number {
    return low + (high - low) * this.next();
  }
  int(low: number, high: number): number {
    return Math.floor(this.float(low, high + 1));
  }
  pick<T>(values: readonly T[]): T {
    return values[Math.floor(this.next() * values.length)];
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Drawing

const escapeXml = (value: string) =>
  value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

interface Palette {
  name: string;
  /** Body gradient, light to dark. */
  body: [string, string];
  /** Label band. */
  band: string;
  /** Text on the band. */
  bandText: string;
  /** Text on the body. */
  bodyText: string;
  /** Cap of a bottle, lid stripe of a carton. */
  cap: string;
  /** Outline drawn around the body: only the white product needs one to stand off the white background. */
  outline?: string;
}

/** Every palette has dark areas (body, band or cap), as real packaging does, so a correct exposure reads as ok. */
const PALETTES: Record<string, Palette> = {
  blue: {
    name: 'blue',
    body: ['#2a4d8f', '#10203f'],
    band: '#f2c230',
    bandText: '#10203f',
    bodyText: '#f0f0f0',
    cap: '#0b1224',
  },
  red: {
    name: 'red',
    body: ['#c8402f', '#7b1d14'],
    band: '#fbf3e4',
    bandText: '#7b1d14',
    bodyText: '#ffffff',
    cap: '#3a0c08',
  },
  green: {
    name: 'green',
    body: ['#2f8f5b', '#1b5e3a'],
    band: '#f4e9c8',
    bandText: '#1b5e3a',
    bodyText: '#ffffff',
    cap: '#0f3020',
  },
  orange: {
    name: 'orange',
    body: ['#f39a3a', '#c4621a'],
    band: '#2b2b2b',
    bandText: '#f7c98b',
    bodyText: '#2b1606',
    cap: '#2b2b2b',
  },
  dark: {
    name: 'dark',
    body: ['#34343a', '#121214'],
    band: '#c9a227',
    bandText: '#121214',
    bodyText: '#e6e6e6',
    cap: '#050505',
  },
  white: {
    name: 'white',
    body: ['#f7f5f0', '#d9d4c8'],
    band: '#1f3a5f',
    bandText: '#f7f5f0',
    bodyText: '#1f3a5f',
    cap: '#1f3a5f',
    outline: '#aaa395',
  },
  purple: {
    name: 'purple',
    body: ['#7a4bab', '#3f2260'],
    band: '#ece4f4',
    bandText: '#3f2260',
    bodyText: '#ffffff',
    cap: '#24123a',
  },
  teal: {
    name: 'teal',
    body: ['#1a9a9a', '#0b5656'],
    band: '#fff6e0',
    bandText: '#0b5656',
    bodyText: '#ffffff',
    cap: '#06302f',
  },
};
/** Palettes that stay clearly off-white after washing out or on a grey backdrop (the white product would vanish). */
const DARKISH = ['blue', 'red', 'green', 'dark', 'purple', 'teal'];

type Shape = 'box' | 'bottle' | 'round' | 'carton';
const SHAPES: readonly Shape[] = ['box', 'bottle', 'round', 'carton'];
/** width ÷ height of each shape's bounding box. */
const ASPECT: Record<Shape, [number, number]> = {
  box: [0.8, 1.2],
  bottle: [0.38, 0.46],
  round: [1, 1],
  carton: [0.55, 0.65],
};
const BRANDS = ['ACME', 'NORDA', 'VELO', 'KORU', 'MIRA', 'SOLO', 'ORBIT', 'LUMA', 'TERRA', 'FJORD'];
const AMOUNTS = ['500 g', '250 ml', '1 L', '12 pcs', '750 ml', '2 kg', '330 ml', '100 g'];
const SMALL_PRINT = [
  'Store in a cool, dry place',
  'Made in the EU',
  'Recyclable packaging',
  'Best before: see base',
  'Keep away from sunlight',
  'Shake well before use',
];

interface ProductSpec {
  shape: Shape;
  palette: Palette;
  brand: string;
  amount: string;
  /** width ÷ height of the bounding box. */
  aspect: number;
  /** A line of small print. */
  smallPrint: string;
  /** Barcode module widths, alternately bar and space. */
  bars: number[];
}

interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

function randomProduct(
  random: Random,
  options: { shape?: Shape; palette?: string; palettes?: string[] } = {},
) {
  const shape = options.shape ?? random.pick(SHAPES);
  const palette =
    PALETTES[options.palette ?? random.pick(options.palettes ?? Object.keys(PALETTES))] ?? PALETTES.blue;
  const [low, high] = ASPECT[shape];
  return {
    shape,
    palette,
    brand: random.pick(BRANDS),
    amount: random.pick(AMOUNTS),
    aspect: random.float(low, high),
    smallPrint: random.pick(SMALL_PRINT),
    bars: Array.from({ length: 41 }, () => random.int(1, 3)),
  } satisfies ProductSpec;
}

/**
 * Where a product of `spec.aspect` goes so that it spans `fill` of the frame on its longer side (the fill_ratio
 * definition: max(box width ÷ frame width, box height ÷ frame height)), centred with a little jitter.
 */
function placeProduct(random: Random, spec: ProductSpec, width: number, height: number, fill: number): Box {
  const boxHeight = fill / Math.max(spec.aspect / width, 1 / height);
  const boxWidth = spec.aspect * boxHeight;
  const w = Math.round(boxWidth);
  const h = Math.round(boxHeight);
  const x = Math.round((width - w) / 2 + random.float(-0.3, 0.3) * (width - w) * 0.5);
  const y = Math.round((height - h) / 2 + random.float(-0.3, 0.3) * (height - h) * 0.5);
  return { x, y, width: w, height: h };
}

/** The true fill ratio of a drawn box in a frame. */
function fillOf(box: Box, width: number, height: number): number {
  return Math.max(box.width / width, box.height / height);
}

function textFitting(text: string, maxWidth: number, maxHeight: number): number {
  // DejaVu Sans capitals and digits average about 0.68 em wide.
  return Math.max(8, Math.floor(Math.min(maxWidth / (text.length * 0.68), maxHeight)));
}

function centredText(
  text: string,
  cx: number,
  baseline: number,
  size: number,
  fill: string,
  weight = 'bold',
) {
  return `<text x="${cx.toFixed(1)}" y="${baseline.toFixed(1)}" text-anchor="middle" font-family="${FONT}" font-weight="${weight}" font-size="${size}" fill="${fill}">${escapeXml(text)}</text>`;
}

/** A barcode on a white patch, centred on cx, between top and top + height. */
function barcodeSvg(bars: readonly number[], cx: number, top: number, width: number, height: number): string {
  const modules = bars.reduce((sum, bar) => sum + bar, 0);
  const unit = (width * 0.88) / modules;
  const parts = [
    `<rect x="${(cx - width / 2).toFixed(1)}" y="${top.toFixed(1)}" width="${width.toFixed(1)}" height="${height.toFixed(1)}" fill="#ffffff"/>`,
  ];
  let x = cx - (unit * modules) / 2;
  bars.forEach((bar, index) => {
    if (index % 2 === 0) {
      parts.push(
        `<rect x="${x.toFixed(2)}" y="${(top + height * 0.1).toFixed(1)}" width="${(bar * unit).toFixed(2)}" height="${(height * 0.8).toFixed(1)}" fill="#111111"/>`,
      );
    }
    x += bar * unit;
  });
  return parts.join('');
}

/**
 * The print every real package carries (a barcode, a line of small print) besides its brand. It is what gives a
 * sharp photo its fine detail: with only a shape's outline and a brand word, the Laplacian variance of a sharp photo
 * rests on a few edges and drops below the blur threshold as soon as a tone curve lowers their contrast.
 */
function detailSvg(spec: ProductSpec, box: Box, ink: string): string {
  const { x, y, width: w, height: h } = box;
  const cx = x + w / 2;
  const line = (baseline: number, size: number, fill = ink) =>
    centredText(spec.smallPrint, cx, baseline, Math.max(12, Math.round(size)), fill, 'normal');
  switch (spec.shape) {
    case 'box':
      return (
        line(y + h * 0.48, Math.min(h * 0.032, textFitting(spec.smallPrint, w * 0.8, h))) +
        barcodeSvg(spec.bars, cx, y + h * 0.845, w * 0.34, h * 0.1)
      );
    case 'bottle': {
      const bodyY = y + h * 0.2;
      const bodyH = h * 0.8;
      return (
        line(bodyY + bodyH * 0.75, Math.min(bodyH * 0.03, textFitting(spec.smallPrint, w * 0.85, h))) +
        barcodeSvg(spec.bars, cx, bodyY + bodyH * 0.79, w * 0.5, bodyH * 0.1)
      );
    }
    case 'round': {
      const r = Math.min(w, h) / 2;
      const cy = y + h / 2;
      return (
        line(cy - r * 0.72, Math.min(r * 0.075, textFitting(spec.smallPrint, r * 0.95, h))) +
        barcodeSvg(spec.bars, cx, cy + r * 0.42, r * 0.44, r * 0.13)
      );
    }
    case 'carton':
      return (
        line(y + h * 0.43, Math.min(h * 0.026, textFitting(spec.smallPrint, w * 0.85, h))) +
        barcodeSvg(spec.bars, cx, y + h * 0.8, w * 0.5, h * 0.09)
      );
  }
}

/** SVG elements of one product inside `box`; `id` keeps gradient ids unique within a picture. */
function productSvg(spec: ProductSpec, box: Box, id: string): string {
  const { palette: p } = spec;
  const { x, y, width: w, height: h } = box;
  const gradient = `<defs><linearGradient id="${id}" x1="0" x2="1" y1="0" y2="1"><stop offset="0" stop-color="${p.body[0]}"/><stop offset="1" stop-color="${p.body[1]}"/></linearGradient></defs>`;
  const stroke = p.outline ? ` stroke="${p.outline}" stroke-width="${Math.max(3, Math.round(w / 150))}"` : '';
  // The outline is centred on the shape's edge: inset the shape by half its width so the drawn box is `box`.
  const inset = p.outline ? Math.max(3, Math.round(w / 150)) / 2 : 0;
  const parts: string[] = [gradient];
  switch (spec.shape) {
    case 'box': {
      const rx = Math.round(Math.min(w, h) / 12);
      parts.push(
        `<rect x="${x + inset}" y="${y + inset}" width="${w - 2 * inset}" height="${h - 2 * inset}" rx="${rx}" fill="url(#${id})"${stroke}/>`,
      );
      const bandY = y + h * 0.58;
      const bandH = h * 0.24;
      parts.push(
        `<rect x="${x + inset}" y="${bandY}" width="${w - 2 * inset}" height="${bandH}" fill="${p.band}"/>`,
      );
      const brandSize = textFitting(spec.brand, w * 0.7, h * 0.16);
      parts.push(centredText(spec.brand, x + w / 2, y + h * 0.36, brandSize, p.bodyText));
      const amountSize = textFitting(spec.amount, w * 0.5, bandH * 0.5);
      parts.push(centredText(spec.amount, x + w / 2, bandY + bandH * 0.66, amountSize, p.bandText));
      break;
    }
    case 'bottle': {
      const capH = h * 0.1;
      const neckH = h * 0.1;
      const bodyY = y + capH + neckH;
      const bodyH = h - capH - neckH;
      parts.push(
        `<rect x="${x + w * 0.32}" y="${y + inset}" width="${w * 0.36}" height="${capH + 2}" rx="${w * 0.04}" fill="${p.cap}"/>`,
        `<rect x="${x + w * 0.28}" y="${y + capH}" width="${w * 0.44}" height="${neckH + w * 0.1}" fill="url(#${id})"${stroke}/>`,
        `<rect x="${x + inset}" y="${bodyY}" width="${w - 2 * inset}" height="${bodyH - inset}" rx="${w * 0.16}" fill="url(#${id})"${stroke}/>`,
      );
      const bandY = bodyY + bodyH * 0.3;
      const bandH = bodyH * 0.38;
      parts.push(
        `<rect x="${x + inset}" y="${bandY}" width="${w - 2 * inset}" height="${bandH}" fill="${p.band}"/>`,
      );
      const brandSize = textFitting(spec.brand, w * 0.8, bandH * 0.3);
      parts.push(centredText(spec.brand, x + w / 2, bandY + bandH * 0.45, brandSize, p.bandText));
      const amountSize = textFitting(spec.amount, w * 0.6, bandH * 0.2);
      parts.push(centredText(spec.amount, x + w / 2, bandY + bandH * 0.8, amountSize, p.bandText, 'normal'));
      break;
    }
    case 'round': {
      const r = Math.min(w, h) / 2;
      const cx = x + w / 2;
      const cy = y + h / 2;
      parts.push(
        `<circle cx="${cx}" cy="${cy}" r="${r - inset}" fill="url(#${id})"${stroke}/>`,
        `<circle cx="${cx}" cy="${cy}" r="${r * 0.62}" fill="${p.band}"/>`,
      );
      const brandSize = textFitting(spec.brand, r * 1.0, r * 0.28);
      parts.push(centredText(spec.brand, cx, cy + brandSize * 0.1, brandSize, p.bandText));
      const amountSize = textFitting(spec.amount, r * 0.7, r * 0.16);
      parts.push(centredText(spec.amount, cx, cy + r * 0.36, amountSize, p.bandText, 'normal'));
      break;
    }
    case 'carton': {
      const lidH = h * 0.12;
      parts.push(
        `<rect x="${x + inset}" y="${y + inset}" width="${w - 2 * inset}" height="${h - 2 * inset}" rx="${w * 0.03}" fill="url(#${id})"${stroke}/>`,
        `<rect x="${x + inset}" y="${y + inset}" width="${w - 2 * inset}" height="${lidH}" fill="${p.cap}"/>`,
      );
      const bandY = y + h * 0.5;
      const bandH = h * 0.22;
      parts.push(
        `<rect x="${x + inset}" y="${bandY}" width="${w - 2 * inset}" height="${bandH}" fill="${p.band}"/>`,
      );
      const brandSize = textFitting(spec.brand, w * 0.8, h * 0.09);
      parts.push(centredText(spec.brand, x + w / 2, y + h * 0.34, brandSize, p.bodyText));
      const amountSize = textFitting(spec.amount, w * 0.6, bandH * 0.4);
      parts.push(centredText(spec.amount, x + w / 2, bandY + bandH * 0.62, amountSize, p.bandText));
      break;
    }
  }
  parts.push(detailSvg(spec, box, p.bodyText));
  return parts.join('');
}

function svgDocument(width: number, height: number, background: string, body: string): Buffer {
  return Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><rect width="100%" height="100%" fill="${background}"/>${body}</svg>`,
  );
}

/** Decoded 8-bit RGB pixels: the drawing steps (blur, frame, tone curve) work on these before the one JPEG encode. */
interface Picture {
  data: Buffer;
  info: { width: number; height: number; channels: 3 };
}

const pictureSharp = (picture: Picture) => sharp(picture.data, { raw: picture.info });

/** A picture: the backdrop, the product, then `extra` (overlay text) on top. */
async function renderPicture(
  width: number,
  height: number,
  background: string,
  product: { spec: ProductSpec; box: Box },
  extra = '',
): Promise<Picture> {
  const svg = svgDocument(width, height, background, productSvg(product.spec, product.box, 'g') + extra);
  const { data } = await sharp(svg).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, info: { width, height, channels: 3 } };
}

// ---------------------------------------------------------------------------------------------------------------
// Listing photos

/** The checks every synthetic listing photo is labelled with: the facts its drawing controls. */
export const SYNTHETIC_CHECK_IDS = [
  'background_white',
  'fill_ratio',
  'min_resolution',
  'sharpness',
  'exposure',
  'border',
  'text_overlay',
] as const satisfies readonly CheckId[];
type LabelledCheck = (typeof SYNTHETIC_CHECK_IDS)[number];
type Defect = LabelledCheck | 'clean';

interface ListingPhoto {
  id: string;
  defect: Defect;
  data: Buffer;
  /** Check id → passes, by construction. */
  expected: Record<LabelledCheck, boolean>;
  note: string;
}

const CANVASES: ReadonlyArray<[number, number]> = [
  [1200, 1200],
  [1400, 1000],
  [1000, 1300],
  [1500, 1500],
  [1300, 1100],
  [1600, 1200],
  [1100, 1400],
];
const SMALL_CANVASES: ReadonlyArray<[number, number]> = [
  [640, 640],
  [800, 600],
  [720, 900],
  [900, 900],
  [960, 720],
  [600, 800],
];
const OFF_WHITE = ['#e6e1d6', '#dcdcdc', '#efe8da', '#d5dbe2', '#e9e2cf', '#d9d9d0'];
const FRAME_COLOURS = ['#000000', '#c0392b', '#1f2f5a', '#c9a227', '#7a7a7a', '#2e7d32'];
const OVERLAYS: ReadonlyArray<{ words: string[]; fill: string; opacity: number }> = [
  { words: ['SALE', '-50%'], fill: '#d01010', opacity: 1 },
  { words: ['FREE', 'SHIPPING'], fill: '#111111', opacity: 1 },
  { words: ['BEST', 'PRICE'], fill: '#e07000', opacity: 1 },
  { words: ['NEW', 'ONLY 9.99'], fill: '#c01060', opacity: 1 },
  { words: ['SAMPLE', 'PHOTO'], fill: '#8a8a8a', opacity: 0.8 },
  { words: ['HOT', 'DEAL'], fill: '#1060c0', opacity: 1 },
];

const JPEG = { quality: 92, chromaSubsampling: '4:4:4' } as const;

async function listingPhotos(random: Random): Promise<ListingPhoto[]> {
  const photos: ListingPhoto[] = [];
  const allPass = (): Record<LabelledCheck, boolean> => ({
    background_white: true,
    fill_ratio: true,
    min_resolution: true,
    sharpness: true,
    exposure: true,
    border: true,
    text_overlay: true,
  });
  const add = (
    id: string,
    defect: Defect,
    data: Buffer,
    expected: Record<LabelledCheck, boolean>,
    note: string,
  ) => photos.push({ id, defect, data, expected, note });

  /** A product alone on a background; returns the SVG and the truth about its fill. */
  const scene = (
    width: number,
    height: number,
    options: {
      background?: string;
      fill?: [number, number];
      palettes?: string[];
      shape?: Shape;
      palette?: string;
    },
  ) => {
    const spec = randomProduct(random, options);
    const [low, high] = options.fill ?? CLEAN_FILL;
    const box = placeProduct(random, spec, width, height, random.float(low, high));
    return {
      spec,
      box,
      fill: fillOf(box, width, height),
      render: (extra = '') =>
        renderPicture(width, height, options.background ?? '#ffffff', { spec, box }, extra),
    };
  };
  const describe = (spec: ProductSpec, width: number, height: number, fill: number) =>
    `${spec.palette.name} ${spec.shape}, ${width}×${height}, fill ${fill.toFixed(2)}`;

  // Clean: every check passes. Each shape and palette appears, the white and the dark product included.
  const cleanPalettes = [
    'blue',
    'white',
    'dark',
    'orange',
    'red',
    'green',
    'purple',
    'teal',
    'white',
    'dark',
  ];
  for (let i = 0; i < 10; i++) {
    const [width, height] = CANVASES[i % CANVASES.length];
    const s = scene(width, height, { shape: SHAPES[i % SHAPES.length], palette: cleanPalettes[i] });
    const data = await pictureSharp(await s.render())
      .jpeg(JPEG)
      .toBuffer();
    add(`clean-${pad(i + 1)}`, 'clean', data, allPass(), describe(s.spec, width, height, s.fill));
  }

  // background_white: a uniform off-white or light grey backdrop; the product is placed as on a clean photo.
  for (let i = 0; i < 6; i++) {
    const [width, height] = CANVASES[(i + 2) % CANVASES.length];
    const background = OFF_WHITE[i];
    const s = scene(width, height, { background, palettes: DARKISH, shape: SHAPES[i % SHAPES.length] });
    const data = await pictureSharp(await s.render())
      .jpeg(JPEG)
      .toBuffer();
    add(
      `bg-offwhite-${pad(i + 1)}`,
      'background_white',
      data,
      { ...allPass(), background_white: false },
      `${describe(s.spec, width, height, s.fill)}, backdrop ${background}`,
    );
  }

  // fill_ratio: the product is small in the frame.
  for (let i = 0; i < 6; i++) {
    const [width, height] = CANVASES[(i + 4) % CANVASES.length];
    const s = scene(width, height, { fill: SMALL_FILL, shape: SHAPES[(i + 1) % SHAPES.length] });
    const data = await pictureSharp(await s.render())
      .jpeg(JPEG)
      .toBuffer();
    add(
      `fill-small-${pad(i + 1)}`,
      'fill_ratio',
      data,
      { ...allPass(), fill_ratio: s.fill >= 0.85 },
      describe(s.spec, width, height, s.fill),
    );
  }

  // min_resolution: a clean photo whose long side is under 1000 px.
  for (let i = 0; i < 6; i++) {
    const [width, height] = SMALL_CANVASES[i];
    const s = scene(width, height, { shape: SHAPES[(i + 2) % SHAPES.length] });
    const data = await pictureSharp(await s.render())
      .jpeg(JPEG)
      .toBuffer();
    add(
      `lowres-${pad(i + 1)}`,
      'min_resolution',
      data,
      { ...allPass(), min_resolution: Math.max(width, height) >= 1000 },
      describe(s.spec, width, height, s.fill),
    );
  }

  // sharpness: a clean photo under a Gaussian blur (σ 3–6 px at about 1200 px), i.e. visibly out of focus.
  for (let i = 0; i < 6; i++) {
    const [width, height] = CANVASES[(i + 1) % CANVASES.length];
    const s = scene(width, height, { shape: SHAPES[(i + 3) % SHAPES.length] });
    const sigma = random.float(3, 6) * (Math.max(width, height) / 1200);
    const data = await pictureSharp(await s.render())
      .blur(sigma)
      .jpeg(JPEG)
      .toBuffer();
    add(
      `blur-${pad(i + 1)}`,
      'sharpness',
      data,
      { ...allPass(), sharpness: false },
      `${describe(s.spec, width, height, s.fill)}, blur σ ${sigma.toFixed(1)} px`,
    );
  }

  // exposure: too dark or too bright, applied to a clean photo as a tone curve.
  // - too dark: a gamma curve onto 72–92 grey at most, i.e. 3.3–4 stops under: the white backdrop turns dark grey
  //   and the product near black; nothing is left above mid-grey;
  // - too bright: blown out, as with several stops too many plus flare: everything lifted by 135–150 grey levels with
  //   the highlights clipped, so the backdrop and the light parts of the product are pure white and nothing is left
  //   under mid-grey, while the dark parts keep their local contrast (a uniform contrast squeeze would also make a
  //   sharp photo look soft, and its sharpness label would be arguable).
  for (let i = 0; i < 6; i++) {
    const [width, height] = CANVASES[(i + 3) % CANVASES.length];
    const dark = i % 2 === 0;
    const s = scene(width, height, { palettes: DARKISH, shape: SHAPES[i % SHAPES.length] });
    const picture = await s.render();
    const top = random.float(72, 92);
    const lift = random.float(135, 150);
    const slope = random.float(0.85, 1);
    const curve = new Uint8Array(256);
    for (let v = 0; v < 256; v++) {
      curve[v] = Math.round(dark ? top * (v / 255) ** 2.2 : Math.min(255, lift + v * slope));
    }
    const data = await pictureSharp({ ...picture, data: Buffer.from(picture.data.map((v) => curve[v])) })
      .jpeg(JPEG)
      .toBuffer();
    add(
      `exposure-${dark ? 'dark' : 'bright'}-${pad(i + 1)}`,
      'exposure',
      data,
      // Darkening a photo darkens its backdrop too: the background is grey, not white, by construction.
      { ...allPass(), exposure: false, background_white: !dark },
      `${describe(s.spec, width, height, s.fill)}, ${dark ? `darkened, white → ${Math.round(top)}` : `blown out, +${Math.round(lift)} grey levels × ${slope.toFixed(2)}, clipped`}`,
    );
  }

  // border: an added frame of one colour, 1.5–6 % of the short side, around a clean photo.
  for (let i = 0; i < 6; i++) {
    const [width, height] = CANVASES[(i + 5) % CANVASES.length];
    const s = scene(width, height, { shape: SHAPES[(i + 2) % SHAPES.length] });
    const frame = Math.round(Math.min(width, height) * random.float(0.015, 0.06));
    const colour = FRAME_COLOURS[i];
    const data = await pictureSharp(await s.render())
      .extend({ top: frame, bottom: frame, left: frame, right: frame, background: colour })
      .jpeg(JPEG)
      .toBuffer();
    add(
      `border-${pad(i + 1)}`,
      'border',
      data,
      { ...allPass(), border: false },
      `${describe(s.spec, width, height, s.fill)}, ${frame} px ${colour} frame`,
    );
  }

  // text_overlay: promotional words or a watermark on the background beside a tall product in a landscape frame;
  // light, mid and dark products, since a large dark product beside dark overlay text is the hard case for reading.
  const overlayPalettes = ['blue', 'white', 'red', 'dark', 'orange', 'red'];
  for (let i = 0; i < 6; i++) {
    const width = random.pick([1400, 1500, 1600]);
    const height = random.pick([1000, 1050, 1100]);
    const s = scene(width, height, { shape: i % 2 === 0 ? 'bottle' : 'carton', palette: overlayPalettes[i] });
    const overlay = OVERLAYS[i];
    const leftMargin = s.box.x;
    const rightMargin = width - s.box.x - s.box.width;
    const [first, second] = overlay.words;
    const size = (text: string, margin: number) => Math.min(textFitting(text, margin * 0.8, 110), 110);
    const word = (text: string, cx: number, y: number, margin: number) =>
      `<text x="${cx.toFixed(1)}" y="${y.toFixed(1)}" text-anchor="middle" font-family="${FONT}" font-weight="bold" font-size="${size(text, margin)}" fill="${overlay.fill}" fill-opacity="${overlay.opacity}">${escapeXml(text)}</text>`;
    const extra =
      word(first, leftMargin / 2, height * random.float(0.25, 0.45), leftMargin) +
      word(second, s.box.x + s.box.width + rightMargin / 2, height * random.float(0.55, 0.8), rightMargin);
    const data = await pictureSharp(await s.render(extra))
      .jpeg(JPEG)
      .toBuffer();
    add(
      `overlay-${pad(i + 1)}`,
      'text_overlay',
      data,
      { ...allPass(), text_overlay: false },
      `${describe(s.spec, width, height, s.fill)}, "${overlay.words.join(' ')}" on the background`,
    );
  }
  return photos;
}

// ---------------------------------------------------------------------------------------------------------------
// OCR: labels and receipts

interface TextImage {
  id: string;
  mode: 'label' | 'document';
  data: Buffer;
  text: string;
  note: string;
}

const LABELS: ReadonlyArray<{ lines: string[]; paper: string; ink: string }> = [
  {
    lines: ['ORGANIC OAT DRINK', 'Best before 12/2027', 'LOT A1234', '1 L'],
    paper: '#fdfdf8',
    ink: '#111111',
  },
  {
    lines: ['Greek Yoghurt 10%', 'Net weight 500 g', 'Keep refrigerated', 'Use by 03.04.2027'],
    paper: '#ffffff',
    ink: '#1a1a2e',
  },
  {
    lines: ['DARK ROAST COFFEE', 'Whole beans 250 g', 'Roasted 14/01/2027', 'LOT 7781-B'],
    paper: '#f6f0e4',
    ink: '#2a1a0e',
  },
  {
    lines: ['Olive Oil Extra Virgin', '750 ml', 'Best before end 09/2028', 'Price 12.49 EUR'],
    paper: '#fbfbf3',
    ink: '#0f2a12',
  },
  {
    lines: ['SEA SALT CRACKERS', 'Net wt 200 g', 'EXP 2027-06-30', 'Batch 0042'],
    paper: '#ffffff',
    ink: '#202020',
  },
  {
    lines: ['Basmati Rice', '2 kg', 'Best before 31 Aug 2028', 'LOT R-5519', '$7.99'],
    paper: '#fff8e7',
    ink: '#141414',
  },
];

const RECEIPTS: ReadonlyArray<{
  header: string[];
  items: Array<[string, string]>;
  footer: Array<[string, string]>;
}> = [
  {
    header: ['CORNER MARKET', '12 High Street'],
    items: [
      ['Milk 1L', '1.29'],
      ['Bread', '2.10'],
      ['Apples 1kg', '3.45'],
      ['Butter 250g', '2.89'],
    ],
    footer: [['TOTAL', '9.73']],
  },
  {
    header: ['GREEN GROCER', 'Receipt 4471'],
    items: [
      ['Tomatoes', '2.40'],
      ['Cucumber', '0.89'],
      ['Basil', '1.50'],
    ],
    footer: [
      ['SUBTOTAL', '4.79'],
      ['TOTAL', '4.79'],
    ],
  },
  {
    header: ['HARDWARE STORE'],
    items: [
      ['Screws 4x40 100pcs', '5.99'],
      ['Wood glue', '4.25'],
      ['Sandpaper P120', '1.80'],
      ['Tape measure 5m', '8.50'],
    ],
    footer: [['TOTAL', '20.54']],
  },
  {
    header: ['CAFE LUNA', 'Table 7'],
    items: [
      ['Espresso', '2.20'],
      ['Cappuccino', '3.10'],
      ['Croissant', '2.40'],
    ],
    footer: [
      ['TOTAL', '7.70'],
      ['CARD', '7.70'],
    ],
  },
  {
    header: ['BOOK SHOP', 'Invoice 2027-118'],
    items: [
      ['Notebook A5', '3.50'],
      ['Pencils 12 pack', '4.90'],
      ['Atlas of Europe', '24.00'],
    ],
    footer: [['TOTAL', '32.40']],
  },
  {
    header: ['PHARMACY PLUS'],
    items: [
      ['Vitamin C 60 tabs', '6.49'],
      ['Plasters', '2.99'],
      ['Hand cream 75 ml', '4.15'],
    ],
    footer: [['TOTAL', '13.63']],
  },
];

async function textImages(random: Random): Promise<TextImage[]> {
  const images: TextImage[] = [];
  for (const [index, label] of LABELS.entries()) {
    const width = random.int(1000, 1400);
    const fontSize = random.int(34, 48);
    const lineHeight = Math.round(fontSize * 1.7);
    const margin = Math.round(width * 0.08);
    const height = lineHeight * (label.lines.length + 1) + margin;
    const centred = index % 2 === 0;
    const text = label.lines
      .map((line, i) => {
        const y = margin / 2 + lineHeight * (i + 1);
        const weight = i === 0 ? 'bold' : 'normal';
        const x = centred ? width / 2 : margin;
        return `<text x="${x}" y="${y}" ${centred ? 'text-anchor="middle" ' : ''}font-family="${FONT}" font-weight="${weight}" font-size="${fontSize}" fill="${label.ink}">${escapeXml(line)}</text>`;
      })
      .join('');
    const frame = `<rect x="${margin / 4}" y="${margin / 4}" width="${width - margin / 2}" height="${height - margin / 2}" rx="24" fill="none" stroke="${label.ink}" stroke-width="4"/>`;
    const data = await sharp(svgDocument(width, height, label.paper, frame + text))
      .png()
      .toBuffer();
    images.push({
      id: `label-${pad(index + 1)}`,
      mode: 'label',
      data,
      text: label.lines.join('\n'),
      note: `${width}×${height}, ${fontSize} px, ${centred ? 'centred' : 'left-aligned'}`,
    });
  }

  for (const [index, receipt] of RECEIPTS.entries()) {
    const width = random.int(1000, 1200);
    const fontSize = random.int(30, 38);
    const lineHeight = Math.round(fontSize * 1.6);
    const margin = Math.round(width * 0.08);
    const rows: Array<{ left: string; right?: string; centred?: boolean; gapAfter?: boolean }> = [
      ...receipt.header.map((line, i) => ({
        left: line,
        centred: true,
        gapAfter: i === receipt.header.length - 1,
      })),
      ...receipt.items.map(([left, right], i) => ({ left, right, gapAfter: i === receipt.items.length - 1 })),
      ...receipt.footer.map(([left, right]) => ({ left, right })),
    ];
    let y = margin;
    const parts: string[] = [];
    for (const row of rows) {
      y += lineHeight;
      const attributes = `font-family="${FONT}" font-size="${fontSize}" fill="#151515"`;
      if (row.centred) {
        parts.push(
          `<text x="${width / 2}" y="${y}" text-anchor="middle" ${attributes}>${escapeXml(row.left)}</text>`,
        );
      } else {
        parts.push(`<text x="${margin}" y="${y}" ${attributes}>${escapeXml(row.left)}</text>`);
        if (row.right !== undefined) {
          parts.push(
            `<text x="${width - margin}" y="${y}" text-anchor="end" ${attributes}>${escapeXml(row.right)}</text>`,
          );
        }
      }
      if (row.gapAfter) y += Math.round(lineHeight * 0.5);
    }
    const height = y + margin;
    const paper = random.pick(['#ffffff', '#fbfaf5', '#f7f7f2']);
    const data = await sharp(svgDocument(width, height, paper, parts.join('')))
      .png()
      .toBuffer();
    images.push({
      id: `receipt-${pad(index + 1)}`,
      mode: 'document',
      data,
      // Reading order: each printed line left to right, the price after its item.
      text: rows.map((row) => (row.right === undefined ? row.left : `${row.left} ${row.right}`)).join('\n'),
      note: `${width}×${height}, ${fontSize} px, prices right-aligned`,
    });
  }
  return images;
}

// ---------------------------------------------------------------------------------------------------------------
// Moderation: contact details in product photos

/** Numbers in the ranges reserved for fiction (US 555-01xx, UK 020 7946 0xxx), addresses on example domains. */
const CONTACTS: readonly string[] = [
  'Call +1 212 555 0147',
  'WhatsApp +44 20 7946 0958',
  'www.cheapdeals-shop.com',
  'orders@example-store.com',
  'Tel (415) 555-0132',
  'Visit shop.example.net',
];

interface ModerationPhoto {
  id: string;
  data: Buffer;
  contact: string | null;
  note: string;
}

async function moderationPhotos(random: Random): Promise<ModerationPhoto[]> {
  const photos: ModerationPhoto[] = [];
  for (let i = 0; i < 12; i++) {
    const contact = i < CONTACTS.length ? CONTACTS[i] : null;
    const width = random.pick([1200, 1400]);
    const height = random.pick([1000, 1100]);
    const spec = randomProduct(random, { shape: SHAPES[i % SHAPES.length] });
    // Room under the product for a line of text.
    const box = placeProduct(random, spec, width, height * 0.78, random.float(0.8, 0.9));
    let extra = '';
    if (contact) {
      const size = Math.min(64, textFitting(contact, width * 0.85, 64));
      const ink = random.pick(['#111111', '#b01010', '#10306a']);
      extra = `<text x="${width / 2}" y="${Math.round(height * 0.91)}" text-anchor="middle" font-family="${FONT}" font-weight="bold" font-size="${size}" fill="${ink}">${escapeXml(contact)}</text>`;
    }
    const data = await pictureSharp(await renderPicture(width, height, '#ffffff', { spec, box }, extra))
      .jpeg(JPEG)
      .toBuffer();
    photos.push({
      id: contact ? `contact-${pad(i + 1)}` : `clean-product-${pad(i + 1 - CONTACTS.length)}`,
      data,
      contact,
      note: `${spec.palette.name} ${spec.shape}${contact ? `, "${contact}" under it` : ''}`,
    });
  }
  return photos;
}

// ---------------------------------------------------------------------------------------------------------------
// Writing the dataset

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

export interface GeneratorInfo {
  version: number;
  seed: number;
  items: number;
  counts: Record<string, number>;
}

/** Writes the dataset into `dir` (emptied first) and returns what generator.json says. */
export async function generateSynthetic(dir: string): Promise<GeneratorInfo> {
  const folder = resolve(dir);
  rmSync(join(folder, 'images'), { recursive: true, force: true });
  rmSync(join(folder, DATASET_FILE), { force: true });
  rmSync(join(folder, GENERATOR_FILE), { force: true });
  mkdirSync(join(folder, 'images'), { recursive: true });

  const random = new Random(SEED);
  const items: Array<DatasetItem & { note: string }> = [];
  const counts: Record<string, number> = {};
  const write = (name: string, data: Buffer) => {
    writeFileSync(join(folder, 'images', name), data);
    return `images/${name}`;
  };

  for (const photo of await listingPhotos(random)) {
    counts[`listing:${photo.defect}`] = (counts[`listing:${photo.defect}`] ?? 0) + 1;
    items.push({
      id: photo.id,
      image: write(`${photo.id}.jpg`, photo.data),
      tasks: ['tagging'],
      profile: PROFILE,
      expected: { compliance: photo.expected },
      note: photo.note,
    });
  }
  for (const image of await textImages(random)) {
    counts[`ocr:${image.mode}`] = (counts[`ocr:${image.mode}`] ?? 0) + 1;
    items.push({
      id: image.id,
      image: write(`${image.id}.png`, image.data),
      tasks: ['ocr'],
      ocrMode: image.mode,
      expected: { text: image.text },
      note: image.note,
    });
  }
  for (const photo of await moderationPhotos(random)) {
    const key = photo.contact ? 'moderation:contact_info' : 'moderation:clean';
    counts[key] = (counts[key] ?? 0) + 1;
    items.push({
      id: photo.id,
      image: write(`${photo.id}.jpg`, photo.data),
      tasks: ['moderation'],
      policy: 'default',
      // The default policy blocks text.contact_info at confidence ≥ 0.6; the text is printed large and clean.
      expected: photo.contact
        ? { decision: 'block', categories: ['text.contact_info'] }
        : { decision: 'allow', categories: [] },
      note: photo.note,
    });
  }

  // `note` says how each image was drawn; it is not part of the item schema, so it goes in a separate file.
  writeFileSync(
    join(folder, DATASET_FILE),
    items.map(({ note: _note, ...item }) => JSON.stringify(item)).join('\n') + '\n',
  );
  writeFileSync(
    join(folder, 'notes.json'),
    `${JSON.stringify(Object.fromEntries(items.map((item) => [item.id, item.note])), null, 2)}\n`,
  );
  const info: GeneratorInfo = { version: GENERATOR_VERSION, seed: SEED, items: items.length, counts };
  writeFileSync(join(folder, GENERATOR_FILE), `${JSON.stringify(info, null, 2)}\n`);
  return info;
}

/** The version a folder was generated with, or undefined when it has no (readable) generator.json. */
export function generatedVersion(dir: string): number | undefined {
  const file = join(dir, GENERATOR_FILE);
  if (!existsSync(file) || !existsSync(join(dir, DATASET_FILE))) return undefined;
  try {
    const info = JSON.parse(readFileSync(file, 'utf8')) as Partial<GeneratorInfo>;
    return typeof info.version === 'number' ? info.version : undefined;
  } catch {
    return undefined;
  }
}

/** Generates into `dir` unless it already holds this generator version's output. */
export async function ensureSynthetic(
  dir: string = DEFAULT_SYNTHETIC_DIR,
): Promise<{ dir: string; generated: boolean }> {
  if (generatedVersion(dir) === GENERATOR_VERSION) return { dir, generated: false };
  await generateSynthetic(dir);
  return { dir, generated: true };
}

if (require.main === module) {
  // `npm run` moves to the package root; a relative DIR is relative to where the user ran it (INIT_CWD).
  const dir = resolve(process.env.INIT_CWD ?? process.cwd(), process.argv[2] ?? DEFAULT_SYNTHETIC_DIR);
  const started = performance.now();
  generateSynthetic(dir)
    .then((info) => {
      process.stdout.write(
        `wrote ${info.items} items (generator v${info.version}) to ${dir} in ${Math.round(performance.now() - started)} ms\n` +
          Object.entries(info.counts)
            .map(([kind, n]) => `  ${kind.padEnd(28)} ${n}\n`)
            .join(''),
      );
    })
    .catch((error: unknown) => {
      process.stderr.write(
        `generation failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
      process.exit(1);
    });
}
