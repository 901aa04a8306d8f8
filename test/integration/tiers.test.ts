// VRAM tiers end to end: the auto cascade from the real CPU engines up through two Ollama tiers, pinned tiers and
// fallback, the result cache, GPU emulation against the concurrency limit, the circuit breaker and GET /v1/models.
// The small tier is one stand-in; the medium tier is a second stand-in that emulates a GPU with two slots.
import { connect } from 'nats';
import {
  replyCacheKeyFilter,
  TASK_SUBJECTS,
  TASKS,
  type AnalyzeResponse,
  type Problem,
  type TaskReply,
} from '@argus/contracts';
import { RESULT_BUCKET } from '@argus/messaging';
import { labelPng, multipartBody, packshotJpeg, uniquePhotoJpeg } from '../support/fixtures';
import { startInProcessStack, type InProcessStack } from '../support/in-process-stack';
import { startNats, type NatsHarness } from '../support/nats-harness';
import { OllamaStandIn, type RecordedChat } from '../support/ollama-stand-in';

jest.setTimeout(120_000);

const SMALL = 'qwen2.5vl:3b';
const MEDIUM = 'qwen2.5vl:7b';
let nats: NatsHarness;
let small: OllamaStandIn;
let medium: OllamaStandIn;
let stack: InProcessStack;

interface ModelsView {
  tiers: Array<{
    tier: string;
    models: Array<{
      task: string;
      model: string;
      status: string;
      loaded: boolean;
      sizeVram: number | null;
      vramEstimateGiB: number | null;
      breaker: string;
    }>;
  }>;
}

/** A schema-valid answer for whichever task the chat is, at the given confidence. */
/** Moderation hits a scripted model reports: none, or one category at a confidence. */
type Found = Array<{ id: string; confidence: number; quote?: string }>;

function answerFor(chat: RecordedChat, confidence: number, found: Found = []) {
  if (chat.prompt.includes('Transcribe'))
    return { content: JSON.stringify({ text: 'HELLO', lines: [{ text: 'HELLO' }] }) };
  if (chat.prompt.includes('Identify the product')) {
    return {
      content: JSON.stringify({
        category: 'apparel/shoes/sneakers',
        attributes: { material: 'leather' },
        condition: 'used',
        defects: [],
        photo: { productCount: 1, props: false, placeholder: false },
        confidence,
      }),
    };
  }
  const categories = found.map(({ id, confidence: hitConfidence, quote }) => ({
    id,
    confidence: hitConfidence,
    evidence: { rationale: 'scripted', ...(quote ? { quote } : {}) },
  }));
  return { content: JSON.stringify({ categories, reason: 'scripted', confidence }) };
}

async function post(form: FormData) {
  const response = await fetch(`${stack.gatewayUrl}/v1/analyze`, { method: 'POST', body: form });
  return { response, body: (await response.json()) as AnalyzeResponse & Problem };
}

async function models(): Promise<ModelsView> {
  return (await (await fetch(`${stack.gatewayUrl}/v1/models`)).json()) as ModelsView;
}

