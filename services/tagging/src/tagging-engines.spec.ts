import { loadProductCategories } from '@argus/config';
import type { AttributeSchemas, TaggingOptions, TaggingResult } from '@argus/contracts';
import type { ImageMeasurements } from '@argus/imaging';
import {
  deriveNumPredict,
  ImageContext,
  type EngineDependencies,
  type EngineRequest,
  type EngineSpec,
  type OcrPage,
  type VisionChatRequest,
  type VisionChatResult,
} from '@argus/inference';
import { TAGGING_PROMPT } from './prompt';
import {
  cpuTaggingEngine,
  ollamaTaggingEngine,
  planTagging,
  taggingOutput,
  taggingPrompt,
  toStoredPixels,
} from './tagging-engines';

const TAXONOMY = ['apparel/shoes', 'apparel/shoes/sneakers', 'grocery/beverages', 'grocery/beverages/water'];

const measurements: ImageMeasurements = {
  width: 2016,
  height: 1512,
  dominantColours: [
    { name: 'navy', hex: '#1c2a4d', share: 0.7 },
    { name: 'white', hex: '#ffffff', share: 0.3 },
  ],
  exposure: { meanLuminance: 0.4, shadowsClipped: 0, highlightsClipped: 0, verdict: 'ok' },
  sharpness: { laplacianVariance: 300, verdict: 'ok' },
};

/** Tesseract's page for a label reading "ACME" (tall) over "500 ml"; boxes are halved back by the OCR scale of 2. */
function labelPage(): OcrPage {
  const word = (text: string, y: number, height: number) => ({
    text,
    confidence: 0.93,
    box: { x: 100, y, width: text.length * height, height },
  });
  const acme = word('ACME', 100, 180);
  const size = [word('500', 400, 60), word('ml', 400, 60)];
  return {
    text: 'ACME\n500 ml',
    confidence: 0.93,
    words: [acme, ...size],
    lines: [
      { text: 'ACME', confidence: 0.93, box: acme.box, words: [acme] },
      { text: '500 ml', confidence: 0.93, box: { x: 100, y: 400, width: 400, height: 60 }, words: size },
    ],
  };
}

const emptyPage: OcrPage = { text: '', confidence: 0, words: [], lines: [] };

interface Fakes {
  deps: EngineDependencies;
  chats: VisionChatRequest[];
}

/** An Ollama that answers each chat with the next scripted content (the last one repeats). */
function fakes(answers: Array<string | object>, page: OcrPage = labelPage()): Fakes {
  const chats: VisionChatRequest[] = [];
  const deps: EngineDependencies = {
    processor: {
      // The model input is half the stored image, as the catalog's 1008 px long side makes of a 2016 px photo.
      resizeForModel: () =>
        Promise.resolve({ data: Buffer.from('jpeg'), mime: 'image/jpeg', width: 1008, height: 756 }),
      toRawRgb: () => Promise.reject(new Error('unused')),
      // The face detector's input: the 2016×1512 stored image at 640 px.
      toUprightRgb: () =>
        Promise.resolve({ data: Buffer.alloc(640 * 480 * 3), width: 640, height: 480, scale: 640 / 2016 }),
      prepareForOcr: () => Promise.resolve({ data: Buffer.from('png'), scale: 2, width: 4032, height: 3024 }),
      measure: () => Promise.resolve(measurements),
      decodeForMeasurement: () => Promise.reject(new Error('unused')),
    },
    nsfw: () => ({ classify: () => Promise.reject(new Error('unused')) }),
    tesseract: () => ({ recognize: () => Promise.resolve(page) }),
    faces: () => ({ detect: () => Promise.resolve([]) }),
    ollama: () => ({
      chat: (request: VisionChatRequest): Promise<VisionChatResult> => {
        chats.push(request);
        const answer = answers[Math.min(chats.length - 1, answers.length - 1)];
        return Promise.resolve({
          content: typeof answer === 'string' ? answer : JSON.stringify(answer),
          doneReason: 'stop',
          model: 'qwen2.5vl:7b',
          usage: { inputTokens: 1000, outputTokens: 100 },
          seconds: { total: 1, load: 0, prompt: 0.5, eval: 0.5 },
        });
      },
    }),
  };
  return { deps, chats };
}

const spec: EngineSpec = {
  task: 'tagging',
  tier: 'medium',
  kind: 'ollama',
  model: 'qwen2.5vl:7b',
  input: { longSide: 1008 },
};

