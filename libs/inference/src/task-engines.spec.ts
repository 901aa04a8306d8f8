import type { ImageMeasurements } from '@argus/imaging';
import type { OcrPage } from './cpu';
import {
  createTaskEngine,
  moderationFromNsfw,
  NSFW_THRESHOLDS,
  type EngineDependencies,
} from './task-engines';

const scores = (overrides: Partial<Record<'drawing' | 'hentai' | 'neutral' | 'porn' | 'sexy', number>>) => ({
  drawing: 0,
  hentai: 0,
  neutral: 0,
  porn: 0,
  sexy: 0,
  ...overrides,
});

describe('moderationFromNsfw', () => {
  it.each([
    ['a neutral photo', scores({ neutral: 0.97, drawing: 0.02 }), 'allow'],
    [
      'explicit just under the block line',
      scores({ porn: NSFW_THRESHOLDS.blockExplicit - 0.01, neutral: 0.2 }),
      'review',
    ],
    ['explicit on the block line', scores({ porn: NSFW_THRESHOLDS.blockExplicit }), 'block'],
    ['drawn explicit content', scores({ hentai: 0.9 }), 'block'],
    ['explicit on the review line', scores({ porn: NSFW_THRESHOLDS.reviewExplicit, neutral: 0.5 }), 'review'],
    [
      'explicit just under the review line',
      scores({ porn: NSFW_THRESHOLDS.reviewExplicit - 0.01, neutral: 0.51 }),
      'allow',
    ],
    [
      'suggestive on the review line',
      scores({ sexy: NSFW_THRESHOLDS.reviewSuggestive, neutral: 0.3 }),
      'review',
    ],
    [
      'suggestive under the review line',
      scores({ sexy: NSFW_THRESHOLDS.reviewSuggestive - 0.01, neutral: 0.31 }),
      'allow',
    ],
  ])('%s → %s', (_name, input, decision) => {
    const answer = moderationFromNsfw(input);
    expect(answer.result.decision).toBe(decision);
    expect(answer.wantsReview).toBe(decision === 'review');
    expect(answer.needsGpuTier).toContain('violence');
  });

  it('reports categories with their confidence and leaves out noise', () => {
    const answer = moderationFromNsfw(scores({ porn: 0.2, hentai: 0.3, sexy: 0.01, neutral: 0.49 }));
    expect(answer.result.categories).toEqual([{ id: 'sexual.explicit', confidence: 0.3 }]);
    expect(answer.confidence).toBeCloseTo(0.49);
  });
});

const measurements: ImageMeasurements = {
  width: 800,
  height: 600,
  dominantColours: [{ name: 'navy', hex: '#1b2a4a', share: 0.6 }],
  exposure: { meanLuminance: 0.4, shadowsClipped: 0, highlightsClipped: 0, verdict: 'ok' },
  sharpness: { laplacianVariance: 300, verdict: 'ok' },
};

function deps(page?: OcrPage): EngineDependencies {
  return {
    processor: {
      resizeForModel: () => Promise.reject(new Error('unused')),
      toRawRgb: () => Promise.resolve({ data: Buffer.alloc(3), width: 1, height: 1 }),
      prepareForOcr: () => Promise.resolve({ data: Buffer.from('png'), scale: 2, width: 1600, height: 1200 }),
      measure: () => Promise.resolve(measurements),
    },
    nsfw: () => ({ classify: () => Promise.resolve(scores({ neutral: 1 })) }),
    tesseract: () => ({ recognize: () => Promise.resolve(page!) }),
    ollama: () => ({ chat: () => Promise.reject(new Error('unused')) }),
  };
}

const box = { x: 100, y: 40, width: 200, height: 60 };
const word = (text: string, confidence: number) => ({ text, confidence, box });

describe('CPU task engines', () => {
  it('OCR keeps confident words, maps boxes back to the stored image and keeps the page confidence', async () => {
    const page: OcrPage = {
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
    const engine = createTaskEngine(
      { task: 'ocr', tier: 'cpu', kind: 'cpu', model: 'tesseract', input: { longSide: 2400 } },
      deps(page),
    );
    const answer = await engine.run({ image: Buffer.from('img'), signal: new AbortController().signal });
    expect(answer.result).toMatchObject({
      text: 'LOT 4471',
      confidence: 0.7,
      lines: [{ text: 'LOT 4471', box: { x: 50, y: 20, width: 100, height: 30 } }],
    });
    expect(answer.confidence).toBe(0.7);
  });

  it('tagging on the CPU reports measurements and names what needs a vision model', async () => {
    const engine = createTaskEngine(
      { task: 'tagging', tier: 'cpu', kind: 'cpu', model: 'sharp', input: { longSide: 1024 } },
      deps(),
    );
    const answer = await engine.run({ image: Buffer.from('img'), signal: new AbortController().signal });
    expect(answer.result).toMatchObject({
      category: null,
      attributes: { colour: 'navy' },
      colours: measurements.dominantColours,
    });
    expect(answer.needsGpuTier).toEqual(expect.arrayContaining(['category', 'condition', 'defects']));
  });

  it('refuses to start after the deadline', async () => {
    const engine = createTaskEngine(
      { task: 'moderation', tier: 'cpu', kind: 'cpu', model: 'nsfw', input: { square: 224 } },
      deps(),
    );
    const expired = AbortSignal.abort();
    await expect(engine.run({ image: Buffer.from('img'), signal: expired })).rejects.toMatchObject({
      code: 'INFERENCE_TIMEOUT',
    });
  });
});