async function until(condition: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const tierStatus = async (tier: string) =>
  (await models()).tiers.find((view) => view.tier === tier)?.models.map((model) => model.status) ?? [];

beforeAll(async () => {
  nats = await startNats();
  small = await OllamaStandIn.start({ models: [{ name: SMALL, sizeVram: 4_200_000_000 }] });
  medium = await OllamaStandIn.start({
    models: [{ name: MEDIUM, sizeVram: 8_800_000_000 }],
    gpu: { slots: 2, serviceTimeMs: 400, maxQueue: 0 },
  });
  stack = await startInProcessStack(nats.url, {
    OLLAMA_HOST: small.url,
    ARGUS_TIER_MEDIUM_URL: medium.url,
    ARGUS_TIERS: 'small,medium',
    ARGUS_TIER_SMALL_CONCURRENCY: '2',
    ARGUS_TIER_MEDIUM_CONCURRENCY: '2',
    ARGUS_TIER_CHECK_INTERVAL_MS: '200',
  });
});

afterEach(() => {
  small.script(undefined);
  medium.script(undefined);
});

afterAll(async () => {
  await stack.stop();
  await small.stop();
  await medium.stop();
  await nats.stop();
});

describe('auto cascade', () => {
  it('starts on the CPU and escalates what the CPU cannot judge', async () => {
    small.script((chat) => answerFor(chat, 0.95));
    const { response, body } = await post(
      multipartBody(await uniquePhotoJpeg(), { tasks: 'moderation,tagging' }),
    );
    expect(response.status).toBe(200);
    expect(body.results.moderation).toMatchObject({
      status: 'ok',
      engine: 'ollama',
      tier: 'small',
      model: SMALL,
      escalations: [{ from: 'cpu', to: 'small', reason: 'cannot_judge' }],
      needsGpuTier: [],
    });
    const tagging = body.results.tagging as Extract<TaskReply, { status: 'ok'; colours: unknown }>;
    expect(tagging).toMatchObject({
      tier: 'small',
      category: 'apparel/shoes/sneakers',
      attributes: { material: 'leather' },
    });
    expect(tagging.colours.length).toBeGreaterThan(0);
    expect(tagging.quality.width).toBeGreaterThan(0);
  });

  it('climbs past a tier whose answer is unsure or asks for review, and counts the hops', async () => {
    small.script((chat) => answerFor(chat, 0.3));
    medium.script((chat) => answerFor(chat, 0.9));
    const unsure = await post(multipartBody(await uniquePhotoJpeg(400, 300), { tasks: 'moderation' }));
    expect(unsure.body.results.moderation).toMatchObject({
      tier: 'medium',
      model: MEDIUM,
      escalations: [
        { from: 'cpu', to: 'small', reason: 'cannot_judge' },
        { from: 'small', to: 'medium', reason: 'low_confidence' },
      ],
    });

    // Alcohol at 0.9 is a review under the default policy.
    small.script((chat) => answerFor(chat, 0.95, [{ id: 'alcohol.beverages', confidence: 0.9 }]));
    const review = await post(multipartBody(await uniquePhotoJpeg(400, 300), { tasks: 'moderation' }));
    expect(review.body.results.moderation).toMatchObject({
      tier: 'medium',
      escalations: [{}, { from: 'small', reason: 'review' }],
    });

    const metrics = await (await fetch(`${await stack.workerUrl('moderation')}/metrics`)).text();
    expect(metrics).toMatch(
      /argus_cascade_escalations_total\{task="moderation",from_tier="small",to_tier="medium"\} [2-9]/,
    );
  });
});

describe('the CPU tier', () => {
  it('answers every task with the real engines when no GPU tier has its model, and says what needs a GPU', async () => {
    small.setModels([]);
    medium.setModels([]);
    try {
      await until(
        async () => (await tierStatus('small')).every((status) => status === 'missing'),
        'the small tier to go missing',
      );
      await until(
        async () => (await tierStatus('medium')).every((status) => status === 'missing'),
        'the medium tier to go missing',
      );
      const label = await labelPng(['ORGANIC OAT MILK', 'Best before 2027-03-14', 'Lot 4471']);
      const callsBefore = small.chats.length + medium.chats.length;
      const { response, body } = await post(multipartBody(label));
      expect(response.status).toBe(200);
      expect(body.results.ocr).toMatchObject({
        status: 'ok',
        engine: 'cpu',
        tier: 'cpu',
        model: 'ppocr-v4-tesseract-eng',
        escalations: [],
      });
      expect((body.results.ocr as { text: string }).text).toBe(
        'ORGANIC OAT MILK\nBest before 2027-03-14\nLot 4471',
      );
      expect(body.results.moderation).toMatchObject({ status: 'ok', engine: 'cpu', decision: 'allow' });
      expect((body.results.moderation as { needsGpuTier: string[] }).needsGpuTier).toContain(
        'violence.graphic',
      );
      expect(body.results.tagging).toMatchObject({ status: 'ok', engine: 'cpu', category: null });
      expect((body.results.tagging as { needsGpuTier: string[] }).needsGpuTier).toContain('category');
      expect(small.chats.length + medium.chats.length).toBe(callsBefore);

      const pinned = await post(multipartBody(label, { tasks: 'moderation', tier: 'small' }));
      expect(pinned.response.status).toBe(503);
      expect(pinned.response.headers.get('retry-after')).toBe('5');
      expect(pinned.body.code).toBe('MODEL_UNAVAILABLE');

      const fallback = await post(
        multipartBody(label, { tasks: 'moderation', tier: 'small', fallback: 'true' }),
      );
      expect(fallback.body.results.moderation).toMatchObject({
        tier: 'cpu',
        escalations: [{ from: 'small', to: 'cpu', reason: 'unavailable' }],
      });
    } finally {
      small.setModels([{ name: SMALL, sizeVram: 4_200_000_000 }]);
      medium.setModels([{ name: MEDIUM, sizeVram: 8_800_000_000 }]);
      await until(
        async () => (await tierStatus('small')).every((status) => status === 'ready'),
        'the small tier to return',
      );
      await until(
        async () => (await tierStatus('medium')).every((status) => status === 'ready'),
        'the medium tier to return',
      );
    }
  });
});

describe('moderation policies', () => {
  it('flags a phone number and a URL in the image as text.contact_info on the CPU tier, quoting them', async () => {
    const label = await labelPng(['SUMMER SALE', 'Call +44 20 7946 0958', 'shop.example.com/deals']);
    const { body } = await post(multipartBody(label, { tasks: 'moderation', tier: 'cpu' }));
    expect(body.results.moderation).toMatchObject({
      engine: 'cpu',
      decision: 'block',
      triggeredBy: ['text.contact_info'],
    });
    const quotes = (
      body.results.moderation as { categories: Array<{ id: string; evidence: { quote?: string } }> }
    ).categories
      .filter((category) => category.id === 'text.contact_info')
      .map((category) => category.evidence.quote);
    expect(quotes).toEqual(['+44 20 7946 0958', 'shop.example.com/deals']);
  });

  it('decides the same model answer by the policy the request names', async () => {
    small.script((chat) => answerFor(chat, 0.95, [{ id: 'alcohol.beverages', confidence: 0.9 }]));
    const photo = await uniquePhotoJpeg(320, 240);
    const byDefault = await post(multipartBody(photo, { tasks: 'moderation', tier: 'small' }));
    expect(byDefault.body.results.moderation).toMatchObject({
      policy: 'default',
      decision: 'review',
      triggeredBy: ['alcohol.beverages'],
    });
    const wineShop = await post(
      multipartBody(photo, { tasks: 'moderation', tier: 'small', policy: 'wine-shop' }),
    );
    expect(wineShop.body.results.moderation).toMatchObject({
      policy: 'wine-shop',
      decision: 'allow',
      cached: false,
    });
  });

  it("passes the policy's house rules to the model and decides custom.<n> hits by the policy", async () => {
    small.script((chat) => answerFor(chat, 0.95, [{ id: 'custom.1', confidence: 0.7 }]));
    const { body } = await post(
      multipartBody(await uniquePhotoJpeg(320, 240), {
        tasks: 'moderation',
        tier: 'small',
        policy: 'strict',
      }),
    );
    expect(body.results.moderation).toMatchObject({
      policy: 'strict',
      decision: 'block',
      triggeredBy: ['custom.1'],
    });
    expect(small.chats.at(-1)?.prompt).toContain('1. no live animals');
  });

  it('rejects an unknown policy with a 400 that names the field', async () => {
    const { response, body } = await post(
      multipartBody(await packshotJpeg(0.9), { tasks: 'moderation', policy: 'lenient' }),
    );
    expect(response.status).toBe(400);
    expect(body).toMatchObject({ code: 'INVALID_REQUEST', errors: [{ field: 'policy' }] });
  });
});

describe('OCR personal data', () => {
  const invoice = ['Pay to DE89 3704 0044 0532 0130 00', 'Mail anna@example.co.uk'];

  it('flags e-mail addresses and IBANs read on the CPU tier, and redacts them when asked', async () => {
    const label = await labelPng(invoice, { fontSize: 40, width: 1100 });
    const flagged = await post(multipartBody(label, { tasks: 'ocr', tier: 'cpu', pii: 'flag' }));
    expect(flagged.body.results.ocr).toMatchObject({
      text: invoice.join('\n'),
      pii: [
        { kind: 'iban', line: 0, quote: 'DE89 3704 0044 0532 0130 00' },
        { kind: 'email', line: 1, quote: 'anna@example.co.uk' },
      ],
    });
    const redacted = await post(multipartBody(label, { tasks: 'ocr', tier: 'cpu', pii: 'redact' }));
    expect(redacted.body.results.ocr).toMatchObject({
      text: 'Pay to [redacted]\nMail [redacted]',
      cached: true,
    });
    expect(JSON.stringify(redacted.body)).not.toContain('anna@');
  });

  it('rejects an unknown pii mode naming the field', async () => {
    const { response, body } = await post(
      multipartBody(await labelPng(invoice), { tasks: 'ocr', pii: 'mask' }),
    );
    expect(response.status).toBe(400);
    expect(body).toMatchObject({ code: 'INVALID_REQUEST', errors: [{ field: 'pii' }] });
  });
});

describe('listing compliance', () => {
  interface Compliance {
    profile: string;
    passed: boolean;
    checks: Array<{ id: string; passed: boolean; value: unknown; threshold: unknown }>;
  }
  const compliance = (body: AnalyzeResponse) =>
    (body.results.tagging as unknown as { compliance: Compliance }).compliance;

  it('passes a clean packshot on the main-image profile, on the CPU tier', async () => {
    const { response, body } = await post(
      multipartBody(await packshotJpeg(0.9), { tasks: 'tagging', tier: 'cpu' }),
    );
    expect(response.status).toBe(200);
    expect(compliance(body)).toMatchObject({ profile: 'marketplace-main', passed: true });
  });

  it('fails a product that fills half the frame on fill_ratio, and passes it as a secondary image', async () => {
    const small = await packshotJpeg(0.5);
    const main = await post(multipartBody(small, { tasks: 'tagging', tier: 'cpu' }));
    const failed = compliance(main.body)
      .checks.filter((check) => !check.passed)
      .map((check) => check.id);
    expect(failed).toEqual(['fill_ratio']);
    const secondary = await post(
      multipartBody(small, { tasks: 'tagging', tier: 'cpu', profile: 'marketplace-secondary' }),
    );
    expect(compliance(secondary.body)).toMatchObject({ profile: 'marketplace-secondary', passed: true });
  });

  it('fails text printed over the background, but not the brand printed on the product', async () => {
    const { body } = await post(
      multipartBody(await packshotJpeg(0.7, 1200, 'SALE 50% OFF'), { tasks: 'tagging', tier: 'cpu' }),
    );
    const overlay = compliance(body).checks.find((check) => check.id === 'text_overlay');
    expect(overlay).toMatchObject({ passed: false });
    expect(JSON.stringify(overlay)).toContain('SALE');
    expect(JSON.stringify(overlay)).not.toContain('ACME');
  });

  it('rejects an unknown profile with a 400 that names the field', async () => {
    const { response, body } = await post(
      multipartBody(await packshotJpeg(0.9), { tasks: 'tagging', profile: 'ebay-main' }),
    );
    expect(response.status).toBe(400);
    expect(body).toMatchObject({ code: 'INVALID_REQUEST', errors: [{ field: 'profile' }] });
  });
});

describe('the result cache', () => {
  /** How many times a service timed a stage, from its /metrics. */
  async function stageCount(url: string, service: string, stage: string): Promise<number> {
    const metrics = await (await fetch(`${url}/metrics`)).text();
    const line = metrics
      .split('\n')
      .find((entry) =>
        entry.startsWith(`argus_stage_duration_seconds_count{service="${service}",stage="${stage}"}`),
      );
    return line ? Number(line.split(' ').at(-1)) : 0;
  }

  it('answers a repeated image from the cache without a model call, a decode, a store or an image read', async () => {
    const photo = await uniquePhotoJpeg(640, 480);
    const first = await post(multipartBody(photo, { tasks: 'ocr', tier: 'small' }));
    expect(first.body.results.ocr).toMatchObject({ status: 'ok', cached: false });
    const calls = small.chats.length;
    const ocrUrl = await stack.workerUrl('ocr');
    const before = await Promise.all([
      stageCount(stack.gatewayUrl, 'gateway', 'normalise'),
      stageCount(stack.gatewayUrl, 'gateway', 'store'),
      stageCount(ocrUrl, 'ocr', 'fetch'),
    ]);
    const second = await post(multipartBody(photo, { tasks: 'ocr', tier: 'small' }));
    expect(second.body.results.ocr).toMatchObject({ status: 'ok', cached: true, tier: 'small' });
    expect(second.body.image).toEqual(first.body.image);
    expect(small.chats.length).toBe(calls);
    const after = await Promise.all([
      stageCount(stack.gatewayUrl, 'gateway', 'normalise'),
      stageCount(stack.gatewayUrl, 'gateway', 'store'),
      stageCount(ocrUrl, 'ocr', 'fetch'),
    ]);
    expect(after).toEqual(before);
    // Answered by the worker from its tier cache, or by the gateway from the reply the worker kept (below).
    const hits = await Promise.all(
      [ocrUrl, stack.gatewayUrl].map(async (url) => {
        const line = (await (await fetch(`${url}/metrics`)).text())
          .split('\n')
          .find((entry) => /^argus_cache_lookups_total\{[^}]*task="ocr"[^}]*result="hit"/.test(entry));
        return line ? Number(line.split(' ').at(-1)) : 0;
      }),
    );
    expect(hits[0] + hits[1]).toBeGreaterThan(0);
  });

  it('answers a repeat whose every task is cached from the reply cache, with no worker round trip', async () => {
    const photo = await uniquePhotoJpeg(640, 480);
    const form = () => multipartBody(photo, { tasks: 'ocr,moderation', tier: 'small' });
    const first = await post(form());
    expect(first.body.results.moderation).toMatchObject({ status: 'ok', cached: false });
    const connection = await connect({ servers: nats.url });
    try {
      // The worker keeps its reply beside answering; wait until both are in KV so the check below is not a race.
      const kv = await connection.jetstream().views.kv(RESULT_BUCKET);
      await until(async () => {
        const kept: string[] = [];
        for await (const key of await kv.keys(replyCacheKeyFilter(first.body.image.sha256))) kept.push(key);
        return kept.length === 2;
      }, 'both replies kept');
      const sentToWorkers: string[] = [];
      const subscriptions = TASKS.map((task) =>
        connection.subscribe(TASK_SUBJECTS[task], { callback: () => sentToWorkers.push(task) }),
      );
      await connection.flush();
      const calls = small.chats.length;
      const second = await post(form());
      await connection.flush();
      for (const subscription of subscriptions) subscription.unsubscribe();
      expect(sentToWorkers).toEqual([]);
      expect(small.chats.length).toBe(calls);
      expect(second.body.image).toEqual(first.body.image);
      for (const task of ['ocr', 'moderation'] as const) {
        expect(second.body.results[task]).toMatchObject({ status: 'ok', cached: true });
        expect(first.body.results[task]).toMatchObject({ cached: false });
        // The same reply otherwise, but for the time it took to deliver.
        const asKept = (reply: TaskReply | undefined) => ({ ...reply, cached: false, durationMs: 0 });
        expect(asKept(second.body.results[task])).toEqual(asKept(first.body.results[task]));
      }
      const gateway = await (await fetch(`${stack.gatewayUrl}/metrics`)).text();
      expect(gateway).toMatch(
        /argus_cache_lookups_total\{[^}]*task="moderation"[^}]*result="hit"[^}]*\} [1-9]/,
      );
      // Another policy is another question: down to the workers again.
      const strict = await post(
        multipartBody(photo, { tasks: 'moderation', tier: 'small', policy: 'strict' }),
      );
      expect(strict.body.results.moderation).toMatchObject({ status: 'ok', cached: false });
    } finally {
      await connection.close();
    }
  });

  it('sends a task without a cached answer down the full path when the same upload comes with another task', async () => {
    const photo = await uniquePhotoJpeg(640, 480);
    await post(multipartBody(photo, { tasks: 'ocr', tier: 'small' }));
    const calls = small.chats.length;
    const both = await post(multipartBody(photo, { tasks: 'ocr,moderation', tier: 'small' }));
    expect(both.response.status).toBe(200);
    expect(both.body.results.ocr).toMatchObject({ status: 'ok', cached: true });
    expect(both.body.results.moderation).toMatchObject({ status: 'ok', cached: false });
    expect(small.chats.length).toBe(calls + 1);
  });
});

