import type { PaddleLine, PaddlePage, PaddleReadOptions } from '../cpu/paddle-ocr';
import type { OcrLine, OcrPage } from '../cpu/tesseract-ocr';
import { ImageContext } from '../image-context';
import {
  cpuOcr,
  PADDLE_SURE,
  plausibleText,
  SIDE_DETECTION_SIDE,
  sideOcrLines,
  textAgreement,
} from './cpu-ocr';
import type { EngineDependencies } from './engine-kit';

const box = { x: 40, y: 20, width: 200, height: 30 };

function paddleLine(text: string, confidence = 0.97): PaddleLine {
  return {
    text,
    confidence,
    box,
    detectionScore: 0.9,
    words: text.split(' ').map((word) => ({ text: word, confidence, box })),
  };
}

function tesseractLine(text: string, confidence = 0.93): OcrLine {
  return { text, confidence, box, words: text.split(' ').map((word) => ({ text: word, confidence, box })) };
}

interface Calls {
  paddle: PaddleReadOptions[];
  tesseract: number;
}

function deps(paddlePage: PaddlePage | undefined, tesseractLines: OcrLine[] = []) {
  const calls: Calls = { paddle: [], tesseract: 0 };
  const page: OcrPage = {
    text: tesseractLines.map((line) => line.text).join('\n'),
    confidence: 0.9,
    lines: tesseractLines,
    words: tesseractLines.flatMap((line) => line.words),
  };
  const dependencies: Pick<EngineDependencies, 'processor' | 'tesseract' | 'paddle'> = {
    processor: {
      resizeForModel: () => Promise.reject(new Error('unused')),
      toRawRgb: () => Promise.reject(new Error('unused')),
      // The stored image is 2× the pixels PaddleOCR reads, so boxes come back doubled.
      toUprightRgb: () => Promise.resolve({ data: Buffer.alloc(3), width: 1, height: 1, scale: 0.5 }),
      prepareForOcr: () => Promise.resolve({ data: Buffer.from('png'), scale: 1, width: 100, height: 100 }),
      measure: () => Promise.reject(new Error('unused')),
      decodeForMeasurement: () => Promise.reject(new Error('unused')),
    },
    tesseract: () => ({
      recognize: () => {
        calls.tesseract += 1;
        return Promise.resolve(page);
      },
    }),
    ...(paddlePage
      ? {
          paddle: () => ({
            read: (_pixels, options) => {
              calls.paddle.push(options ?? {});
              return Promise.resolve(paddlePage);
            },
          }),
        }
      : {}),
  };
  return { dependencies, calls };
}

function paddlePage(lines: PaddleLine[], angle: 0 | 90 | 180 | 270 = 0, unreadableLines = 0): PaddlePage {
  return {
    lines,
    orientation: { angle, confidence: 0.9 },
    unreadableLines,
    timings: { detectionMs: 1, orientationMs: 1, recognitionMs: 1 },
  };
}

const image = Buffer.from('image');

describe('plausibleText (phantom text filter)', () => {
  it.each(['4', '&', '7', '7; ¥', '| 3 : 5 | ry r 4 2. i : BY A', '11', '. : ; |', '—— ~~ ——'])(
    'rejects junk read from texture: %j',
    (junk) => {
      expect(plausibleText(junk, 0.8)).toBe(false);
    },
  );

  it.each([
    'ORGANIC OAT MILK',
    'Best before: 12/2027',
    'LOT A1234',
    'Net wt 500 g',
    'Call 555-0199',
    '€ 12.99',
    'www.cheap-deals.example',
    'Zutaten: Wasser, Hafer 10 %',
  ])('keeps real text: %j', (text) => {
    expect(plausibleText(text, 0.8)).toBe(true);
  });

  it('keeps a two-character reading only when it is read with high confidence', () => {
    expect(plausibleText('XL', 0.95)).toBe(true);
    expect(plausibleText('XL', 0.8)).toBe(false);
  });
});

