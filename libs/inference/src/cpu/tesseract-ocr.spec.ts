import { ImageProcessor } from '@argus/imaging';
import sharp from 'sharp';
import type { Page } from 'tesseract.js';
import { TesseractOcr, toOcrPage, type OcrPage, type PageSegmentation } from './tesseract-ocr';

jest.setTimeout(60_000);

const processor = new ImageProcessor();

const escapeXml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;');

function text(x: number, y: number, size: number, content: string, attributes = 'fill="#222"'): string {
  return `<text x="${x}" y="${y}" font-family="DejaVu Sans" font-size="${size}" ${attributes}>${escapeXml(content)}</text>`;
}

function render(width: number, height: number, body: string, background = '#ffffff'): Promise<Buffer> {
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">` +
    `<rect width="100%" height="100%" fill="${background}"/>${body}</svg>`;
  return sharp(Buffer.from(svg)).png().toBuffer();
}

const labels = {
  oatMilk: () =>
    render(
      640,
      300,
      `<rect x="10" y="10" width="620" height="280" rx="16" fill="#f6f1e4" stroke="#2b5d34" stroke-width="4"/>` +
        text(40, 90, 44, 'ORGANIC OAT MILK', 'font-weight="bold" fill="#2b5d34"') +
        text(40, 170, 28, 'Best before 2027-03-14') +
        text(40, 230, 28, 'Lot 4471'),
    ),
  priceTag: () => render(360, 160, text(40, 105, 64, '€ 12.99', 'font-weight="bold" fill="#111"'), '#ffe14d'),
  /** White on red: the preprocessing has to notice the text is lighter than its background. */
  invertedPriceTag: () =>
    render(360, 160, text(40, 105, 64, '€ 12.99', 'font-weight="bold" fill="#ffffff"'), '#b3121f'),
  /** 12 px type: tesseract misreads it at its original size and reads it exactly after the ×2 upscale. */
  ingredients: () =>
    render(480, 36, text(6, 24, 12, 'Ingredients: water, oats 10%, sunflower oil, sea salt.', 'fill="#333"')),
};

const PARAGRAPH = [
  'The quick brown fox jumps over the lazy dog while',
  'seven wizards quietly judge the boxing match from',
  'a distance. Every morning the baker delivers fresh',
  'bread to the market square before sunrise.',
];

/** A page photographed under a lamp on the right: the left side falls to 1/8 of the light, and focus is soft. */
async function photographedPage(): Promise<Buffer> {
  const page = await render(1000, 320, PARAGRAPH.map((line, i) => text(40, 60 + i * 39, 26, line)).join(''));
  const light = await render(
    1000,
    320,
    '<defs><linearGradient id="g"><stop offset="0" stop-color="#202020"/>' +
      '<stop offset="1" stop-color="#ffffff"/></linearGradient></defs><rect width="1000" height="320" fill="url(#g)"/>',
  );
  return sharp(page)
    .composite([{ input: light, blend: 'multiply' }])
    .blur(1.2)
    .png()
    .toBuffer();
}

const lineTexts = (page: OcrPage) => page.lines.map((line) => line.text);

