// Test images are generated, never committed: a textured "photo" that compresses like a real one, and its
// truncated twin for the decode-failure path.
import sharp from 'sharp';

let variant = 0;

/** A photo no other call has returned: a different background, so a different sha256 and no cache hit. */
export function uniquePhotoJpeg(width = 1600, height = 1200): Promise<Buffer> {
  variant += 1;
  // The blue step moves on after every 256 variants, so 65,536 calls give distinct images, not 256 over again.
  const b = (variant * 91 + Math.floor(variant / 256) * 17) % 256;
  return photoJpeg(width, height, { r: 200, g: (variant * 37) % 256, b });
}

export async function photoJpeg(
  width = 3000,
  height = 2000,
  background: { r: number; g: number; b: number } = { r: 200, g: 120, b: 60 },
): Promise<Buffer> {
  const tile = 64;
  const noise = Buffer.alloc(tile * tile * 3);
  for (let i = 0; i < noise.length; i += 1) noise[i] = (i * 7919) % 251;
  const texture = await sharp(noise, { raw: { width: tile, height: tile, channels: 3 } })
    .png()
    .toBuffer();
  return sharp({ create: { width, height, channels: 3, background } })
    .composite([{ input: texture, tile: true, blend: 'overlay' }])
    .jpeg({ quality: 85 })
    .toBuffer();
}

export async function truncatedJpeg(): Promise<Buffer> {
  const whole = await photoJpeg(800, 600);
  return whole.subarray(0, Math.floor(whole.length / 3));
}

export function multipartBody(
  image: Buffer,
  fields: Record<string, string> = {},
  filename = 'photo.jpg',
): FormData {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  form.append('image', new Blob([new Uint8Array(image)], { type: 'image/jpeg' }), filename);
  return form;
}

/** A product label rendered with a real font: for OCR tests that need exact words. */
export async function labelPng(
  lines: string[],
  options: { fontSize?: number; width?: number } = {},
): Promise<Buffer> {
  const fontSize = options.fontSize ?? 48;
  const width = options.width ?? 1000;
  const lineHeight = Math.round(fontSize * 1.6);
  const height = lineHeight * (lines.length + 1);
  const text = lines
    .map(
      (line, index) =>
        `<text x="40" y="${lineHeight * (index + 1)}" font-family="DejaVu Sans" font-size="${fontSize}" fill="#111">${escapeXml(line)}</text>`,
    )
    .join('');
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><rect width="100%" height="100%" fill="#fdfdf8"/>${text}</svg>`;
  return sharp(Buffer.from(svg)).png().toBuffer();
}

function escapeXml(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** A product shot on pure white: a shaded, textured "box" covering `fill` of the frame's side. */
export async function packshotJpeg(fill = 0.9, side = 1200, overlay?: string): Promise<Buffer> {
  const product = Math.round(side * fill);
  const offset = Math.round((side - product) / 2);
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${side}" height="${side}"><rect width="100%" height="100%" fill="#fff"/>` +
    `<defs><linearGradient id="g" x1="0" x2="1" y1="0" y2="1"><stop offset="0" stop-color="#2a4d8f"/><stop offset="1" stop-color="#10203f"/></linearGradient></defs>` +
    `<rect x="${offset}" y="${offset}" width="${product}" height="${product}" rx="${Math.round(product / 12)}" fill="url(#g)"/>` +
    `<text x="${offset + product / 8}" y="${offset + product / 2}" font-family="DejaVu Sans" font-size="${Math.round(product / 10)}" fill="#e8e8e8">ACME</text>` +
    (overlay
      ? `<text x="${side * 0.55}" y="${Math.max(40, offset * 0.7)}" font-family="DejaVu Sans" font-size="${Math.round(side / 30)}" fill="#d01010">${overlay}</text>`
      : '') +
    '</svg>';
  return sharp(Buffer.from(svg)).jpeg({ quality: 92 }).toBuffer();
}