describe('cpuOcr: how PaddleOCR and tesseract share the work', () => {
  it('answers with PaddleOCR when it is sure, with boxes in stored-image pixels and the page angle', async () => {
    const { dependencies, calls } = deps(paddlePage([paddleLine('ORGANIC OAT MILK')], 180));
    const read = await cpuOcr(image, dependencies, undefined, 'label');
    expect(read.engine).toBe('paddleocr');
    expect(read.lines.map((line) => line.text)).toEqual(['ORGANIC OAT MILK']);
    expect(read.lines[0].box).toEqual({ x: 80, y: 40, width: 400, height: 60 });
    expect(read.orientation).toEqual({ angle: 180, confidence: 0.9 });
    expect(calls.tesseract).toBe(0);
    expect(calls.paddle[0]).toMatchObject({ assumeUpright: false });
  });

  it('answers nothing for a photo without text: unsure and implausible lines are dropped, tesseract is not asked', async () => {
    const speck = { x: 10, y: 10, width: 20, height: 30 };
    const { dependencies, calls } = deps(
      paddlePage([
        { ...paddleLine('11', 0.56), box: speck },
        { ...paddleLine('1', 0.67), box: speck },
        paddleLine('7; ¥', 0.9),
      ]),
      [tesseractLine('Cold')],
    );
    const read = await cpuOcr(image, dependencies);
    expect(read).toMatchObject({ lines: [], confidence: 0, engine: 'none' });
    expect(calls.tesseract).toBe(0);
  });

  it('asks tesseract when PaddleOCR found text lines it could not read (blackletter), keeping confident lines only', async () => {
    const unread = paddlePage([], 180, 2);
    const { dependencies, calls } = deps(unread, [
      tesseractLine('Daily Chronicle', 0.82),
      tesseractLine('Ye Olde', 0.6),
    ]);
    const read = await cpuOcr(image, dependencies, undefined, 'label');
    expect(calls.tesseract).toBe(1);
    expect(read.engine).toBe('tesseract');
    expect(read.lines.map((line) => line.text)).toEqual(['Daily Chronicle']);
    // Tesseract read the stored image as it is; the angle voted on unreadable type is not reported.
    expect(read.orientation).toBeUndefined();
  });

  it('asks tesseract for a second opinion when PaddleOCR is unsure, and keeps the more confident reading', async () => {
    const unsure = paddlePage([paddleLine('Dle Gntdeckung', PADDLE_SURE - 0.05)]);
    const better = deps(unsure, [tesseractLine('Die Entdeckung', 0.91)]);
    const read = await cpuOcr(image, better.dependencies, undefined, 'document');
    expect(better.calls.tesseract).toBe(1);
    expect(read.engine).toBe('tesseract');
    expect(read.lines.map((line) => line.text)).toEqual(['Die Entdeckung']);

    const worse = deps(unsure, [tesseractLine('Dle Gntdcckung', 0.7)]);
    expect((await cpuOcr(image, worse.dependencies, undefined, 'document')).engine).toBe('paddleocr');
  });

  it("keeps tesseract's word spacing on a document both engines read letter for letter alike", async () => {
    const sure = paddlePage([paddleLine('Debian is a free operating systemfor your computer')]);
    const same = deps(sure, [tesseractLine('Debian is a free operating system for your computer', 0.95)]);
    const read = await cpuOcr(image, same.dependencies, undefined, 'document');
    expect(read.engine).toBe('tesseract');
    expect(read.lines[0].text).toBe('Debian is a free operating system for your computer');

    // A photographed page that tesseract misreads: PaddleOCR's reading stays.
    const different = deps(sure, [
      tesseractLine('Dcbian ls a frcc opcrating svstcm for vour cornputer', 0.81),
    ]);
    expect((await cpuOcr(image, different.dependencies, undefined, 'document')).engine).toBe('paddleocr');

    // Labels are read by PaddleOCR alone when it is sure.
    const label = deps(sure, [tesseractLine('Debian is a free operating system for your computer', 0.95)]);
    expect((await cpuOcr(image, label.dependencies, undefined, 'label')).engine).toBe('paddleocr');
    expect(label.calls.tesseract).toBe(0);
  });

  it('compares two readings by their letters, ignoring spaces', () => {
    expect(textAgreement([{ text: 'of the page' }], [{ text: 'ofthe page' }])).toBe(1);
    expect(textAgreement([{ text: 'of the page' }], [{ text: 'af tbe paqe' }])).toBeLessThan(0.6);
  });

  it('does not ask tesseract about a turned page (it reads the stored image as it is) or in scene mode', async () => {
    const turned = deps(paddlePage([paddleLine('Dle Gntdeckung', 0.8)], 90), [
      tesseractLine('Die Entdeckung'),
    ]);
    expect((await cpuOcr(image, turned.dependencies)).engine).toBe('paddleocr');
    expect(turned.calls.tesseract).toBe(0);

    const scene = deps(paddlePage([paddleLine('OPEN 24/7', 0.8)]), [tesseractLine('OPEN 24/7', 0.95)]);
    expect((await cpuOcr(image, scene.dependencies, undefined, 'scene')).engine).toBe('paddleocr');
    expect(scene.calls.tesseract).toBe(0);
  });

  it('reads with tesseract alone when PaddleOCR is not installed, through the same phantom filter', async () => {
    const { dependencies, calls } = deps(undefined, [
      tesseractLine('4'),
      tesseractLine('7; ¥'),
      tesseractLine('LOT 4471'),
    ]);
    const read = await cpuOcr(image, dependencies);
    expect(calls.tesseract).toBe(1);
    expect(read.lines.map((line) => line.text)).toEqual(['LOT 4471']);
    expect(read.engine).toBe('tesseract');
  });

  it('side reads use PaddleOCR upright with the small detector and a deadline, memoised per request context', async () => {
    const { dependencies, calls } = deps(paddlePage([paddleLine('Call 555-0199')]));
    const photo = Buffer.from('photo');
    const context = ImageContext.of(photo);
    const lines = await sideOcrLines(context, dependencies);
    await sideOcrLines(context, dependencies);
    expect(lines?.map((line) => line.text)).toEqual(['Call 555-0199']);
    expect(calls.paddle).toHaveLength(1);
    expect(calls.paddle[0]).toMatchObject({ assumeUpright: true, detectionMaxSide: SIDE_DETECTION_SIDE });
    expect(calls.paddle[0].deadline).toEqual(expect.any(Number));

    // Another request's context reads again, even over the same bytes: nothing is shared between requests.
    await sideOcrLines(ImageContext.of(photo), dependencies);
    expect(calls.paddle).toHaveLength(2);
  });
});
