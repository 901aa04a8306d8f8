import { ALT_TEXT_MAX_LENGTH, describeOptionsSchema, type DescribeResult } from '@argus/contracts';
import type { ImageMeasurements } from '@argus/imaging';
import {
  ImageContext,
  type CpuOcrLine,
  type EngineDependencies,
  type EngineSpec,
  type VisionChatRequest,
} from '@argus/inference';
import {
  cleanAltText,
  cleanTags,
  cpuDescribeEngine,
  describeFromMeasurements,
  ollamaDescribeEngine,
} from './engines';
import { DESCRIBE_PROMPT } from './prompt';

const measured: ImageMeasurements = {
  width: 1200,
  height: 900,
  dominantColours: [
    { name: 'navy', hex: '#1c2a4d', share: 0.55 },
    { name: 'white', hex: '#f8f8f8', share: 0.3 },
    { name: 'red', hex: '#c0392b', share: 0.05 },
  ],
  exposure: { meanLuminance: 0.5, shadowsClipped: 0, highlightsClipped: 0, verdict: 'ok' },
  sharpness: { laplacianVariance: 400, verdict: 'ok' },
};

const box = { x: 10, y: 10, width: 100, height: 20 };
const line = (text: string): CpuOcrLine => ({
  text,
  confidence: 0.95,
  box,
  words: [{ text, confidence: 0.95, box }],
});
const options = (raw: object = {}) => describeOptionsSchema.parse(raw);

function fakeDeps(answers: string[] = []): { deps: EngineDependencies; chats: VisionChatRequest[] } {
  const chats: VisionChatRequest[] = [];
  const deps: EngineDependencies = {
    processor: {
      resizeForModel: () =>
        Promise.resolve({ data: Buffer.from('jpeg'), format: 'jpeg', width: 800, height: 600 } as never),
      toRawRgb: () => Promise.reject(new Error('unused')),
      toUprightRgb: () => Promise.resolve({ data: Buffer.alloc(3), width: 1, height: 1, scale: 1 }),
      prepareForOcr: () => Promise.reject(new Error('unused')),
      measure: () => Promise.resolve(measured),
      decodeForMeasurement: () => Promise.resolve({} as never),
    },
    nsfw: () => ({ classify: () => Promise.reject(new Error('unused')) }),
    faces: () => ({
      detect: () =>
        Promise.resolve([
          { box, boxScore: 0.9 },
          { box, boxScore: 0.8 },
        ] as never),
    }),
    tesseract: () => ({ recognize: () => Promise.reject(new Error('unused')) }),
    paddle: () => ({
      read: () =>
        Promise.resolve({
          lines: [{ ...line('SUMMER SALE'), detectionScore: 0.9, box }],
          orientation: { angle: 0, confidence: 1 },
          unreadableLines: 0,
          timings: { detectionMs: 1, orientationMs: 0, recognitionMs: 1 },
        } as never),
    }),
    ollama: () => ({
      chat: (request) => {
        chats.push(request);
        return Promise.resolve({
          content: answers.shift() ?? '{}',
          doneReason: 'stop',
          model: 'qwen2.5vl:3b',
          usage: { inputTokens: 1300, outputTokens: 60 },
          seconds: { total: 1, load: 0, prompt: 0.5, eval: 0.5 },
        });
      },
    }),
  };
  return { deps, chats };
}

const gpuSpec: EngineSpec = {
  task: 'describe',
  tier: 'small',
  kind: 'ollama',
  model: 'qwen2.5vl:3b',
  input: { family: 'qwen2.5vl', maxPixels: 1_003_520 },
};
const cpuSpec: EngineSpec = {
  task: 'describe',
  tier: 'cpu',
  kind: 'cpu',
  model: 'sharp-paddleocr-blazeface',
  input: { longSide: 1024 },
};

describe('alt text', () => {
  it('drops "image of" and its kin, capitalises, and keeps short text as it is', () => {
    expect(cleanAltText('an image of a red mug on a wooden table')).toEqual({
      text: 'A red mug on a wooden table',
      changed: true,
    });
    expect(cleanAltText('Photo showing two runners at dawn').text).toBe('Two runners at dawn');
    expect(cleanAltText('Red mug on a table')).toEqual({ text: 'Red mug on a table', changed: false });
  });

  it(`cuts at a word with an ellipsis to at most ${ALT_TEXT_MAX_LENGTH} characters`, () => {
    const long = `Red ceramic mug ${'with a very long description '.repeat(8)}end`;
    const { text } = cleanAltText(long);
    expect(text.length).toBeLessThanOrEqual(ALT_TEXT_MAX_LENGTH);
    expect(text.endsWith('…')).toBe(true);
    expect(text).not.toMatch(/\s…$/);
  });

  it('lowercases tags, drops repeats and blanks, and keeps at most 12', () => {
    expect(
      cleanTags([' Mug', 'mug', '', 'Red ', ...Array.from({ length: 20 }, (_, i) => `t${i}`)]),
    ).toHaveLength(12);
    expect(cleanTags([' Mug', 'mug', 'Red '])).toEqual(['mug', 'red']);
  });
});

