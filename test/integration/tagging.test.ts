// Product tagging end to end over real NATS, with the gateway and workers in process and the Ollama stand-in as the
// small tier: caller categories as the format's enum, caller attribute schemas (asked up front or in a second call),
// defect boxes in stored pixels, the vision-model compliance checks, and listing consistency on the CPU tier. The
// cache is off so every request reaches the engines.
import type { AnalyzeResponse, Problem, TaggingReply } from '@argus/contracts';
import { multipartBody, packshotJpeg } from '../support/fixtures';
import { startInProcessStack, type InProcessStack } from '../support/in-process-stack';
import { startNats, type NatsHarness } from '../support/nats-harness';
import { OllamaStandIn, type ChatScript, type RecordedChat } from '../support/ollama-stand-in';

jest.setTimeout(90_000);

const SMALL_MODEL = 'qwen2.5vl:3b';
let nats: NatsHarness;
let ollama: OllamaStandIn;
let stack: InProcessStack;
let packshot: Buffer;

type Tagging = Extract<TaggingReply, { status: 'ok' }>;

async function post(fields: Record<string, string>, image = packshot) {
  const response = await fetch(`${stack.gatewayUrl}/v1/analyze`, {
    method: 'POST',
    body: multipartBody(image, { tasks: 'tagging', ...fields }),
  });
  return { response, body: (await response.json()) as AnalyzeResponse & Problem };
}

async function postJson(body: Record<string, unknown>) {
  const response = await fetch(`${stack.gatewayUrl}/v1/analyze`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ imageBase64: packshot.toString('base64'), tasks: ['tagging'], ...body }),
  });
  return { response, body: (await response.json()) as AnalyzeResponse & Problem };
}

function tagging(body: AnalyzeResponse): Tagging {
  const reply = body.results.tagging;
  if (reply?.status !== 'ok') throw new Error(`tagging failed: ${JSON.stringify(reply)}`);
  return reply;
}

function properties(chat: RecordedChat): Record<string, Record<string, unknown>> {
  return (chat.format as { properties: Record<string, Record<string, unknown>> }).properties;
}

/** A schema-valid tagging answer, with overrides. */
function answer(overrides: Record<string, unknown> = {}): ChatScript {
  return {
    content: JSON.stringify({
      category: 'apparel/shoes/sneakers',
      attributes: { material: 'canvas', pattern: 'solid' },
      condition: 'new',
      defects: [],
      photo: { productCount: 1, props: false, placeholder: false },
      confidence: 0.9,
      ...overrides,
    }),
  };
}

const shoeSchema = {
  type: 'object',
  properties: { closure: { type: 'string', enum: ['laces', 'velcro', 'slip-on'] } },
  required: ['closure'],
};

/** Waits (bounded) until the tagging worker sees the small tier as ready: warming the CPU engines can delay it. */
async function untilReady(timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const state = (await (await fetch(`${await stack.workerUrl('tagging')}/readyz`)).json()) as {
      checks: Partial<Record<string, { ok: boolean }>>;
    };
    if (state.checks['tier.small']?.ok) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('the small tier did not become ready');
}

beforeAll(async () => {
  nats = await startNats();
  ollama = await OllamaStandIn.start({ models: [{ name: SMALL_MODEL }] });
  packshot = await packshotJpeg(0.9, 1200);
  stack = await startInProcessStack(nats.url, {
    OLLAMA_HOST: ollama.url,
    ARGUS_TIERS: 'small',
    ARGUS_CACHE_TTL_SECONDS: '0',
    ARGUS_TIER_CHECK_INTERVAL_MS: '500',
  });
  await untilReady();
});

afterEach(() => {
  ollama.script(undefined);
  ollama.reset();
});

afterAll(async () => {
  await stack.stop();
  await ollama.stop();
  await nats.stop();
});

describe('categories', () => {
  it("sends the caller's categories as the format's enum and repairs an answer outside them", async () => {
    let calls = 0;
    ollama.script(() => (calls++ === 0 ? answer({ category: 'grocery/beverages/beer' }) : undefined));
    const { response, body } = await post({ tier: 'small', categories: 'wine/red,wine/white' });
    expect(response.status).toBe(200);
    expect(ollama.chats).toHaveLength(2);
    expect(properties(ollama.chats[0]).category.enum).toEqual(['wine/red', 'wine/white']);
    expect(ollama.chats[0].prompt).toContain('wine/red\nwine/white');
    expect(ollama.chats[1].prompt).toContain('matches this schema exactly');
    // The stand-in answers the repair like a grammar-constrained model: the first value of the enum.
    expect(tagging(body).category).toBe('wine/red');
  });

  it('rejects an answer that stays outside them with INVALID_MODEL_OUTPUT', async () => {
    ollama.script(() => answer({ category: 'grocery/beverages/beer' }));
    const { response, body } = await post({ tier: 'small', categories: 'wine/red,wine/white' });
    expect(response.status).toBe(502);
    expect(body.results.tagging).toMatchObject({ status: 'error', error: { code: 'INVALID_MODEL_OUTPUT' } });
    expect(ollama.chats).toHaveLength(2);
  });

  it('uses the shipped taxonomy without a caller list', async () => {
    ollama.script(() => answer());
    const { body } = await post({ tier: 'small' });
    expect(properties(ollama.chats[0]).category.enum).toEqual(
      expect.arrayContaining(['apparel/shoes/sneakers', 'grocery/beverages/water', 'electronics/audio']),
    );
    expect(tagging(body).category).toBe('apparel/shoes/sneakers');
  });
});

