import { ImageProcessor } from '@argus/imaging';
import sharp from 'sharp';
import { NSFW_INPUT_SIZE, NsfwClassifier, type NsfwScores } from './nsfw-classifier';

jest.setTimeout(60_000);

const processor = new ImageProcessor();

/** A packshot: a shaded shoe box with a label and a soft shadow, on white. */
async function shoeBoxPhoto(): Promise<Buffer> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="800" height="600">
    <defs>
      <linearGradient id="lid" x1="0" y1="0" x2="0" y2="1">
        <stop offset="0" stop-color="#e07a2e"/><stop offset="1" stop-color="#b5541a"/></linearGradient>
      <linearGradient id="side" x1="0" y1="0" x2="1" y2="0">
        <stop offset="0" stop-color="#c9621f"/><stop offset="1" stop-color="#8f3f12"/></linearGradient>
      <radialGradient id="shadow">
        <stop offset="0" stop-color="#000" stop-opacity="0.35"/><stop offset="1" stop-color="#000" stop-opacity="0"/>
      </radialGradient>
    </defs>
    <rect width="800" height="600" fill="#ffffff"/>
    <ellipse cx="400" cy="470" rx="300" ry="40" fill="url(#shadow)"/>
    <rect x="150" y="240" width="500" height="220" rx="18" fill="url(#side)"/>
    <rect x="130" y="200" width="540" height="70" rx="14" fill="url(#lid)"/>
    <rect x="330" y="320" width="140" height="60" rx="6" fill="#ffffff" opacity="0.85"/>
    <text x="400" y="358" font-family="DejaVu Sans" font-size="22" text-anchor="middle" fill="#333">SIZE 42</text>
  </svg>`;
  return sharp(Buffer.from(svg)).jpeg().toBuffer();
}

const flagged = (scores: NsfwScores) => scores.porn + scores.hentai + scores.sexy;

describe('NsfwClassifier', () => {
  const classifier = new NsfwClassifier();

  beforeAll(async () => {
    expect(classifier.ready).toBe(false);
    await classifier.warm();
  });

  afterAll(async () => {
    await classifier.close();
  });

  it('is ready after warm()', () => {
    expect(classifier.ready).toBe(true);
  });

  it('does not flag a plain product photo', async () => {
    const rgb = await processor.toRawRgb(await shoeBoxPhoto(), NSFW_INPUT_SIZE);
    const scores = await classifier.classify(rgb);
    expect(flagged(scores)).toBeLessThan(0.3);
    expect(scores.neutral + scores.drawing).toBeGreaterThan(0.7);
    const total = scores.drawing + scores.hentai + scores.neutral + scores.porn + scores.sexy;
    expect(total).toBeCloseTo(1, 3);
  });

  it('gives the same scores for the same pixels', async () => {
    const rgb = await processor.toRawRgb(await shoeBoxPhoto(), NSFW_INPUT_SIZE);
    expect(await classifier.classify(rgb)).toEqual(await classifier.classify(rgb));
  });

  it('accepts other input sizes', async () => {
    const rgb = await processor.toRawRgb(await shoeBoxPhoto(), 96);
    expect(flagged(await classifier.classify(rgb))).toBeLessThan(0.3);
  });

  it('rejects pixels that do not match the stated size', async () => {
    const data = Buffer.alloc(10 * 10 * 3 - 1);
    await expect(classifier.classify({ data, width: 10, height: 10 })).rejects.toThrow(RangeError);
    await expect(classifier.classify({ data: Buffer.alloc(0), width: 0, height: 0 })).rejects.toThrow(
      RangeError,
    );
  });

  it('shares one load between concurrent callers and loads again after close()', async () => {
    const other = new NsfwClassifier();
    try {
      const rgb = await processor.toRawRgb(await shoeBoxPhoto(), NSFW_INPUT_SIZE);
      const [, , scores] = await Promise.all([other.warm(), other.warm(), other.classify(rgb)]);
      expect(other.ready).toBe(true);
      expect(scores).toEqual(await classifier.classify(rgb));

      await other.close();
      expect(other.ready).toBe(false);
      expect(await other.classify(rgb)).toEqual(scores);
      expect(other.ready).toBe(true);
    } finally {
      await other.close();
    }
  });
});