const modelAnswer = (overrides: Record<string, unknown> = {}) => ({
  category: 'grocery/beverages/water',
  attributes: { material: 'plastic', pattern: 'solid', brand: 'Acme Corp', colour: 'blue' },
  condition: 'new',
  defects: [],
  photo: { productCount: 1, props: false, placeholder: false },
  confidence: 0.9,
  ...overrides,
});

/** One request: the image in its own context, and the tagging options (none by default). */
function request(tagging: TaggingOptions = {}): EngineRequest<TaggingOptions> {
  const image = Buffer.from('img');
  return { image, context: ImageContext.of(image), signal: new AbortController().signal, options: tagging };
}

async function tag(answers: Array<string | object>, tagging?: TaggingOptions, page?: OcrPage) {
  const { deps, chats } = fakes(answers, page);
  const engine = ollamaTaggingEngine(spec, deps, TAXONOMY);
  const answer = await engine.run(request(tagging));
  return { answer, result: answer.result as TaggingResult, chats };
}

const sleeveSchema: AttributeSchemas[string] = {
  type: 'object',
  properties: {
    sleeve: { type: 'string', enum: ['short', 'long'] },
    pockets: { type: 'integer', minimum: 0 },
  },
  required: ['sleeve'],
};
const shoeSchema: AttributeSchemas[string] = {
  type: 'object',
  properties: { closure: { type: 'string', enum: ['laces', 'velcro', 'slip-on'] } },
  required: ['closure'],
};

describe('planTagging', () => {
  it("asks the taxonomy's paths, or the caller's list instead", () => {
    expect(planTagging(undefined, TAXONOMY)).toMatchObject({ categories: TAXONOMY, followUp: false });
    expect(planTagging({ categories: ['wine/red', 'wine/white'] }, TAXONOMY)).toMatchObject({
      categories: ['wine/red', 'wine/white'],
      callerCategories: true,
    });
  });

  it('asks the attribute schema up front when it does not depend on the answer', () => {
    expect(planTagging({ attributeSchemas: { '*': sleeveSchema } }, TAXONOMY).upfront?.key).toBe('*');
    const byListing = planTagging(
      {
        attributeSchemas: { apparel: sleeveSchema, 'apparel/shoes': shoeSchema },
        listing: { category: 'apparel/shoes/sneakers' },
      },
      TAXONOMY,
    );
    expect(byListing).toMatchObject({ upfront: { key: 'apparel/shoes' }, followUp: false });
    const coversAll = planTagging(
      {
        categories: ['apparel/shoes/boots', 'apparel/shoes/sneakers'],
        attributeSchemas: { 'apparel/shoes': shoeSchema },
      },
      TAXONOMY,
    );
    expect(coversAll.upfront?.key).toBe('apparel/shoes');
  });

  it('plans a second call when the schema depends on the category, and none when no schema can apply', () => {
    expect(planTagging({ attributeSchemas: { 'apparel/shoes': shoeSchema } }, TAXONOMY)).toMatchObject({
      followUp: true,
    });
    expect(planTagging({ attributeSchemas: { toys: shoeSchema } }, TAXONOMY)).toMatchObject({
      followUp: false,
    });
    expect(planTagging({ attributeSchemas: { toys: shoeSchema } }, TAXONOMY).upfront).toBeUndefined();
  });
});

describe('the output schema and prompt', () => {
  it('constrains category to the enum and adds the parts the request asks for', () => {
    const plan = planTagging(
      { attributeSchemas: { '*': sleeveSchema }, listing: { title: 'ACME water', colour: 'blue' } },
      TAXONOMY,
    );
    const { format, schema } = taggingOutput(plan);
    const properties = format.properties as Record<string, Record<string, unknown>>;
    expect(properties.category.enum).toEqual(TAXONOMY);
    expect(properties.customAttributes).toMatchObject({ type: 'object', required: ['sleeve'] });
    expect(properties.listing).toMatchObject({ required: ['titleMatches', 'note'] });
    expect(format.required).toEqual(
      expect.arrayContaining(['category', 'photo', 'customAttributes', 'listing']),
    );
    expect(
      schema.safeParse({
        ...modelAnswer(),
        category: 'toys',
        customAttributes: { sleeve: 'long' },
        listing: { titleMatches: true, note: '' },
      }).success,
    ).toBe(false);
  });

  it('keeps the shipped taxonomy format small', () => {
    const format = taggingOutput(planTagging(undefined, loadProductCategories().paths)).format;
    expect(JSON.stringify(format).length).toBeLessThan(8_000);
  });

  it('quotes the categories and the listing in the prompt, but not a huge caller list', () => {
    const plan = planTagging(
      { listing: { title: 'Blue "runner" sneakers', category: 'apparel/shoes' } },
      TAXONOMY,
    );
    const prompt = taggingPrompt('BASE', plan);
    expect(prompt).toContain('apparel/shoes/sneakers\ngrocery/beverages');
    expect(prompt).toContain('title "Blue \\"runner\\" sneakers" and category "apparel/shoes"');
    expect(prompt).toContain('listing.titleMatches');
    const huge = Array.from({ length: 1000 }, (_, i) => `catalogue/department-${i}/aisle-${i}`);
    expect(taggingPrompt('BASE', planTagging({ categories: huge }, TAXONOMY))).toContain(
      'one of the 1000 paths the schema allows',
    );
  });
});

