/**
 * @jest-environment ./test/support/onnx-test-environment.ts
 */
import { readFileSync } from 'node:fs';
import { ImageProcessor } from '@argus/imaging';
import sharp from 'sharp';
import {
  chooseOrientation,
  ctcCharset,
  decodeCtc,
  detectionSize,
  extractTextRegions,
  fromUpright,
  groupIntoLines,
  inkColumns,
  minAreaRect,
  PaddleOcr,
  paddleModelFiles,
  pageSkew,
  readingQuad,
  toUpright,
  verticalShare,
  wordsFromCharacters,
  type DecodedCharacter,
  type DetectedRegion,
  type PageAngle,
  type Quad,
} from './paddle-ocr';

jest.setTimeout(60_000);

describe('CTC decoding', () => {
  const charset = ['', 'a', 'b', 'c', ' '];
  /** One row per time step: the winning class gets `p`, the rest share what is left. */
  function probabilities(winners: Array<[number, number]>): Float32Array {
    const out = new Float32Array(winners.length * charset.length);
    winners.forEach(([winner, p], step) => {
      for (let index = 0; index < charset.length; index += 1)
        out[step * charset.length + index] = index === winner ? p : (1 - p) / (charset.length - 1);
    });
    return out;
  }

  it('merges repeats, drops blanks, keeps a letter repeated across a blank, and records the time steps', () => {
    const decoded = decodeCtc(
      probabilities([
        [1, 0.9],
        [1, 0.95],
        [0, 0.9],
        [1, 0.8],
        [2, 0.7],
        [0, 0.9],
        [4, 0.9],
        [3, 0.6],
      ]),
      8,
      charset.length,
      charset,
    );
    expect(decoded.map((character) => character.text).join('')).toBe('aab c');
    expect(decoded[0]).toMatchObject({ firstStep: 0, lastStep: 1 });
    expect(decoded[0].confidence).toBeCloseTo(0.95, 5);
    expect(decoded[1]).toMatchObject({ firstStep: 3, lastStep: 3 });
    expect(decoded.at(-1)).toMatchObject({ text: 'c', firstStep: 7 });
  });

  it("builds the recogniser's 6625 classes from the shipped dictionary: blank, 6623 characters, space", () => {
    const charsetOfModel = ctcCharset(readFileSync(paddleModelFiles().dictionary, 'utf8'));
    expect(charsetOfModel).toHaveLength(6625);
    expect(charsetOfModel[0]).toBe('');
    expect(charsetOfModel.at(-1)).toBe(' ');
  });
});

describe('word spacing', () => {
  const at = (text: string, step: number): DecodedCharacter => ({
    text,
    confidence: 0.9,
    firstStep: step,
    lastStep: step,
  });
  /** Ink columns at 8 px per step: ink everywhere except the listed blank ranges. */
  function ink(width: number, blanks: Array<[number, number]>): Uint8Array {
    const columns = new Uint8Array(width).fill(1);
    for (const [from, to] of blanks) columns.fill(0, from, to);
    return columns;
  }

  it('splits merged words where the line image has a wide blank gap between two characters', () => {
    // "ABCDEF": CTC peaks 32 px apart (centres 4, 36, 68, then 124, 156, 188) with 3 px letter gaps between them;
    // a 24 px gap between C and D is a space the network dropped.
    const characters = ['A', 'B', 'C', 'D', 'E', 'F'].map((letter, index) =>
      at(letter, index * 4 + (index > 2 ? 3 : 0)),
    );
    const columns = ink(240, [
      [16, 19],
      [48, 51],
      [84, 108],
      [136, 139],
      [168, 171],
    ]);
    const words = wordsFromCharacters(characters, columns, 8, 48);
    expect(words.map((word) => word.text)).toEqual(['ABC', 'DEF']);
    expect(words[1]).toMatchObject({ firstStep: 15, lastStep: 23 });
  });

  it('keeps letter gaps inside a word, and keeps the spaces the network emitted', () => {
    const characters = [at('a', 0), at('b', 4), at(' ', 6), at('c', 8), at('d', 12)];
    const columns = ink(120, [
      [12, 18],
      [76, 82],
    ]);
    expect(wordsFromCharacters(characters, columns).map((word) => word.text)).toEqual(['ab', 'cd']);
    expect(
      wordsFromCharacters([at('a', 0), at('b', 4), at('c', 8)], columns).map((word) => word.text),
    ).toEqual(['abc']);
  });

  it('never splits Chinese characters, and without ink columns trusts only the network', () => {
    const han = [at('中', 0), at('文', 8)];
    expect(wordsFromCharacters(han, ink(100, [[10, 60]])).map((word) => word.text)).toEqual(['中文']);
    expect(wordsFromCharacters([at('a', 0), at('b', 8)]).map((word) => word.text)).toEqual(['ab']);
  });

  it('finds blank columns in a rendered line, dark or light ink, and gives up on a flat patch', () => {
    const width = 60;
    const height = 20;
    const line = (ink: number, paper: number) => {
      const rgb = new Uint8Array(width * height * 3).fill(paper);
      for (let y = 4; y < 16; y += 1)
        for (const x of [...Array(15).keys(), ...Array.from({ length: 15 }, (_, i) => 40 + i)])
          rgb.fill(ink, (y * width + x) * 3, (y * width + x) * 3 + 3);
      return rgb;
    };
    for (const rgb of [line(20, 240), line(250, 30)]) {
      const columns = inkColumns(rgb, width, height);
      expect(columns?.[5]).toBe(1);
      expect(columns?.[25]).toBe(0);
      expect(columns?.[45]).toBe(1);
    }
    expect(inkColumns(new Uint8Array(width * height * 3).fill(128), width, height)).toBeUndefined();
  });
});