describe('caller attribute schemas', () => {
  it('asks a schema that applies to any category in the one call and returns customAttributes', async () => {
    ollama.script(() => answer({ customAttributes: { closure: 'laces' } }));
    const { body } = await postJson({ tier: 'small', attributeSchemas: { '*': shoeSchema } });
    expect(ollama.chats).toHaveLength(1);
    expect(properties(ollama.chats[0]).customAttributes).toMatchObject({
      type: 'object',
      required: ['closure'],
    });
    expect(tagging(body).customAttributes).toEqual({ schema: '*', values: { closure: 'laces' } });
  });

  it('answers INVALID_MODEL_OUTPUT when the values break the schema after one repair', async () => {
    ollama.script(() => answer({ customAttributes: { closure: 'zip' } }));
    const { response, body } = await post({
      tier: 'small',
      attributeSchemas: JSON.stringify({ '*': shoeSchema }),
    });
    expect(response.status).toBe(502);
    expect(body.results.tagging).toMatchObject({ status: 'error', error: { code: 'INVALID_MODEL_OUTPUT' } });
    expect(ollama.chats).toHaveLength(2);
  });

  it('asks a second, small call when the schema depends on the category the model names', async () => {
    ollama.script((chat) =>
      'category' in properties(chat)
        ? answer({ category: 'apparel/shoes/sneakers' })
        : { content: JSON.stringify({ customAttributes: { closure: 'velcro' } }) },
    );
    const { body } = await postJson({
      tier: 'small',
      attributeSchemas: {
        'apparel/shoes': shoeSchema,
        grocery: { type: 'object', properties: { flavour: { type: 'string' } } },
      },
    });
    expect(ollama.chats).toHaveLength(2);
    expect(properties(ollama.chats[0])).not.toHaveProperty('customAttributes');
    expect(Object.keys(properties(ollama.chats[1]))).toEqual(['customAttributes']);
    expect(ollama.chats[1].prompt).toContain('"apparel/shoes/sneakers"');
    expect(tagging(body)).toMatchObject({
      category: 'apparel/shoes/sneakers',
      customAttributes: { schema: 'apparel/shoes', values: { closure: 'velcro' } },
    });
  });

  it('on the CPU tier answers customAttributes null and names it for a GPU tier', async () => {
    const { body } = await postJson({ tier: 'cpu', attributeSchemas: { '*': shoeSchema } });
    expect(tagging(body)).toMatchObject({ engine: 'cpu', customAttributes: null });
    expect(tagging(body).needsGpuTier).toContain('customAttributes');
  });
});

describe('defects', () => {
  it("scales the model's boxes to the stored image's pixels", async () => {
    // The 1200 px packshot is stored as is and sent to qwen2.5vl at 980 px (its rule under tagging's 1,003,520 px
    // budget: √(1200² ÷ 1,003,520) = 1.198, 1200 ÷ 1.198 ÷ 28 → 35 × 28): boxes grow by 1200/980 = 60/49.
    ollama.script(() =>
      answer({
        condition: 'damaged',
        defects: [
          {
            type: 'scratch',
            severity: 'minor',
            confidence: 0.7,
            box: { x: 49, y: 196, width: 490, height: 98 },
          },
        ],
      }),
    );
    const { body } = await post({ tier: 'small' });
    expect(ollama.chats[0].images[0]).toMatchObject({ width: 980, height: 980 });
    expect(tagging(body).defects).toEqual([
      {
        type: 'scratch',
        severity: 'minor',
        confidence: 0.7,
        box: { x: 60, y: 240, width: 600, height: 120 },
      },
    ]);
  });
});