describe('GPU emulation', () => {
  it('keeps Ollama at the tier’s slots and refuses the excess fast with UPSTREAM_BUSY, never a wait inside Ollama', async () => {
    medium.reset();
    const photos = await Promise.all(Array.from({ length: 14 }, () => uniquePhotoJpeg(320, 240)));
    const results = await Promise.all(
      photos.map(async (photo) => {
        const started = Date.now();
        const result = await post(multipartBody(photo, { tasks: 'moderation', tier: 'medium' }));
        return { ...result, ms: Date.now() - started };
      }),
    );
    const outcomes = results.map(({ body }) => (body.results.moderation?.status === 'ok' ? 'ok' : body.code));
    expect(outcomes.every((outcome) => outcome === 'ok' || outcome === 'UPSTREAM_BUSY')).toBe(true);
    // The tier has 2 slots (ARGUS_TIER_MEDIUM_CONCURRENCY) and each call holds one 400 ms: at least those 2 are
    // served, and calls that found no slot within ARGUS_SLOT_WAIT_MS (250 ms) were refused within a second.
    expect(outcomes.filter((outcome) => outcome === 'ok').length).toBeGreaterThanOrEqual(2);
    const refused = results.filter(({ body }) => body.code === 'UPSTREAM_BUSY');
    expect(refused.length).toBeGreaterThan(0);
    for (const { response, ms } of refused) {
      expect(response.status).toBe(503);
      // A full tier says when to come back: one second, not the default five.
      expect(response.headers.get('retry-after')).toBe('1');
      expect(ms).toBeLessThan(1_000);
    }
    expect(medium.maxConcurrent).toBe(2);
    // Nothing ever waited inside Ollama, where no deadline or metric would see it.
    expect(medium.stats.maxQueued).toBe(0);
    expect(medium.rejected).toBe(0);
  });
});

