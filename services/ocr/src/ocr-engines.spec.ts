import { createHash } from 'node:crypto';
import { OCR_MODES, ocrOptionsSchema, type OcrMode, type OcrResult } from '@argus/contracts';
import {
  ImageContext,
  type EngineDependencies,
  type EngineSpec,
  type OcrLine,
  type OcrPage,
  type PageSegmentation,
  type VisionChatRequest,
} from '@argus/inference';
import { cpuOcrEngine, normaliseLanguageCode, OCR_MODE_INSTRUCTIONS, ollamaOcrEngine } from './ocr-engines';
import { OCR_PROMPT } from './prompt';

jest.setTimeout(30_000);

const box = { x: 100, y: 40, width: 200, height: 60 };

function line(text: string, confidence = 0.95): OcrLine {
  return { text, confidence, box, words: text.split(' ').map((word) => ({ text: word, confidence, box })) };
}

function page(...lines: OcrLine[]): OcrPage {
  return {
    text: lines.map((l) => l.text).join('\n'),
    confidence: 0.93,
    lines,
    words: lines.flatMap((l) => l.words),
  };
}

const LABEL = page(
  line('ORGANIC OAT MILK'),
  line('Best before: 12/2027'),
  line('LOT A1234'),
  line('Net wt 500 g'),
);

interface Fakes {
  deps: EngineDependencies;
  segmentations: Array<PageSegmentation | undefined>;
  chats: VisionChatRequest[];
}

function fakes(read: OcrPage, answers: string[] = []): Fakes {
  const segmentations: Array<PageSegmentation | undefined> = [];
  const chats: VisionChatRequest[] = [];
  const deps: EngineDependencies = {
    processor: {
      resizeForModel: () =>
        Promise.resolve({ data: Buffer.from('jpeg'), format: 'jpeg', width: 800, height: 600 } as never),
      toRawRgb: () => Promise.reject(new Error('unused')),
      toUprightRgb: () => Promise.resolve({ data: Buffer.alloc(3), width: 1, height: 1, scale: 1 }),
      prepareForOcr: () => Promise.resolve({ data: Buffer.from('png'), scale: 2, width: 1600, height: 1200 }),
      measure: () => Promise.reject(new Error('unused')),
      decodeForMeasurement: () => Promise.reject(new Error('unused')),
    },
    nsfw: () => ({ classify: () => Promise.reject(new Error('unused')) }),
    faces: () => ({ detect: () => Promise.reject(new Error('unused')) }),
    tesseract: () => ({
      recognize: (_png, _budget, segmentation) => {
        segmentations.push(segmentation);
        return Promise.resolve(read);
      },
    }),
    ollama: () => ({
      chat: (request) => {
        chats.push(request);
        return Promise.resolve({
          content: answers.shift() ?? '{}',
          doneReason: 'stop',
          model: 'qwen2.5vl:7b',
          usage: { inputTokens: 100, outputTokens: 50 },
          seconds: { total: 1, load: 0, prompt: 0.5, eval: 0.5 },
        });
      },
    }),
  };
  return { deps, segmentations, chats };
}

const cpuSpec: EngineSpec = {
  task: 'ocr',
  tier: 'cpu',
  kind: 'cpu',
  model: 'ppocr-v4-tesseract-eng',
  input: { longSide: 2400 },
};
const gpuSpec: EngineSpec = {
  task: 'ocr',
  tier: 'small',
  kind: 'ollama',
  model: 'qwen2.5vl:7b',
  input: { longSide: 1428 },
};

/** Runs `engine` on a request whose OCR options are parsed as a request's are: no mode is the schema's default. */
const run = (engine: ReturnType<typeof cpuOcrEngine>, mode?: OcrMode) => {
  const image = Buffer.from('img');
  return engine.run({
    image,
    context: ImageContext.of(image),
    signal: new AbortController().signal,
    options: ocrOptionsSchema.parse(mode ? { mode } : {}),
  });
};