describe('vision-model compliance checks', () => {
  it('are judged from the model on a GPU tier', async () => {
    ollama.script(() => answer({ photo: { productCount: 2, props: true, placeholder: false } }));
    const { body } = await post({ tier: 'small' });
    const { compliance, needsGpuTier } = tagging(body);
    const model = compliance.checks.filter((check) =>
      ['single_product', 'no_props', 'not_placeholder'].includes(check.id),
    );
    expect(model).toEqual([
      expect.objectContaining({ id: 'single_product', passed: false, value: 2, threshold: 1 }),
      expect.objectContaining({ id: 'no_props', passed: false, value: true }),
      expect.objectContaining({ id: 'not_placeholder', passed: true, value: false }),
    ]);
    expect(compliance.passed).toBe(false);
    expect(needsGpuTier).toEqual([]);
  });

  it("are left out on the CPU tier and named in needsGpuTier, per the profile's checks", async () => {
    const main = tagging((await post({ tier: 'cpu' })).body);
    expect(main.compliance.checks.map((check) => check.id)).not.toContain('single_product');
    expect(main.compliance.passed).toBe(true);
    expect(main.needsGpuTier).toEqual(
      expect.arrayContaining([
        'category',
        'compliance.single_product',
        'compliance.no_props',
        'compliance.not_placeholder',
      ]),
    );
    const secondary = tagging((await post({ tier: 'cpu', profile: 'marketplace-secondary' })).body);
    expect(secondary.needsGpuTier).toContain('compliance.not_placeholder');
    expect(secondary.needsGpuTier).not.toContain('compliance.no_props');
  });
});

describe('listing consistency', () => {
  it('on the CPU tier: a navy product listed as red mismatches; the brand ACME is read by OCR', async () => {
    const { response, body } = await post({
      tier: 'cpu',
      listing: JSON.stringify({ colour: 'red', brand: 'ACME', title: 'ACME navy box' }),
    });
    expect(response.status).toBe(200);
    const reply = tagging(body);
    expect(reply.attributes).toMatchObject({ brand: 'ACME' });
    expect(reply.attributeSources).toMatchObject({ brand: 'ocr', colour: 'measured' });
    expect(reply.consistency?.passed).toBe(false);
    expect(reply.consistency?.checks).toEqual([
      expect.objectContaining({ field: 'title', matches: null, judgedBy: 'none' }),
      expect.objectContaining({ field: 'colour', expected: 'red', matches: false, judgedBy: 'measured' }),
      expect.objectContaining({ field: 'brand', expected: 'ACME', matches: true, judgedBy: 'ocr' }),
    ]);
    expect(reply.needsGpuTier).toContain('listing.title');
  });

  it('on a GPU tier: quotes the title and category to the model and takes its verdicts', async () => {
    ollama.script(() =>
      answer({
        category: 'home-kitchen/home-decor',
        listing: { titleMatches: true, categoryMatches: false, note: 'a navy storage box' },
      }),
    );
    const { body } = await postJson({
      tier: 'small',
      listing: { title: 'ACME storage box', category: 'home-kitchen', colour: 'navy blue' },
    });
    expect(properties(ollama.chats[0]).listing).toBeDefined();
    expect(ollama.chats[0].prompt).toContain('"ACME storage box"');
    expect(tagging(body).consistency).toEqual({
      passed: true,
      checks: [
        expect.objectContaining({ field: 'title', matches: true, judgedBy: 'model' }),
        expect.objectContaining({
          field: 'category',
          matches: true,
          judgedBy: 'model',
          observed: 'home-kitchen/home-decor',
        }),
        expect.objectContaining({ field: 'colour', matches: true, judgedBy: 'measured' }),
      ],
    });
  });
});

describe('request validation', () => {
  it.each([
    ['an unknown listing field', { listing: { colour: 'red', size: 'M' } }, 'listing'],
    ['an empty listing', { listing: {} }, 'listing'],
    [
      'an attribute schema keyword outside the subset',
      { attributeSchemas: { '*': { type: 'object', properties: { a: { type: 'string', pattern: '^x' } } } } },
      'attributeSchemas.*.properties.a',
    ],
    [
      'an attribute schema that is not an object',
      { attributeSchemas: { '*': { type: 'string' } } },
      'attributeSchemas.*',
    ],
  ])('rejects %s with a 400 naming the field', async (_what, fields, field) => {
    const { response, body } = await postJson(fields);
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    expect(body.code).toBe('INVALID_REQUEST');
    expect(
      (body as unknown as { errors: Array<{ field: string }> }).errors.map((error) => error.field),
    ).toContain(field);
  });

  it('rejects listing JSON text in a form that is not JSON', async () => {
    const { response, body } = await post({ listing: '{colour: red}' });
    expect(response.status).toBe(400);
    expect((body as unknown as { errors: Array<{ field: string }> }).errors[0].field).toBe('listing');
  });
});