describe('toStoredPixels', () => {
  it('scales a box from the model input back to the stored image', () => {
    expect(
      toStoredPixels(
        { x: 100, y: 50, width: 200, height: 100 },
        { width: 1008, height: 756 },
        { width: 2016, height: 1512 },
      ),
    ).toEqual({
      x: 200,
      y: 100,
      width: 400,
      height: 200,
    });
  });

  it('scales each axis on its own for a family size sent with fit fill', () => {
    // 2048×1536 sent to qwen2.5vl at 1148×840: × 2048/1148 across, × 1536/840 down, no padding.
    expect(
      toStoredPixels(
        { x: 287, y: 210, width: 574, height: 420 },
        { width: 1148, height: 840 },
        { width: 2048, height: 1536 },
        'fill',
      ),
    ).toEqual({ x: 512, y: 384, width: 1024, height: 768 });
  });

  it('takes the padding of a square input off, and clamps to the image', () => {
    // 1600×800 into 896² is scaled by 0.56 to 896×448 with 224 px of white above and below.
    expect(
      toStoredPixels(
        { x: 0, y: 224, width: 448, height: 224 },
        { width: 896, height: 896 },
        { width: 1600, height: 800 },
      ),
    ).toEqual({
      x: 0,
      y: 0,
      width: 800,
      height: 400,
    });
    expect(
      toStoredPixels(
        { x: 800, y: 600, width: 400, height: 400 },
        { width: 1008, height: 756 },
        { width: 2016, height: 1512 },
      ),
    ).toEqual({
      x: 1600,
      y: 1200,
      width: 416,
      height: 312,
    });
    expect(
      toStoredPixels(
        { x: 1100, y: 10, width: 50, height: 50 },
        { width: 1008, height: 756 },
        { width: 2016, height: 1512 },
      ),
    ).toBeUndefined();
  });
});

