import { loadModerationPolicies } from '@argus/config';
import type { ModerationHit, ModerationResult } from '@argus/contracts';
import { ImageContext, type EngineDependencies, type NsfwScores, type OcrPage } from '@argus/inference';
import {
  cpuModerationEngine,
  moderationAnswer,
  NSFW_EVIDENCE,
  nsfwHits,
  ollamaModerationEngine,
} from './moderation-engines';
import { MODERATION_PROMPT } from './prompt';

const policies = loadModerationPolicies({});
const policy = (name: string) => ({ name, policy: policies.get(name)! });

const scores = (overrides: Partial<NsfwScores>): NsfwScores => ({
  drawing: 0,
  hentai: 0,
  neutral: 0,
  porn: 0,
  sexy: 0,
  ...overrides,
});

/** nsfwjs' scores for real safe photos, measured with the engine's own resize (docs/moderation.md, "Calibration"). */
const SAFE_PHOTOS: ReadonlyArray<[string, NsfwScores]> = [
  ['a yellow flower close-up', { drawing: 0.007, hentai: 0.035, neutral: 0.106, porn: 0.759, sexy: 0.092 }],
  ['the back of a hand', { drawing: 0.003, hentai: 0.012, neutral: 0.215, porn: 0.715, sexy: 0.056 }],
  [
    'a woman dancing in jeans and a top',
    { drawing: 0.031, hentai: 0.002, neutral: 0.241, porn: 0.021, sexy: 0.704 },
  ],
  [
    'a shirtless didgeridoo player',
    { drawing: 0.007, hentai: 0.004, neutral: 0.351, porn: 0.088, sexy: 0.551 },
  ],
  ['a drawn forest', { drawing: 0.29, hentai: 0.638, neutral: 0.044, porn: 0.025, sexy: 0.003 }],
  ['a basketball court', { drawing: 0.026, hentai: 0.001, neutral: 0.667, porn: 0.017, sexy: 0.288 }],
  // issue 13: a footballer in full kit
  ['a footballer in full kit', { drawing: 0.01, hentai: 0.01, neutral: 0.14, porn: 0.02, sexy: 0.82 }],
];

function cpuEngine(nsfw: NsfwScores, lines: OcrPage['lines'] = []) {
  const page: OcrPage = {
    text: lines.map((line) => line.text).join('\n'),
    confidence: 0.9,
    words: [],
    lines,
  };
  const deps: EngineDependencies = {
    processor: {
      resizeForModel: () => Promise.reject(new Error('unused')),
      toRawRgb: () => Promise.resolve({ data: Buffer.alloc(3), width: 1, height: 1 }),
      toUprightRgb: () => Promise.reject(new Error('unused')),
      prepareForOcr: () => Promise.resolve({ data: Buffer.from('png'), scale: 1, width: 800, height: 600 }),
      measure: () => Promise.reject(new Error('unused')),
      decodeForMeasurement: () => Promise.reject(new Error('unused')),
    },
    nsfw: () => ({ classify: () => Promise.resolve(nsfw) }),
    tesseract: () => ({ recognize: () => Promise.resolve(page) }),
    faces: () => ({ detect: () => Promise.reject(new Error('unused')) }),
    ollama: () => ({ chat: () => Promise.reject(new Error('unused')) }),
  };
  return cpuModerationEngine(
    { task: 'moderation', tier: 'cpu', kind: 'cpu', model: 'nsfw', input: { square: 224 } },
    deps,
  );
}

async function moderate(nsfw: NsfwScores, policyName: string, lines?: OcrPage['lines']) {
  const image = Buffer.from('img');
  const answer = await cpuEngine(nsfw, lines).run({
    image,
    context: ImageContext.of(image),
    signal: new AbortController().signal,
    options: { policy: policy(policyName) },
  });
  return answer.result as ModerationResult;
}