describe('the CPU description (measured, never invented)', () => {
  it('names the main colours, the people found and the text read, and says what it could not judge', () => {
    const answer = describeFromMeasurements(
      measured,
      [line('SUMMER SALE')],
      { faces: 2, boxes: [], engine: 'blazeface' },
      options(),
    );
    const result = answer.result as DescribeResult;
    expect(result.caption).toBe('An image, mostly navy and white, with 2 people and the text “SUMMER SALE”.');
    expect(result.altText).toBe('Mostly navy and white image with 2 people and the text “SUMMER SALE”');
    expect(result.tags).toEqual(['navy', 'white', 'people', 'text']);
    expect(result.answer).toBeNull();
    expect(answer.needsGpuTier).toEqual(['caption.subject']);
  });

  it('says plainly that what the image shows was not judged when nothing was found, and notes poor quality', () => {
    const dark = { ...measured, exposure: { ...measured.exposure, verdict: 'under' as const } };
    const result = describeFromMeasurements(dark, [], null, options()).result as DescribeResult;
    expect(result.caption).toBe(
      'A dark image, mostly navy and white; what it shows was not judged on the CPU tier.',
    );
    expect(result.tags).toContain('dark');
  });

  it('leaves a question and another language to a vision model, and says so', () => {
    const answer = describeFromMeasurements(
      measured,
      [],
      null,
      options({ question: 'What brand is it?', language: 'de' }),
    );
    expect(answer.needsGpuTier).toEqual(['caption.subject', 'question', 'language']);
    expect((answer.result as DescribeResult).answer).toBeNull();
    expect((answer.result as DescribeResult).language).toBe('en');
    expect((answer.result as DescribeResult).warnings?.[0]).toMatch(/English only/);
  });

  it('runs from the request context: one side read, faces and measurements', async () => {
    const { deps } = fakeDeps();
    const engine = cpuDescribeEngine(cpuSpec, deps);
    const image = Buffer.from('img');
    const answer = await engine.run({
      image,
      context: ImageContext.of(image),
      signal: AbortSignal.timeout(5_000),
      options: options(),
    });
    expect((answer.result as DescribeResult).caption).toContain('2 people');
    expect((answer.result as DescribeResult).caption).toContain('SUMMER SALE');
  });
});

describe('describe on a vision model', () => {
  const run = async (answer: object, raw: object = {}) => {
    const { deps, chats } = fakeDeps([JSON.stringify(answer)]);
    const image = Buffer.from('img');
    const result = await ollamaDescribeEngine(gpuSpec, deps).run({
      image,
      context: ImageContext.of(image),
      signal: AbortSignal.timeout(5_000),
      options: options(raw),
    });
    return { answer: result, chat: chats[0] };
  };

  it('asks for caption, alt text and tags with the versioned prompt, and cleans the alt text', async () => {
    const { answer, chat } = await run({
      caption: 'A red mug on a wooden table.',
      altText: 'Image of a red mug on a wooden table',
      tags: ['Mug', 'red', 'mug'],
    });
    expect(chat.system).toBe(DESCRIBE_PROMPT.system);
    expect(chat.prompt).not.toContain('answer');
    expect(Object.keys((chat.format as { properties: object }).properties)).toEqual([
      'caption',
      'altText',
      'tags',
    ]);
    expect(answer.result).toMatchObject({
      caption: 'A red mug on a wooden table.',
      altText: 'A red mug on a wooden table',
      tags: ['mug', 'red'],
      language: 'en',
      answer: null,
    });
    expect((answer.result as DescribeResult).warnings).toHaveLength(1);
  });

  it('answers a question from what is visible, with its confidence, and keeps "unknown" honest', async () => {
    const asked = await run(
      { caption: 'A car.', altText: 'Grey car', tags: ['car'], answer: 'Volvo', answerConfidence: 0.8 },
      { question: 'What brand is this car?' },
    );
    expect(asked.chat.prompt).toContain('"What brand is this car?"');
    expect(Object.keys((asked.chat.format as { properties: object }).properties)).toContain(
      'answerConfidence',
    );
    expect(asked.answer.result).toMatchObject({
      answer: { question: 'What brand is this car?', text: 'Volvo', confidence: 0.8 },
      confidence: 0.8,
    });
    const unknown = await run(
      { caption: 'A car.', altText: 'Grey car', tags: ['car'], answer: 'Unknown.', answerConfidence: 0.6 },
      { question: 'Who owns it?' },
    );
    expect((unknown.answer.result as DescribeResult).answer).toEqual({
      question: 'Who owns it?',
      text: 'unknown',
      confidence: 0,
    });
  });

  it('asks for the requested language, and says nothing about language for English', async () => {
    const german = await run(
      { caption: 'Eine rote Tasse.', altText: 'Rote Tasse', tags: ['tasse'] },
      { language: 'de' },
    );
    expect(german.chat.prompt).toContain('BCP 47 tag de');
    expect(german.answer.result).toMatchObject({ language: 'de' });
    const english = await run(
      { caption: 'A red mug.', altText: 'Red mug', tags: ['mug'] },
      { language: 'en-GB' },
    );
    expect(english.chat.prompt).not.toContain('BCP 47');
  });
});