describe('ollama tagging engine', () => {
  it('looks for faces once per request context, while the model answers', async () => {
    const { deps } = fakes([modelAnswer()]);
    let detections = 0;
    deps.faces = () => ({
      detect: () => {
        detections += 1;
        return Promise.resolve([
          { box: { x: 10, y: 20, width: 30, height: 40 }, boxScore: 0.8, meshScore: 0.95 },
        ]);
      },
    });
    const engine = ollamaTaggingEngine(spec, deps, TAXONOMY);
    const answer = await engine.run(request());
    expect(detections).toBe(1);
    expect((answer.result as TaggingResult).people).toMatchObject({ faces: 1, engine: 'blazeface' });

    // Another request looks again, even for the same bytes: nothing is shared between requests.
    await engine.run(request());
    expect(detections).toBe(2);
  });

  it('resizes the image once per request context, for both calls and the box scaling', async () => {
    const { deps, chats } = fakes([
      modelAnswer({ category: 'apparel/shoes/sneakers' }),
      { customAttributes: { closure: 'laces' } },
      modelAnswer(),
    ]);
    const resize = deps.processor.resizeForModel;
    let resizes = 0;
    deps.processor.resizeForModel = (...args) => {
      resizes += 1;
      return resize(...args);
    };
    const engine = ollamaTaggingEngine(spec, deps, TAXONOMY);
    await engine.run(request({ attributeSchemas: { 'apparel/shoes': shoeSchema } }));
    expect(chats).toHaveLength(2);
    expect(resizes).toBe(1);

    // Another request resizes again, even for the same bytes.
    await engine.run(request());
    expect(resizes).toBe(2);
  });

  it("takes colour from measurements, size from OCR, and never puts OCR's brand over the model's", async () => {
    const { result, chats } = await tag([modelAnswer()]);
    expect(chats).toHaveLength(1);
    expect(result.attributes).toEqual({
      material: 'plastic',
      pattern: 'solid',
      brand: 'Acme Corp',
      size: '500 ml',
      colour: 'navy',
    });
    expect(result.attributeSources).toEqual({
      material: 'model',
      pattern: 'model',
      brand: 'model',
      size: 'ocr',
      colour: 'measured',
    });
    expect(result).toMatchObject({ category: 'grocery/beverages/water', customAttributes: null });
    // The faces come from the embedded detector on GPU tiers too; the model is not asked about people.
    expect(result.people).toEqual({ faces: 0, boxes: [], engine: 'blazeface' });
    expect((chats[0].format.properties as Record<string, { enum?: string[] }>).category.enum).toEqual(
      TAXONOMY,
    );
    expect(chats[0].prompt).toContain('Allowed categories');
  });

  it('takes the brand from OCR when the model names none', async () => {
    const { result } = await tag([modelAnswer({ attributes: { material: 'plastic' } })]);
    expect(result.attributes).toMatchObject({ brand: 'ACME' });
    expect(result.attributeSources).toMatchObject({ brand: 'ocr' });
  });

  it("uses the model's brand when OCR read none, and drops values the model could not tell", async () => {
    const { result } = await tag(
      [modelAnswer({ attributes: { Brand: 'Acme Corp', Material: 'unknown', Pattern: 'striped' } })],
      undefined,
      emptyPage,
    );
    expect(result.attributes).toEqual({ brand: 'Acme Corp', pattern: 'striped', colour: 'navy' });
    expect(result.attributeSources).toMatchObject({ brand: 'model', pattern: 'model' });
  });

  it('repairs a category outside the enum once, then gives up with INVALID_MODEL_OUTPUT', async () => {
    const repaired = await tag([modelAnswer({ category: 'wine/red' }), modelAnswer()]);
    expect(repaired.chats).toHaveLength(2);
    expect(repaired.result.category).toBe('grocery/beverages/water');
    await expect(tag([modelAnswer({ category: 'wine/red' })])).rejects.toMatchObject({
      code: 'INVALID_MODEL_OUTPUT',
    });
  });

  it('scales defect boxes to the stored image and drops boxes outside it', async () => {
    const { result } = await tag([
      modelAnswer({
        condition: 'damaged',
        defects: [
          {
            type: 'dent',
            severity: 'major',
            confidence: 0.8,
            box: { x: 500, y: 300, width: 100, height: 60 },
          },
          {
            type: 'scratch',
            severity: 'minor',
            confidence: 0.6,
            box: { x: 2000, y: 2000, width: 5, height: 5 },
          },
          { type: 'stain', severity: 'minor', confidence: 0.5 },
        ],
      }),
    ]);
    expect(result.defects).toEqual([
      { type: 'dent', severity: 'major', confidence: 0.8, box: { x: 1000, y: 600, width: 200, height: 120 } },
      { type: 'scratch', severity: 'minor', confidence: 0.6 },
      { type: 'stain', severity: 'minor', confidence: 0.5 },
    ]);
  });

  it('asks a known attribute schema in the one call and validates the values', async () => {
    const tagging = { attributeSchemas: { '*': sleeveSchema } };
    const { result, chats } = await tag(
      [modelAnswer({ customAttributes: { sleeve: 'long', pockets: 2 } })],
      tagging,
    );
    expect(chats).toHaveLength(1);
    expect(chats[0].prompt).toContain('"sleeve"');
    expect(result.customAttributes).toEqual({ schema: '*', values: { sleeve: 'long', pockets: 2 } });
    await expect(
      tag([modelAnswer({ customAttributes: { sleeve: 'sleeveless' } })], tagging),
    ).rejects.toMatchObject({
      code: 'INVALID_MODEL_OUTPUT',
    });
  });

  it('asks a second, small call when the schema depends on the category the model named', async () => {
    const tagging = { attributeSchemas: { 'apparel/shoes': shoeSchema, grocery: sleeveSchema } };
    const { answer, result, chats } = await tag(
      [modelAnswer({ category: 'apparel/shoes/sneakers' }), { customAttributes: { closure: 'laces' } }],
      tagging,
    );
    expect(chats).toHaveLength(2);
    expect(chats[0].format.properties).not.toHaveProperty('customAttributes');
    expect(Object.keys(chats[1].format.properties as object)).toEqual(['customAttributes']);
    expect(chats[1].prompt).toContain('"apparel/shoes/sneakers"');
    expect(result.customAttributes).toEqual({ schema: 'apparel/shoes', values: { closure: 'laces' } });
    expect(result.category).toBe('apparel/shoes/sneakers');
    expect(answer.usage).toMatchObject({ inputTokens: 2000, outputTokens: 200 });
  });

  it('reads percent confidences as 0-1 and says so in warnings', async () => {
    const { answer, result } = await tag([
      modelAnswer({ confidence: 85, defects: [{ type: 'scratch', severity: 'minor', confidence: 60 }] }),
    ]);
    expect(result.confidence).toBe(0.85);
    expect(answer.confidence).toBe(0.85);
    expect(result.defects[0]?.confidence).toBe(0.6);
    expect(result.warnings).toHaveLength(2);
    expect(result.warnings?.[0]).toMatch(/^defects\[0\]\.confidence: the model answered 60/);
    expect(answer.normalised).toEqual(['defects[].confidence', 'confidence']);
  });

  it('answers the second call with one repair, then INVALID_MODEL_OUTPUT', async () => {
    const tagging = { attributeSchemas: { 'apparel/shoes': shoeSchema } };
    await expect(
      tag(
        [modelAnswer({ category: 'apparel/shoes/sneakers' }), { customAttributes: { closure: 'zip' } }],
        tagging,
      ),
    ).rejects.toMatchObject({
      code: 'INVALID_MODEL_OUTPUT',
      // Every call's tokens: the first, the follow-up and its repair.
      details: { usage: { inputTokens: 3000, outputTokens: 300 } },
    });
    const none = await tag([modelAnswer()], tagging);
    expect(none.chats).toHaveLength(1);
    expect(none.result.customAttributes).toBeNull();
  });

  it('judges the whole listing with the model, OCR and measurements', async () => {
    const { result, answer, chats } = await tag(
      [
        modelAnswer({
          listing: { titleMatches: false, categoryMatches: false, note: 'a bottle of water, not juice' },
        }),
      ],
      {
        listing: {
          title: 'ACME orange juice',
          category: 'grocery/beverages',
          colour: 'navy',
          brand: 'Acme',
          quantity: '0.5 L',
        },
      },
    );
    expect((chats[0].format.properties as Record<string, unknown>).listing).toBeDefined();
    expect(chats[0].prompt).toContain('"ACME orange juice"');
    expect(result.consistency?.checks.map((c) => [c.field, c.matches, c.judgedBy])).toEqual([
      ['title', false, 'model'],
      ['category', true, 'model'],
      ['colour', true, 'measured'],
      ['brand', true, 'ocr'],
      ['quantity', true, 'ocr'],
    ]);
    expect(result.consistency?.passed).toBe(false);
    expect(answer.needsGpuTier).toEqual([]);
  });
});

