/** A colour in CIELAB (D65): L* 0–100, a* green→red, b* blue→yellow. */
export interface Lab {
  l: number;
  a: number;
  b: number;
}

export interface Rgb {
  r: number;
  g: number;
  b: number;
}

/**
 * Words shoppers and listing forms use, each anchored at a typical product shade rather than only the CSS keyword
 * (CSS navy #000080 looks nothing like a navy jacket). A name may have a second anchor where ΔE76, which is least
 * faithful among saturated blues, would otherwise call a pure primary by a neighbour's name. Distances are
 * measured in CIELAB so "nearest" matches what people see, not RGB arithmetic.
 */
export const COLOUR_PALETTE: ReadonlyArray<{ name: string; hex: string }> = [
  { name: 'black', hex: '#111111' },
  { name: 'charcoal', hex: '#3b3d40' },
  { name: 'grey', hex: '#808080' },
  { name: 'silver', hex: '#c0c0c0' },
  { name: 'white', hex: '#ffffff' },
  { name: 'cream', hex: '#f6eed6' },
  { name: 'beige', hex: '#dcc7a1' },
  { name: 'tan', hex: '#c19a6b' },
  { name: 'khaki', hex: '#a89a6e' },
  { name: 'brown', hex: '#6b4423' },
  { name: 'maroon', hex: '#7a1f2b' },
  { name: 'red', hex: '#d22b2b' },
  { name: 'coral', hex: '#f27f63' },
  { name: 'orange', hex: '#f07c1a' },
  { name: 'gold', hex: '#d4af37' },
  { name: 'yellow', hex: '#f5d516' },
  { name: 'olive', hex: '#6b6e2a' },
  { name: 'green', hex: '#2e8b3a' },
  { name: 'dark green', hex: '#1f4d2b' },
  { name: 'lime', hex: '#a4d233' },
  { name: 'mint', hex: '#a8e6cf' },
  { name: 'teal', hex: '#00807f' },
  { name: 'turquoise', hex: '#40e0d0' },
  { name: 'sky blue', hex: '#87ceeb' },
  { name: 'denim', hex: '#3b5b8c' },
  { name: 'blue', hex: '#1f5fbf' },
  { name: 'blue', hex: '#0000ff' },
  { name: 'navy', hex: '#1c2a4d' },
  { name: 'navy', hex: '#000080' },
  { name: 'purple', hex: '#6a2c91' },
  { name: 'purple', hex: '#800080' },
  { name: 'lavender', hex: '#b9a3dc' },
  { name: 'magenta', hex: '#d0208a' },
  { name: 'pink', hex: '#f4a7c1' },
];

export function hexToRgb(hex: string): Rgb {
  const match = /^#?([0-9a-f]{6})$/i.exec(hex);
  if (!match) throw new Error(`not a #rrggbb colour: ${hex}`);
  const value = Number.parseInt(match[1], 16);
  return { r: (value >> 16) & 0xff, g: (value >> 8) & 0xff, b: value & 0xff };
}

export function rgbToHex({ r, g, b }: Rgb): string {
  const byte = (v: number) =>
    Math.max(0, Math.min(255, Math.round(v)))
      .toString(16)
      .padStart(2, '0');
  return `#${byte(r)}${byte(g)}${byte(b)}`;
}

function srgbToLinear(channel: number): number {
  const c = channel / 255;
  return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
}

// D65 reference white, matching sRGB's own white point so #ffffff lands exactly on L*=100, a*=b*=0.
const WHITE = { x: 0.95047, y: 1, z: 1.08883 };
const EPSILON = 216 / 24389;
const KAPPA = 24389 / 27;

function labCurve(t: number): number {
  return t > EPSILON ? Math.cbrt(t) : (KAPPA * t + 16) / 116;
}

export function rgbToLab({ r, g, b }: Rgb): Lab {
  const lr = srgbToLinear(r);
  const lg = srgbToLinear(g);
  const lb = srgbToLinear(b);
  const x = (0.4124564 * lr + 0.3575761 * lg + 0.1804375 * lb) / WHITE.x;
  const y = (0.2126729 * lr + 0.7151522 * lg + 0.072175 * lb) / WHITE.y;
  const z = (0.0193339 * lr + 0.119192 * lg + 0.9503041 * lb) / WHITE.z;
  const fx = labCurve(x);
  const fy = labCurve(y);
  const fz = labCurve(z);
  return { l: 116 * fy - 16, a: 500 * (fx - fy), b: 200 * (fy - fz) };
}

/** CIE76 ΔE: plain Euclidean distance in Lab; about 2.3 is a just-noticeable difference. */
export function deltaE(p: Lab, q: Lab): number {
  return Math.hypot(p.l - q.l, p.a - q.a, p.b - q.b);
}

const PALETTE_LAB = COLOUR_PALETTE.map((entry) => ({ name: entry.name, lab: rgbToLab(hexToRgb(entry.hex)) }));

/** The palette word closest to a colour; ties go to the earlier palette entry so the answer never flips. */
export function nearestColourName(colour: Lab | Rgb): string {
  const lab = 'l' in colour ? colour : rgbToLab(colour);
  let best = PALETTE_LAB[0];
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const entry of PALETTE_LAB) {
    const distance = deltaE(lab, entry.lab);
    if (distance < bestDistance) {
      best = entry;
      bestDistance = distance;
    }
  }
  return best.name;
}