describe('GET /v1/models', () => {
  it('lists every enabled tier with its models, status, loaded state, VRAM and estimate', async () => {
    const view = await models();
    expect(view.tiers.map((tier) => tier.tier)).toEqual(['cpu', 'small', 'medium']);
    const smallModels = view.tiers.find((tier) => tier.tier === 'small')!.models;
    expect(smallModels.map((model) => model.task)).toEqual([...TASKS]);
    expect(smallModels[0]).toMatchObject({
      model: SMALL,
      status: 'ready',
      loaded: true,
      sizeVram: 4_200_000_000,
      breaker: 'closed',
    });
    expect(smallModels[0].vramEstimateGiB).toBeCloseTo(3.9, 1);
    expect(view.tiers[0].models[0]).toMatchObject({ model: 'nsfwjs-mobilenet-v2', status: 'ready' });
  });
});

describe('the circuit breaker', () => {
  it('opens after repeated tier failures; auto then routes around the tier and a pinned request fails fast', async () => {
    medium.script(() => ({ status: 500, error: 'llama runner process has terminated' }));
    for (let i = 0; i < 3; i += 1) {
      const { body } = await post(
        multipartBody(await uniquePhotoJpeg(320, 240), { tasks: 'moderation', tier: 'medium' }),
      );
      if (body.code !== 'MODEL_UNAVAILABLE')
        throw new Error(`expected MODEL_UNAVAILABLE, got ${JSON.stringify(body)}`);
    }
    const view = await models();
    expect(view.tiers.find((tier) => tier.tier === 'medium')!.models[0].breaker).toBe('open');

    const callsBefore = medium.chats.length;
    const pinned = await post(
      multipartBody(await uniquePhotoJpeg(320, 240), { tasks: 'moderation', tier: 'medium' }),
    );
    expect(pinned.body.detail).toContain('circuit breaker is open');
    small.script((chat) => answerFor(chat, 0.3));
    const auto = await post(multipartBody(await uniquePhotoJpeg(320, 240), { tasks: 'moderation' }));
    expect(auto.body.results.moderation).toMatchObject({ status: 'ok', tier: 'small' });
    expect(medium.chats.length).toBe(callsBefore);
  });
});