describe('cpu tagging engine', () => {
  const cpuSpec: EngineSpec = {
    task: 'tagging',
    tier: 'cpu',
    kind: 'cpu',
    model: 'sharp',
    input: { longSide: 1024 },
  };

  async function cpu(tagging?: TaggingOptions, page?: OcrPage) {
    const engine = cpuTaggingEngine(cpuSpec, fakes([], page).deps);
    return engine.run(request(tagging));
  }

  it('reports measurements and names what needs a vision model when no text was read', async () => {
    const answer = await cpu({}, emptyPage);
    expect(answer.result).toMatchObject({
      category: null,
      attributes: { colour: 'navy' },
      colours: measurements.dominantColours,
    });
    expect(answer.needsGpuTier).toEqual(expect.arrayContaining(['category', 'condition', 'defects']));
  });

  it('reads brand and size from the text and says what needs a vision model', async () => {
    const answer = await cpu();
    expect((answer.result as TaggingResult).attributes).toEqual({
      colour: 'navy',
      brand: 'ACME',
      size: '500 ml',
    });
    expect((answer.result as TaggingResult).attributeSources).toEqual({
      colour: 'measured',
      brand: 'ocr',
      size: 'ocr',
    });
    expect(answer.needsGpuTier).toEqual([
      'category',
      'condition',
      'defects',
      'attributes.material',
      'attributes.pattern',
    ]);
  });

  it('leaves custom attributes and the model-judged listing fields to a GPU tier', async () => {
    const answer = await cpu({
      attributeSchemas: { '*': sleeveSchema },
      listing: { title: 'ACME water', category: 'grocery', colour: 'red', brand: 'ACME', quantity: '500 ml' },
    });
    const result = answer.result as TaggingResult;
    expect(result.customAttributes).toBeNull();
    expect(result.consistency?.checks.map((c) => [c.field, c.matches, c.judgedBy])).toEqual([
      ['title', null, 'none'],
      ['category', null, 'none'],
      ['colour', false, 'measured'],
      ['brand', true, 'ocr'],
      ['quantity', true, 'ocr'],
    ]);
    expect(result.consistency?.passed).toBe(false);
    expect(answer.needsGpuTier).toEqual(
      expect.arrayContaining(['customAttributes', 'listing.title', 'listing.category']),
    );
  });

  it('reports the faces the detector found, with boxes in stored-image pixels', async () => {
    const { deps } = fakes([]);
    const seen: Array<{ width: number; height: number }> = [];
    deps.faces = () => ({
      detect: (rgb, source) => {
        seen.push({ width: rgb.width, height: rgb.height }, source ?? rgb);
        return Promise.resolve([
          { box: { x: 700, y: 300, width: 200, height: 240 }, boxScore: 0.91, meshScore: 0.99 },
        ]);
      },
    });
    const answer = await cpuTaggingEngine(cpuSpec, deps).run(request());
    expect(seen).toEqual([
      { width: 640, height: 480 },
      { width: 2016, height: 1512 },
    ]);
    expect((answer.result as TaggingResult).people).toEqual({
      faces: 1,
      boxes: [{ x: 700, y: 300, width: 200, height: 240, confidence: 0.91 }],
      engine: 'blazeface',
    });
    expect(answer.needsGpuTier).not.toContain('people');
  });

  it('answers without faces (people null) when the detector fails', async () => {
    const { deps } = fakes([]);
    deps.faces = () => ({ detect: () => Promise.reject(new Error('wasm out of memory')) });
    const answer = await cpuTaggingEngine(cpuSpec, deps).run(request());
    const result = answer.result as TaggingResult;
    expect(result.people).toBeNull();
    expect(result.attributes).toMatchObject({ colour: 'navy', brand: 'ACME' });
  });

  it('asks a GPU tier for brand and size when the text could not be read', async () => {
    const { deps } = fakes([]);
    deps.tesseract = () => ({ recognize: () => Promise.reject(new Error('tesseract crashed')) });
    const answer = await cpuTaggingEngine(cpuSpec, deps).run(request());
    expect(answer.needsGpuTier).toEqual(expect.arrayContaining(['attributes.brand', 'attributes.size']));
    expect((answer.result as TaggingResult).attributes).toEqual({ colour: 'navy' });
  });
});