describe('TesseractOcr', () => {
  const ocr = new TesseractOcr();

  beforeAll(async () => {
    expect(ocr.ready).toBe(false);
    await ocr.warm();
    expect(ocr.ready).toBe(true);
  });

  afterAll(async () => {
    await ocr.close();
  });

  async function read(image: Buffer) {
    const prepared = await processor.prepareForOcr(image);
    return { prepared, page: await ocr.recognize(prepared.data) };
  }

  it('reads a product label line by line, exactly', async () => {
    const { prepared, page } = await read(await labels.oatMilk());
    expect(lineTexts(page)).toEqual(['ORGANIC OAT MILK', 'Best before 2027-03-14', 'Lot 4471']);
    expect(page.text).toBe('ORGANIC OAT MILK\nBest before 2027-03-14\nLot 4471');
    expect(page.words.map((word) => word.text)).toEqual([
      'ORGANIC',
      'OAT',
      'MILK',
      'Best',
      'before',
      '2027-03-14',
      'Lot',
      '4471',
    ]);
    expect(page.confidence).toBeGreaterThan(0.85);
    for (const line of page.lines) {
      for (const box of [line.box, ...line.words.map((word) => word.box)]) {
        expect(box.x).toBeGreaterThanOrEqual(0);
        expect(box.y).toBeGreaterThanOrEqual(0);
        expect(box.width).toBeGreaterThan(0);
        expect(box.height).toBeGreaterThan(0);
        expect(box.x + box.width).toBeLessThanOrEqual(prepared.width);
        expect(box.y + box.height).toBeLessThanOrEqual(prepared.height);
      }
      for (const word of line.words) expect(word.confidence).toBeGreaterThan(0.85);
    }
  });

  it('puts boxes where the words are', async () => {
    const { prepared, page } = await read(await labels.oatMilk());
    const [title, bestBefore, lot] = page.lines;
    expect(title.box.y).toBeLessThan(bestBefore.box.y);
    expect(bestBefore.box.y).toBeLessThan(lot.box.y);
    // "Lot 4471" is drawn with its baseline at y = 230 and 28 px type, so its box maps back to about 205–231.
    const top = lot.box.y / prepared.scale;
    const bottom = (lot.box.y + lot.box.height) / prepared.scale;
    expect(top).toBeGreaterThan(195);
    expect(bottom).toBeLessThan(240);
    expect(lot.box.x / prepared.scale).toBeCloseTo(40, -1);
  });

  it('reads a price tag with the euro sign', async () => {
    const { page } = await read(await labels.priceTag());
    expect(lineTexts(page)).toEqual(['€ 12.99']);
    for (const word of page.words) expect(word.confidence).toBeGreaterThan(0.85);
  });

  it('reads white text on a red price tag', async () => {
    const { page } = await read(await labels.invertedPriceTag());
    expect(lineTexts(page)).toEqual(['€ 12.99']);
  });

  it('reads small print exactly once it is upscaled', async () => {
    const image = await labels.ingredients();
    const { prepared, page } = await read(image);
    expect(prepared.scale).toBe(2);
    expect(lineTexts(page)).toEqual(['Ingredients: water, oats 10%, sunflower oil, sea salt.']);
    for (const word of page.words) expect(word.confidence).toBeGreaterThan(0.85);

    const raw = await ocr.recognize(image);
    expect(lineTexts(raw)).not.toEqual(lineTexts(page));
  });

  it('reads a photographed page with uneven light, which it cannot read unprocessed', async () => {
    const image = await photographedPage();
    const { page } = await read(image);
    expect(lineTexts(page)).toEqual(PARAGRAPH);

    const expectedWords = PARAGRAPH.join(' ').split(' ');
    const raw = await ocr.recognize(image);
    const rawWords = new Set(raw.words.map((word) => word.text));
    const found = expectedWords.filter((word) => rawWords.has(word)).length;
    expect(found).toBeLessThan(expectedWords.length / 2);
  });

  it('queues concurrent calls and answers each with its own image', async () => {
    const images = await Promise.all([labels.priceTag(), labels.oatMilk(), labels.ingredients()]);
    const prepared = await Promise.all(images.map((image) => processor.prepareForOcr(image)));
    const pages = await Promise.all(prepared.map((image) => ocr.recognize(image.data)));
    expect(pages.map((page) => page.lines[0]?.text)).toEqual([
      '€ 12.99',
      'ORGANIC OAT MILK',
      'Ingredients: water, oats 10%, sunflower oil, sea salt.',
    ]);
  });

  it('finds no lines on a blank image', async () => {
    const { page } = await read(await render(300, 200, ''));
    expect(page.lines).toEqual([]);
    expect(page.words).toEqual([]);
    expect(page.text).toBe('');
  });

  it('starts a new worker after close()', async () => {
    const other = new TesseractOcr();
    try {
      const { data } = await processor.prepareForOcr(await labels.priceTag());
      expect(lineTexts(await other.recognize(data))).toEqual(['€ 12.99']);
      await other.close();
      expect(other.ready).toBe(false);
      expect(lineTexts(await other.recognize(data))).toEqual(['€ 12.99']);
    } finally {
      await other.close();
    }
  });
});

