// Test images are generated, never committed: a textured "photo" that compresses like a real one, and its
// truncated twin for the decode-failure path.
import sharp from 'sharp';

export async function photoJpeg(width = 3000, height = 2000): Promise<Buffer> {
  const tile = 64;
  const noise = Buffer.alloc(tile * tile * 3);
  for (let i = 0; i < noise.length; i += 1) noise[i] = (i * 7919) % 251;
  const texture = await sharp(noise, { raw: { width: tile, height: tile, channels: 3 } })
    .png()
    .toBuffer();
  return sharp({ create: { width, height, channels: 3, background: { r: 200, g: 120, b: 60 } } })
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