describe('DB post-processing', () => {
  function probabilityMap(
    width: number,
    height: number,
    paint: (x: number, y: number) => number,
  ): Float32Array {
    const map = new Float32Array(width * height);
    for (let y = 0; y < height; y += 1) for (let x = 0; x < width; x += 1) map[y * width + x] = paint(x, y);
    return map;
  }

  it('turns confident blobs into grown rectangles and drops weak, tiny and thin ones', () => {
    const map = probabilityMap(120, 80, (x, y) => {
      if (x >= 10 && x < 70 && y >= 10 && y < 20) return 0.9; // a text line, 60×10
      if (x >= 80 && x < 110 && y >= 10 && y < 30) return 0.45; // above the pixel threshold, under box_thresh
      if (x >= 10 && x < 12 && y >= 50 && y < 52) return 0.95; // a 2 px speck
      if (x >= 20 && x < 100 && y === 60) return 0.95; // a one-pixel rule
      return 0.05;
    });
    const regions = extractTextRegions(map, 120, 80);
    expect(regions).toHaveLength(1);
    const [line] = regions;
    expect(line.center.x).toBeCloseTo(39.5, 0);
    expect(line.center.y).toBeCloseTo(14.5, 0);
    const long = Math.max(line.sideU, line.sideV);
    const short = Math.min(line.sideU, line.sideV);
    // Pixel centres span 59×9; unclip adds area × 1.5 / perimeter = 531 × 1.5 / 136 ≈ 5.9 on each side.
    expect(long).toBeCloseTo(59 + 2 * 5.86, 0);
    expect(short).toBeCloseTo(9 + 2 * 5.86, 0);
    expect(line.score).toBeCloseTo(0.9, 2);
  });

  it('finds the rotation of a slanted line with the minimum-area rectangle', () => {
    const angle = (20 * Math.PI) / 180;
    const points = [];
    for (let u = 0; u <= 100; u += 2)
      for (let v = 0; v <= 10; v += 2)
        points.push({
          x: u * Math.cos(angle) - v * Math.sin(angle),
          y: u * Math.sin(angle) + v * Math.cos(angle),
        });
    const rect = minAreaRect(points);
    expect(Math.max(rect.sideU, rect.sideV)).toBeCloseTo(100, 0);
    expect(Math.min(rect.sideU, rect.sideV)).toBeCloseTo(10, 0);
    const long = rect.sideU >= rect.sideV ? rect.axis : { x: -rect.axis.y, y: rect.axis.x };
    expect(Math.abs(Math.atan2(long.y, long.x) * (180 / Math.PI)) % 180).toBeCloseTo(20, 0);
  });

  it('sizes the detector input in multiples of 32, capping large pages and enlarging small labels', () => {
    expect(detectionSize(2560, 3300)).toEqual({ width: 1248, height: 1600 });
    expect(detectionSize(320, 100)).toEqual({ width: 736, height: 224 });
    expect(detectionSize(1000, 700)).toEqual({ width: 992, height: 704 });
  });
});