describe('TesseractOcr page segmentation', () => {
  const ocr = new TesseractOcr();

  afterAll(async () => {
    await ocr.close();
  });

  const receipt = () =>
    render(
      1000,
      400,
      text(380, 70, 34, 'CORNER MARKET') +
        [
          ['Milk 1L', '1.29'],
          ['Bread', '2.10'],
          ['Apples 1kg', '3.45'],
          ['TOTAL', '6.84'],
        ]
          .map(
            ([item, price], i) =>
              text(80, 150 + i * 56, 34, item) +
              text(920, 150 + i * 56, 34, price, 'fill="#222" text-anchor="end"'),
          )
          .join(''),
    );
  const RECEIPT_ROWS = ['CORNER MARKET', 'Milk 1L 1.29', 'Bread 2.10', 'Apples 1kg 3.45', 'TOTAL 6.84'];

  async function lines(image: Buffer, segmentation?: PageSegmentation) {
    const prepared = await processor.prepareForOcr(image);
    return lineTexts(await ocr.recognize(prepared.data, undefined, segmentation));
  }

  it('reads a receipt row by row by default (a single block), where automatic segmentation splits off the prices', async () => {
    const image = await receipt();
    expect(await lines(image)).toEqual(RECEIPT_ROWS);
    expect(await lines(image, 'single_block')).toEqual(RECEIPT_ROWS);
    const auto = await lines(image, 'auto');
    expect(auto).toContain('Milk 1L');
    expect(auto).toContain('1.29');
  });

  it('sets the mode per call: a call after a sparse read is back to the default', async () => {
    const image = await receipt();
    const sparse = await lines(image, 'sparse');
    expect(sparse).toContain('1.29');
    expect(await lines(image)).toEqual(RECEIPT_ROWS);
  });

  it('keeps a big title above smaller lines as a single column, which a single block drops', async () => {
    const label = await render(
      900,
      300,
      text(40, 100, 84, 'LEMONADE', 'font-weight="bold"') +
        text(40, 170, 30, 'Sparkling, no added sugar') +
        text(40, 230, 22, 'Once opened drink within 3 days.') +
        text(40, 280, 30, '330 ml', 'font-weight="bold"'),
    );
    const body = ['Sparkling, no added sugar', 'Once opened drink within 3 days.', '330 ml'];
    expect(await lines(label, 'single_column')).toEqual(['LEMONADE', ...body]);
    expect(await lines(label, 'single_block')).toEqual(body);
  });

  it('finds words scattered around a product with sparse segmentation', async () => {
    const photo = await render(
      1400,
      1000,
      '<rect x="420" y="80" width="560" height="840" rx="40" fill="#b3121f"/>' +
        text(90, 300, 110, 'HOT', 'font-weight="bold" fill="#1060c0"') +
        text(1010, 760, 110, 'DEAL', 'font-weight="bold" fill="#1060c0"'),
    );
    const sparse = await lines(photo, 'sparse');
    expect(sparse).toEqual(expect.arrayContaining(['HOT', 'DEAL']));
  });
});

describe('toOcrPage', () => {
  const bbox = (x0: number, y0: number, x1: number, y1: number) => ({ x0, y0, x1, y1 });
  const word = (text: string, confidence: number, box = bbox(0, 0, 10, 10)) => ({
    text,
    confidence,
    bbox: box,
  });

  it('trims, drops empty lines and words, and scales confidence to 0–1', () => {
    const page = {
      text: '  Hello world\n\n \n',
      confidence: 91,
      blocks: [
        {
          paragraphs: [
            {
              lines: [
                {
                  text: 'Hello world\n',
                  confidence: 90,
                  bbox: bbox(5, 6, 105, 26),
                  words: [
                    word('Hello', 95, bbox(5, 6, 50, 26)),
                    word(' ', 10),
                    word('world', 85, bbox(60, 6, 105, 26)),
                  ],
                },
                { text: ' \n', confidence: 0, bbox: bbox(0, 0, 0, 0), words: [word(' ', 0)] },
              ],
            },
          ],
        },
      ],
    } as unknown as Page;

    expect(toOcrPage(page)).toEqual({
      text: 'Hello world',
      confidence: 0.91,
      lines: [
        {
          text: 'Hello world',
          confidence: 0.9,
          box: { x: 5, y: 6, width: 100, height: 20 },
          words: [
            { text: 'Hello', confidence: 0.95, box: { x: 5, y: 6, width: 45, height: 20 } },
            { text: 'world', confidence: 0.85, box: { x: 60, y: 6, width: 45, height: 20 } },
          ],
        },
      ],
      words: [
        { text: 'Hello', confidence: 0.95, box: { x: 5, y: 6, width: 45, height: 20 } },
        { text: 'world', confidence: 0.85, box: { x: 60, y: 6, width: 45, height: 20 } },
      ],
    });
  });

  it('copes with a page without blocks', () => {
    expect(toOcrPage({ text: '', confidence: 0, blocks: null } as unknown as Page)).toEqual({
      text: '',
      confidence: 0,
      lines: [],
      words: [],
    });
  });
});

describe('TesseractOcr time budget', () => {
  const ocr = new TesseractOcr();

  afterAll(async () => {
    await ocr.close();
  });

  it('gives up on a busy image at the budget, then reads the next image with a fresh worker', async () => {
    const noise = Buffer.alloc(1400 * 1000 * 3);
    for (let i = 0; i < noise.length; i += 1) noise[i] = (i * 2654435761) % 256;
    const busy = await sharp(noise, { raw: { width: 1400, height: 1000, channels: 3 } })
      .png()
      .toBuffer();
    const started = Date.now();
    await expect(ocr.recognize(busy, 200)).rejects.toMatchObject({ code: 'INFERENCE_TIMEOUT' });
    expect(Date.now() - started).toBeLessThan(5_000);
    const label = await sharp(
      Buffer.from(
        '<svg xmlns="http://www.w3.org/2000/svg" width="600" height="120"><rect width="100%" height="100%" fill="#fff"/>' +
          '<text x="20" y="80" font-family="DejaVu Sans" font-size="48" fill="#111">LOT 4471</text></svg>',
      ),
    )
      .png()
      .toBuffer();
    expect((await ocr.recognize(label, 10_000)).text).toBe('LOT 4471');
  }, 60_000);
});