describe('the CPU OCR engine', () => {
  it.each([
    ['document', 'single_block'],
    ['label', 'single_column'],
    ['scene', 'sparse'],
  ] as const)('reads %s mode with %s page segmentation', async (mode, segmentation) => {
    const { deps, segmentations } = fakes(LABEL);
    const answer = await run(cpuOcrEngine(cpuSpec, deps), mode);
    expect(segmentations).toEqual([segmentation]);
    expect((answer.result as OcrResult).mode).toBe(mode);
  });

  it('defaults to document mode', async () => {
    const { deps, segmentations } = fakes(LABEL);
    const answer = await run(cpuOcrEngine(cpuSpec, deps));
    expect(segmentations).toEqual(['single_block']);
    expect((answer.result as OcrResult).mode).toBe('document');
  });

  it('parses key-values from the read lines in label mode, with line indexes, and detects the language', async () => {
    const { deps } = fakes(LABEL);
    const answer = await run(cpuOcrEngine(cpuSpec, deps), 'label');
    expect(answer.result).toMatchObject({
      text: 'ORGANIC OAT MILK\nBest before: 12/2027\nLOT A1234\nNet wt 500 g',
      keyValues: [
        { key: 'Best before', value: '12/2027', line: 1, source: 'text' },
        { key: 'LOT', value: 'A1234', line: 2, source: 'text' },
        { key: 'Net wt', value: '500 g', line: 3, source: 'text' },
      ],
      tables: [],
      confidence: 0.93,
    });
    expect((answer.result as OcrResult).language).toMatchObject({ code: 'en' });
    expect(answer.needsGpuTier).toEqual([]);
  });

  it('asks for a GPU tier for tables in document mode only', async () => {
    for (const mode of OCR_MODES) {
      const { deps } = fakes(LABEL);
      const answer = await run(cpuOcrEngine(cpuSpec, deps), mode);
      expect(answer.needsGpuTier).toEqual(mode === 'document' ? ['tables'] : []);
      expect((answer.result as OcrResult).tables).toEqual([]);
    }
  });

  it('reads key-values in document mode too (invoices, receipts)', async () => {
    const { deps } = fakes(
      page(line('BOOK SHOP'), line('Invoice 2027-118'), line('Atlas 24.00'), line('TOTAL 32.40')),
    );
    const answer = await run(cpuOcrEngine(cpuSpec, deps), 'document');
    expect((answer.result as OcrResult).keyValues).toEqual([
      { key: 'Invoice', value: '2027-118', line: 1, source: 'text' },
      { key: 'TOTAL', value: '32.40', line: 3, source: 'text' },
    ]);
  });

  it('gives no key-values in scene mode, and drops confident marks that are not words', async () => {
    const noisy = page(
      line('.'),
      line('OPEN 24/7'),
      { ...line('|'), words: [{ text: '|', confidence: 0.9, box }] },
      line('Price: €4.99'),
    );
    const { deps } = fakes(noisy);
    const answer = await run(cpuOcrEngine(cpuSpec, deps), 'scene');
    expect(answer.result).toMatchObject({ text: 'OPEN 24/7\nPrice: €4.99', keyValues: [], tables: [] });

    // Lines that are not text are dropped in every mode (cpu-ocr.ts plausibleText).
    const document = await run(cpuOcrEngine(cpuSpec, fakes(noisy).deps), 'document');
    expect((document.result as OcrResult).text).toBe('OPEN 24/7\nPrice: €4.99');
  });

  it('answers und for a label too short to tell its language', async () => {
    const { deps } = fakes(page(line('LOT 4471')));
    const answer = await run(cpuOcrEngine(cpuSpec, deps), 'label');
    expect((answer.result as OcrResult).language).toEqual({ code: 'und', confidence: null });
  });

  it('reports how the page was turned when PaddleOCR read it, and its lines', async () => {
    const { deps, segmentations } = fakes(LABEL);
    deps.paddle = () => ({
      read: () =>
        Promise.resolve({
          lines: [{ ...line('ORGANIC OAT MILK', 0.98), detectionScore: 0.9 }],
          orientation: { angle: 270, confidence: 0.93 },
          unreadableLines: 0,
          timings: { detectionMs: 1, orientationMs: 1, recognitionMs: 1 },
        }),
    });
    const answer = await run(cpuOcrEngine(cpuSpec, deps), 'label');
    expect(answer.result).toMatchObject({
      text: 'ORGANIC OAT MILK',
      confidence: 0.98,
      orientation: { angle: 270, confidence: 0.93 },
    });
    expect(segmentations).toEqual([]);
  });

  it('keeps confident words, maps boxes back to the stored image and keeps the page confidence', async () => {
    const word = (text: string, confidence: number) => ({ text, confidence, box });
    const read: OcrPage = {
      text: 'LOT 4471 ~;\nzq x',
      confidence: 0.7,
      words: [],
      lines: [
        {
          text: 'LOT 4471 ~;',
          confidence: 0.8,
          box,
          words: [word('LOT', 0.95), word('4471', 0.93), word('~;', 0.2)],
        },
        { text: 'zq x', confidence: 0.2, box, words: [word('zq', 0.1), word('x', 0.3)] },
      ],
    };
    const answer = await run(cpuOcrEngine(cpuSpec, fakes(read).deps));
    expect(answer.result).toMatchObject({
      text: 'LOT 4471',
      confidence: 0.7,
      lines: [{ text: 'LOT 4471', box: { x: 50, y: 20, width: 100, height: 30 } }],
    });
    expect(answer.confidence).toBe(0.7);
  });

  it('answers an empty page with no text, und and no structure', async () => {
    const { deps } = fakes(page());
    const answer = await run(cpuOcrEngine(cpuSpec, deps), 'label');
    expect(answer.result).toEqual({
      text: '',
      lines: [],
      confidence: 0,
      mode: 'label',
      language: { code: 'und', confidence: null },
      keyValues: [],
      tables: [],
    });
  });
});