describe('orientation and reading order', () => {
  const region = (
    center: { x: number; y: number },
    horizontal: boolean,
    long = 200,
    short = 30,
  ): DetectedRegion => ({
    center,
    axis: horizontal ? { x: 1, y: 0 } : { x: 0, y: 1 },
    sideU: long,
    sideV: short,
    score: 0.9,
  });

  it('maps points to the upright page and back for every angle', () => {
    for (const angle of [0, 90, 180, 270] as PageAngle[]) {
      const point = { x: 30, y: 70 };
      expect(fromUpright(toUpright(point, angle, 400, 300), angle, 400, 300)).toEqual(point);
    }
    // The stored image is the upright page turned clockwise by 90°: the upright top-left is the stored top-right.
    expect(toUpright({ x: 300, y: 0 }, 90, 300, 400)).toEqual({ x: 0, y: 0 });
  });

  it('orders corners along the text on the upright page', () => {
    // A line running down the stored image, which is the upright page turned by 90°.
    const quad = readingQuad(region({ x: 50, y: 200 }, false), 90, 300, 400);
    const upright = quad.map((point) => toUpright(point, 90, 300, 400));
    expect(upright[1].x - upright[0].x).toBeCloseTo(200, 5);
    expect(upright[3].y - upright[0].y).toBeCloseTo(30, 5);
  });

  it('votes for a turned page when long regions run down the image', () => {
    const across = [region({ x: 100, y: 50 }, true), region({ x: 100, y: 100 }, true)];
    const down = [region({ x: 50, y: 100 }, false), region({ x: 100, y: 100 }, false, 300)];
    const specks = [region({ x: 10, y: 10 }, false, 20, 18)];
    expect(verticalShare([...across, ...specks])).toBe(0);
    expect(verticalShare([...down, ...specks])).toBe(1);
    expect(verticalShare(specks)).toBe(0.5);
  });

  it('chooses the angle from the line direction and the upside-down vote', () => {
    expect(chooseOrientation(0.1, 0.05)).toEqual({ angle: 0, confidence: 0.855 });
    expect(chooseOrientation(0.1, 0.9).angle).toBe(180);
    expect(chooseOrientation(0.9, 0.2).angle).toBe(90);
    expect(chooseOrientation(0.95, 0.97)).toEqual({ angle: 270, confidence: 0.922 });
  });

  it('groups regions of a skewed page into lines without interleaving them', () => {
    const skew = (4 * Math.PI) / 180;
    // Two columns of regions on three lines 40 px apart, the page turned by 4°: over 600 px a line drops 42 px.
    const regions = [0, 1, 2].flatMap((line) =>
      [0, 600].map((x) => {
        const y = 100 + line * 40 + x * Math.tan(skew);
        const upright: Quad = [
          { x, y },
          { x: x + 500, y: y + 500 * Math.tan(skew) },
          { x: x + 500, y: y + 500 * Math.tan(skew) + 20 },
          { x, y: y + 20 },
        ];
        return { upright, name: `${line}${x === 0 ? 'L' : 'R'}` };
      }),
    );
    expect(pageSkew(regions)).toBeCloseTo(skew, 3);
    expect(
      groupIntoLines(regions, pageSkew(regions)).map((line) => line.map((r) => r.name).join(' ')),
    ).toEqual(['0L 0R', '1L 1R', '2L 2R']);
  });
});

describe('PaddleOcr with the shipped models', () => {
  const processor = new ImageProcessor();
  const paddle = new PaddleOcr();
  afterAll(() => paddle.close());

  async function label(rotate: number): Promise<Buffer> {
    const svg =
      '<svg xmlns="http://www.w3.org/2000/svg" width="640" height="220"><rect width="100%" height="100%" fill="#fff"/>' +
      '<text x="30" y="80" font-family="DejaVu Sans" font-size="44" font-weight="bold" fill="#1d4d2b">ORGANIC OAT MILK</text>' +
      '<text x="30" y="160" font-family="DejaVu Sans" font-size="28" fill="#222">Best before 2027-03-14</text></svg>';
    return sharp(Buffer.from(svg)).rotate(rotate).png().toBuffer();
  }

  it.each([0, 180, 90])(
    'reads a label turned by %i° upright, with word boxes, and reports the angle',
    async (angle) => {
      const image = await label(angle);
      const page = await paddle.read(await processor.toUprightRgb(image, 2400));
      expect(page.orientation.angle).toBe(angle);
      expect(page.lines.map((line) => line.text)).toEqual(['ORGANIC OAT MILK', 'Best before 2027-03-14']);
      const [title] = page.lines;
      expect(title.confidence).toBeGreaterThan(0.9);
      expect(title.words.map((word) => word.text)).toEqual(['ORGANIC', 'OAT', 'MILK']);
      if (angle === 0) {
        // Word boxes follow the text left to right inside the line box.
        const [organic, oat, milk] = title.words;
        expect(organic.box.x).toBeGreaterThanOrEqual(title.box.x - 2);
        expect(oat.box.x).toBeGreaterThan(organic.box.x + organic.box.width / 2);
        expect(milk.box.x + milk.box.width).toBeLessThanOrEqual(title.box.x + title.box.width + 2);
      }
    },
  );

  it('reads nothing on a plain photo-like gradient', async () => {
    const svg =
      '<svg xmlns="http://www.w3.org/2000/svg" width="400" height="300"><defs><radialGradient id="g">' +
      '<stop offset="0" stop-color="#c84"/><stop offset="1" stop-color="#246"/></radialGradient></defs>' +
      '<rect width="100%" height="100%" fill="url(#g)"/></svg>';
    const image = await sharp(Buffer.from(svg)).jpeg().toBuffer();
    const page = await paddle.read(await processor.toUprightRgb(image, 2400));
    expect(page.lines).toEqual([]);
  });

  it('fails with MODEL_UNAVAILABLE when the model files are missing', async () => {
    const missing = new PaddleOcr(() => ({
      detection: '/nonexistent/det.onnx',
      recognition: '/nonexistent/rec.onnx',
      classifier: '/nonexistent/cls.onnx',
      dictionary: '/nonexistent/keys.txt',
    }));
    await expect(missing.warm()).rejects.toMatchObject({ code: 'MODEL_UNAVAILABLE' });
  });
});
