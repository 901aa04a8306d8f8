import type { ImageMeasurements } from '@argus/imaging';
import { ocrOptionsSchema } from '@argus/contracts';
import type { OcrPage } from './cpu';
import { loadModerationPolicies } from '@argus/config';
import { ImageContext } from './image-context';
import type { EngineRequest } from './task-engine';
import {
  cpuModerationEngine,
  cpuOcrEngine,
  cpuTaggingEngine,
  ollamaModerationEngine,
  ollamaOcrEngine,
  ollamaTaggingEngine,
  type EngineDependencies,
  type EngineSpec,
} from './task-engines';

const scores = (overrides: Partial<Record<'drawing' | 'hentai' | 'neutral' | 'porn' | 'sexy', number>>) => ({
  drawing: 0,
  hentai: 0,
  neutral: 0,
  porn: 0,
  sexy: 0,
  ...overrides,
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
      toUprightRgb: () => Promise.resolve({ data: Buffer.alloc(3), width: 1, height: 1, scale: 1 }),
      prepareForOcr: () => Promise.resolve({ data: Buffer.from('png'), scale: 2, width: 1600, height: 1200 }),
      measure: () => Promise.resolve(measurements),
      decodeForMeasurement: () => Promise.reject(new Error('unused')),
    },
    nsfw: () => ({ classify: () => Promise.resolve(scores({ neutral: 1 })) }),
    tesseract: () => ({ recognize: () => Promise.resolve(page!) }),
    faces: () => ({ detect: () => Promise.resolve([]) }),
    ollama: () => ({ chat: () => Promise.reject(new Error('unused')) }),
  };
}

const box = { x: 100, y: 40, width: 200, height: 60 };
const word = (text: string, confidence: number) => ({ text, confidence, box });

/** One request for the image, in its own context, with the task's options. */
function request<Options>(options: Options, signal = new AbortController().signal): EngineRequest<Options> {
  const image = Buffer.from('img');
  return { image, context: ImageContext.of(image), signal, options };
}

describe('the per-task engine factories', () => {
  const spec = (task: EngineSpec['task'], kind: EngineSpec['kind']): EngineSpec => ({
    task,
    tier: kind === 'cpu' ? 'cpu' : 'small',
    kind,
    model: `${task}-${kind}-model`,
    input: { longSide: 1024 },
  });

  it.each([
    ['moderation', 'cpu', cpuModerationEngine],
    ['moderation', 'ollama', ollamaModerationEngine],
    ['tagging', 'cpu', cpuTaggingEngine],
    ['tagging', 'ollama', (s: EngineSpec, d: EngineDependencies) => ollamaTaggingEngine(s, d, ['apparel'])],
    ['ocr', 'cpu', cpuOcrEngine],
    ['ocr', 'ollama', ollamaOcrEngine],
  ] as const)('build the %s engine of a %s tier from its spec', (task, kind, factory) => {
    const engine = factory(spec(task, kind), deps());
    expect(engine).toMatchObject({
      task,
      kind,
      tier: kind === 'cpu' ? 'cpu' : 'small',
      model: `${task}-${kind}-model`,
    });
  });
});

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
    const engine = cpuOcrEngine(
      { task: 'ocr', tier: 'cpu', kind: 'cpu', model: 'tesseract', input: { longSide: 2400 } },
      deps(page),
    );
    const answer = await engine.run(request(ocrOptionsSchema.parse({})));
    expect(answer.result).toMatchObject({
      text: 'LOT 4471',
      confidence: 0.7,
      lines: [{ text: 'LOT 4471', box: { x: 50, y: 20, width: 100, height: 30 } }],
    });
    expect(answer.confidence).toBe(0.7);
  });

  it('tagging on the CPU reports measurements and names what needs a vision model', async () => {
    const engine = cpuTaggingEngine(
      { task: 'tagging', tier: 'cpu', kind: 'cpu', model: 'sharp', input: { longSide: 1024 } },
      deps(),
    );
    const answer = await engine.run(request({}));
    expect(answer.result).toMatchObject({
      category: null,
      attributes: { colour: 'navy' },
      colours: measurements.dominantColours,
    });
    expect(answer.needsGpuTier).toEqual(expect.arrayContaining(['category', 'condition', 'defects']));
  });

  it('moderation on the CPU finds contact details in the text, quotes them, and decides by the policy', async () => {
    const page: OcrPage = {
      text: 'Call +44 20 7946 0958',
      confidence: 0.93,
      words: [],
      lines: [
        {
          text: 'Call +44 20 7946 0958',
          confidence: 0.93,
          box,
          words: [
            word('Call', 0.95),
            word('+44', 0.93),
            word('20', 0.93),
            word('7946', 0.93),
            word('0958', 0.92),
          ],
        },
      ],
    };
    const policies = loadModerationPolicies({});
    const engine = cpuModerationEngine(
      { task: 'moderation', tier: 'cpu', kind: 'cpu', model: 'nsfw', input: { square: 224 } },
      deps(page),
    );
    const answer = await engine.run(
      request({ policy: { name: 'default', policy: policies.get('default')! } }),
    );
    expect(answer.result).toMatchObject({
      decision: 'block',
      policy: 'default',
      triggeredBy: ['text.contact_info'],
      categories: [
        {
          id: 'text.contact_info',
          confidence: 0.93,
          evidence: { quote: '+44 20 7946 0958', box: { x: 50, y: 20 } },
        },
      ],
    });
    expect(answer.needsGpuTier).toContain('violence.graphic');
    expect(answer.needsGpuTier).not.toContain('sexual.explicit');
  });

  it('refuses to start after the deadline', async () => {
    const engine = cpuModerationEngine(
      { task: 'moderation', tier: 'cpu', kind: 'cpu', model: 'nsfw', input: { square: 224 } },
      deps(),
    );
    const policy = { name: 'default', policy: loadModerationPolicies({}).get('default')! };
    const expired = AbortSignal.abort();
    await expect(engine.run(request({ policy }, expired))).rejects.toMatchObject({
      code: 'INFERENCE_TIMEOUT',
    });
  });
});