describe('nsfwHits', () => {
  it.each(SAFE_PHOTOS)('finds nothing in %s, and keeps the reading as a weak signal', (_photo, reading) => {
    const { found, weak } = nsfwHits(reading);
    expect(found).toEqual([]);
    expect(weak.length).toBeGreaterThan(0);
    for (const signal of weak) expect(signal.evidence.rationale).toMatch(/under the 90% the CPU tier needs/);
  });

  it('finds explicit content from Porn and Hentai together, at the evidence level', () => {
    expect(nsfwHits(scores({ porn: 0.6, hentai: 0.3, neutral: 0.1 })).found).toEqual([
      {
        id: 'sexual.explicit',
        confidence: NSFW_EVIDENCE.explicit,
        evidence: { rationale: 'nsfwjs: Porn 60%, Hentai 30%' },
      },
    ]);
    expect(nsfwHits(scores({ porn: 0.6, hentai: 0.29, neutral: 0.11 })).found).toEqual([]);
  });

  it('finds suggestive content from Sexy at the evidence level', () => {
    expect(nsfwHits(scores({ sexy: 0.9, neutral: 0.1 })).found).toEqual([
      { id: 'sexual.suggestive', confidence: 0.9, evidence: { rationale: 'nsfwjs: Sexy 90%' } },
    ]);
    expect(nsfwHits(scores({ sexy: 0.89, neutral: 0.11 })).found).toEqual([]);
  });

  it('reports nothing at all, not even a signal, for readings under 5%', () => {
    expect(nsfwHits(scores({ neutral: 0.95, porn: 0.03, sexy: 0.02 }))).toEqual({ found: [], weak: [] });
  });
});

describe('CPU moderation under the shipped policies', () => {
  it.each(
    SAFE_PHOTOS.flatMap(([photo, reading]) => [
      ['default', photo, reading] as const,
      ['strict', photo, reading] as const,
    ]),
  )('%s: allows %s, lists no category and says it found nothing', async (policyName, _photo, reading) => {
    const result = await moderate(reading, policyName);
    expect(result.decision).toBe('allow');
    expect(result.categories).toEqual([]);
    expect(result.triggeredBy).toEqual([]);
    expect(result.reason).not.toMatch(/Found/);
    expect(result.signals?.map((signal) => signal.id)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^sexual\./)]),
    );
  });

  it.each([
    ['default', 'block'],
    ['strict', 'block'],
  ])('%s: blocks what nsfwjs clearly reads as explicit', async (policyName, decision) => {
    const result = await moderate(
      scores({ porn: 0.95, hentai: 0.02, sexy: 0.02, neutral: 0.01 }),
      policyName,
    );
    expect(result).toMatchObject({
      decision,
      triggeredBy: ['sexual.explicit'],
      categories: [{ id: 'sexual.explicit', confidence: 0.97 }],
      reason: 'Found sexual.explicit on the CPU tier.',
    });
    expect(result.signals).toBeUndefined();
  });

  it.each([
    ['default', 'review'],
    ['strict', 'block'],
  ])('%s: decides by the policy on what nsfwjs clearly reads as suggestive', async (policyName, decision) => {
    const result = await moderate(scores({ sexy: 0.93, neutral: 0.05, porn: 0.02 }), policyName);
    expect(result).toMatchObject({ decision, triggeredBy: ['sexual.suggestive'] });
  });

  it('finds contact details beside a weak nsfwjs reading, which stays a signal', async () => {
    const box = { x: 10, y: 20, width: 300, height: 40 };
    const result = await moderate(SAFE_PHOTOS[0][1], 'default', [
      {
        text: 'Call 555-0199',
        confidence: 0.9,
        box,
        words: [
          { text: 'Call', confidence: 0.9, box: { x: 10, y: 20, width: 80, height: 40 } },
          { text: '555-0199', confidence: 0.9, box: { x: 100, y: 20, width: 210, height: 40 } },
        ],
      },
    ]);
    expect(result).toMatchObject({
      decision: 'block',
      triggeredBy: ['text.contact_info'],
      categories: [
        {
          id: 'text.contact_info',
          evidence: { quote: '555-0199', box: { x: 100, y: 20, width: 210, height: 40 } },
        },
      ],
      reason: 'Found text.contact_info on the CPU tier.',
    });
    expect(result.signals?.map((signal) => signal.id)).toEqual(['sexual.explicit', 'sexual.suggestive']);
  });
});