describe('the tagging engine factories', () => {
  it.each([
    ['cpu', cpuTaggingEngine],
    ['ollama', (s: EngineSpec, d: EngineDependencies) => ollamaTaggingEngine(s, d, ['apparel'])],
  ] as const)('build the engine of a %s tier from its spec', (kind, factory) => {
    const tier = kind === 'cpu' ? 'cpu' : 'small';
    const engine = factory(
      { task: 'tagging', tier, kind, model: `tagging-${kind}-model`, input: { longSide: 1024 } },
      fakes([]).deps,
    );
    expect(engine).toMatchObject({ task: 'tagging', kind, tier, model: `tagging-${kind}-model` });
  });

  it('names the tagging prompt version', () => {
    expect(ollamaTaggingEngine(spec, fakes([]).deps, TAXONOMY).promptVersion).toBe(TAGGING_PROMPT.version);
  });

  it("derives tagging's output bound from its schema (docs/inference.md lists these values)", () => {
    // The shipped tiers all run num_ctx 8192, so the cap is 2048 on each.
    const taxonomy = ['apparel/shoes/sneakers', 'grocery/beverages/water', 'home/kitchen/cookware/pans'];
    const tagging = deriveNumPredict(taggingOutput(planTagging(undefined, taxonomy)).format, 8192);
    expect(tagging).toBeGreaterThan(1000);
    expect(tagging).toBeLessThan(2048);
  });
});