const STRUCTURED_ANSWER = JSON.stringify({
  text: 'CORNER MARKET\nMilk 1L 1.29\nTOTAL 1.29',
  lines: [{ text: 'CORNER MARKET' }, { text: 'Milk 1L 1.29' }, { text: 'TOTAL 1.29' }],
  language: 'en',
  keyValues: [{ key: 'TOTAL', value: '1.29' }],
  tables: [
    {
      rows: [
        ['Item', 'Price'],
        ['Milk 1L', '1.29'],
      ],
    },
  ],
});
const PLAIN_ANSWER = JSON.stringify({ text: 'EXIT', lines: [{ text: 'EXIT' }], language: 'EN-us' });

const properties = (format: Record<string, unknown>) => Object.keys(format.properties as object).sort();

describe('the Ollama OCR engine', () => {
  it.each(['document', 'label'] as const)(
    'asks for key-values and tables in %s mode and returns them from the model',
    async (mode) => {
      const { deps, chats } = fakes(page(), [STRUCTURED_ANSWER]);
      const answer = await run(ollamaOcrEngine(gpuSpec, deps), mode);
      expect(properties(chats[0].format)).toEqual(['keyValues', 'language', 'lines', 'tables', 'text']);
      expect(chats[0].prompt).toContain(OCR_MODE_INSTRUCTIONS[mode]);
      expect(chats[0].prompt.startsWith(OCR_PROMPT.user)).toBe(true);
      expect(answer.result).toEqual({
        text: 'CORNER MARKET\nMilk 1L 1.29\nTOTAL 1.29',
        lines: [{ text: 'CORNER MARKET' }, { text: 'Milk 1L 1.29' }, { text: 'TOTAL 1.29' }],
        confidence: null,
        mode,
        language: { code: 'en', confidence: null },
        keyValues: [{ key: 'TOTAL', value: '1.29', source: 'model' }],
        tables: [
          {
            rows: [
              ['Item', 'Price'],
              ['Milk 1L', '1.29'],
            ],
          },
        ],
      });
      expect(answer).toMatchObject({ confidence: null, needsGpuTier: [], wantsReview: false });
    },
  );

  it('asks only for the text in scene mode', async () => {
    const { deps, chats } = fakes(page(), [PLAIN_ANSWER]);
    const answer = await run(ollamaOcrEngine(gpuSpec, deps), 'scene');
    expect(properties(chats[0].format)).toEqual(['language', 'lines', 'text']);
    expect(chats[0].prompt).toContain(OCR_MODE_INSTRUCTIONS.scene);
    expect(chats[0].prompt).toContain('Transcribe');
    expect(answer.result).toMatchObject({
      mode: 'scene',
      text: 'EXIT',
      language: { code: 'en', confidence: null },
      keyValues: [],
      tables: [],
    });
  });

  it('defaults to document mode', async () => {
    const { deps, chats } = fakes(page(), [STRUCTURED_ANSWER]);
    const answer = await run(ollamaOcrEngine(gpuSpec, deps));
    expect(chats[0].prompt).toContain(OCR_MODE_INSTRUCTIONS.document);
    expect((answer.result as OcrResult).mode).toBe('document');
  });

  it('repairs a document answer without tables once, against the structured schema', async () => {
    const { deps, chats } = fakes(page(), [PLAIN_ANSWER, STRUCTURED_ANSWER]);
    const answer = await run(ollamaOcrEngine(gpuSpec, deps), 'document');
    expect(chats).toHaveLength(2);
    expect(chats[1].repair?.problem).toMatch(/keyValues|tables/);
    expect((answer.result as OcrResult).tables).toHaveLength(1);
  });

  it('puts the prompt version into the engine fingerprint', () => {
    const engine = ollamaOcrEngine(gpuSpec, fakes(page()).deps);
    expect(engine.promptVersion).toBe(OCR_PROMPT.version);
  });
});