describe('moderationAnswer (every tier)', () => {
  const hit = (id: string, confidence: number): ModerationHit => ({
    id,
    confidence,
    evidence: { rationale: 'model' },
  });

  it("moves a vision model's hits under the review threshold to signals, out of the decision", () => {
    const answer = moderationAnswer(
      policy('default'),
      [hit('sexual.explicit', 0.41), hit('alcohol.beverages', 0.85)],
      'A bottle of wine on a table.',
      0.9,
      'all',
    );
    expect(answer.result).toEqual({
      decision: 'review',
      policy: 'default',
      triggeredBy: ['alcohol.beverages'],
      categories: [hit('alcohol.beverages', 0.85)],
      signals: [hit('sexual.explicit', 0.41)],
      reason: 'A bottle of wine on a table.',
      confidence: 0.9,
    });
  });

  it('leaves signals out when there are none', () => {
    const answer = moderationAnswer(policy('default'), [], 'Nothing.', 0.9, 'all');
    expect(answer.result).not.toHaveProperty('signals');
    expect(answer.result.decision).toBe('allow');
  });
});

describe('the moderation engine factories', () => {
  const box = { x: 100, y: 40, width: 200, height: 60 };
  const word = (text: string, confidence: number) => ({ text, confidence, box });

  function deps(page?: OcrPage): EngineDependencies {
    return {
      processor: {
        resizeForModel: () => Promise.reject(new Error('unused')),
        toRawRgb: () => Promise.resolve({ data: Buffer.alloc(3), width: 1, height: 1 }),
        toUprightRgb: () => Promise.resolve({ data: Buffer.alloc(3), width: 1, height: 1, scale: 1 }),
        prepareForOcr: () =>
          Promise.resolve({ data: Buffer.from('png'), scale: 2, width: 1600, height: 1200 }),
        measure: () => Promise.reject(new Error('unused')),
        decodeForMeasurement: () => Promise.reject(new Error('unused')),
      },
      nsfw: () => ({ classify: () => Promise.resolve(scores({ neutral: 1 })) }),
      tesseract: () => ({ recognize: () => Promise.resolve(page!) }),
      faces: () => ({ detect: () => Promise.resolve([]) }),
      ollama: () => ({ chat: () => Promise.reject(new Error('unused')) }),
    };
  }

  const cpuSpec = {
    task: 'moderation',
    tier: 'cpu',
    kind: 'cpu',
    model: 'nsfw',
    input: { square: 224 },
  } as const;

  function run(page: OcrPage | undefined, signal = new AbortController().signal) {
    const image = Buffer.from('img');
    return cpuModerationEngine(cpuSpec, deps(page)).run({
      image,
      context: ImageContext.of(image),
      signal,
      options: { policy: policy('default') },
    });
  }

  it.each([
    ['cpu', cpuModerationEngine],
    ['ollama', ollamaModerationEngine],
  ] as const)('build the engine of a %s tier from its spec', (kind, factory) => {
    const tier = kind === 'cpu' ? 'cpu' : 'small';
    const engine = factory(
      { task: 'moderation', tier, kind, model: `moderation-${kind}-model`, input: { longSide: 1024 } },
      deps(),
    );
    expect(engine).toMatchObject({ task: 'moderation', kind, tier, model: `moderation-${kind}-model` });
  });

  it('sends the moderation prompt and names its version', () => {
    const engine = ollamaModerationEngine(
      { task: 'moderation', tier: 'small', kind: 'ollama', model: 'm', input: { longSide: 1024 } },
      deps(),
    );
    expect(engine.promptVersion).toBe(MODERATION_PROMPT.version);
  });

  it('finds contact details in the text on the CPU, quotes them, and decides by the policy', async () => {
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
    const answer = await run(page);
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
    await expect(run(undefined, AbortSignal.abort())).rejects.toMatchObject({ code: 'INFERENCE_TIMEOUT' });
  });
});