describe('the OCR engine factories', () => {
  it.each([
    ['cpu', cpuOcrEngine],
    ['ollama', ollamaOcrEngine],
  ] as const)('build the engine of a %s tier from its spec', (kind, factory) => {
    const tier = kind === 'cpu' ? 'cpu' : 'small';
    const engine = factory(
      { task: 'ocr', tier, kind, model: `ocr-${kind}-model`, input: { longSide: 1024 } },
      fakes(page()).deps,
    );
    expect(engine).toMatchObject({ task: 'ocr', kind, tier, model: `ocr-${kind}-model` });
  });
});

describe('normaliseLanguageCode', () => {
  it.each([
    ['en', 'text', 'en'],
    ['EN', 'text', 'en'],
    ['en-US', 'text', 'en'],
    ['pt_BR', 'text', 'pt'],
    ['und', 'text', 'und'],
    ['English', 'text', 'und'],
    ['', 'text', 'und'],
    ['de', '   ', 'und'],
  ])('%j with text %j → %j', (answer, text, code) => {
    expect(normaliseLanguageCode(answer, text)).toBe(code);
  });
});

describe('the OCR prompt', () => {
  // The mode instructions live beside the engine but belong to OCR_PROMPT's version: results cached under one version
  // must not come from another text. Changing any of them means bumping the version and this fingerprint together.
  it('changes only together with its version', () => {
    const text = JSON.stringify([OCR_PROMPT, OCR_MODE_INSTRUCTIONS]);
    const fingerprint = createHash('sha256').update(text).digest('hex').slice(0, 12);
    expect({ version: OCR_PROMPT.version, fingerprint }).toEqual({
      version: 'ocr-v2',
      fingerprint: 'd3a74099c36a',
    });
  });
});
