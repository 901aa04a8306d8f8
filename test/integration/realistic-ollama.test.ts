// The GPU tiers against the stand-in in its realistic output mode, which answers as a local vision model does
// through Ollama's grammar (docs/ollama-compat.md): 0..1 numbers written as percents, JSON padded with whitespace,
// thinking streamed first by a thinking model when `think` is not false, and answers cut at `num_predict` with
// `done_reason: "length"`. Each must end in a valid result or a fast INVALID_MODEL_OUTPUT, never a wait to the
// deadline. The stack runs in process against a real nats-server.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AnalyzeResponse, Problem } from '@argus/contracts';
import { multipartBody, uniquePhotoJpeg } from '../support/fixtures';
import { startInProcessStack, type InProcessStack } from '../support/in-process-stack';
import { exampleFromJsonSchema } from '../support/json-schema-example';
import { startNats, type NatsHarness } from '../support/nats-harness';
import { DEFAULT_THINKING, OllamaStandIn, type RecordedChat } from '../support/ollama-stand-in';

jest.setTimeout(120_000);

const SMALL = 'qwen2.5vl:3b';
const MEDIUM = 'qwen2.5vl:7b';
let nats: NatsHarness;
let small: OllamaStandIn;
let medium: OllamaStandIn;
let stack: InProcessStack;
let catalogDir: string;

/** The shipped catalog with `think: true` for moderation on the medium tier: the catalog is where thinking is chosen. */
function catalogWithMediumThinking(): string {
  const shipped = readFileSync(join(__dirname, '..', '..', 'config', 'model-catalog.yaml'), 'utf8');
  const medium = shipped.indexOf('\n  medium:');
  const moderation = shipped.indexOf('      moderation:\n', medium);
  const edited = `${shipped.slice(0, moderation)}      moderation:\n        think: true\n${shipped.slice(
    moderation + '      moderation:\n'.length,
  )}`;
  catalogDir = mkdtempSync(join(tmpdir(), 'argus-catalog-'));
  const path = join(catalogDir, 'model-catalog.yaml');
  writeFileSync(path, edited);
  return path;
}

beforeAll(async () => {
  nats = await startNats();
  small = await OllamaStandIn.start({ models: [{ name: SMALL }], output: 'realistic' });
  // A model with the thinking capability: it thinks unless the request says think: false (server/routes.go).
  medium = await OllamaStandIn.start({
    models: [{ name: MEDIUM, capabilities: ['completion', 'vision', 'thinking'] }],
    output: 'realistic',
  });
  stack = await startInProcessStack(nats.url, {
    OLLAMA_HOST: small.url,
    ARGUS_TIER_MEDIUM_URL: medium.url,
    ARGUS_TIERS: 'small,medium',
    ARGUS_MODEL_CATALOG: catalogWithMediumThinking(),
    ARGUS_CACHE_TTL_SECONDS: '0',
  });
});

afterEach(() => {
  small.script(undefined);
  medium.script(undefined);
  small.reset();
  medium.reset();
});

afterAll(async () => {
  await stack.stop();
  await small.stop();
  await medium.stop();
  await nats.stop();
  rmSync(catalogDir, { recursive: true, force: true });
});

async function analyze(fields: Record<string, string>) {
  const started = Date.now();
  const response = await fetch(`${stack.gatewayUrl}/v1/analyze`, {
    method: 'POST',
    body: multipartBody(await uniquePhotoJpeg(), fields),
  });
  return {
    response,
    body: (await response.json()) as AnalyzeResponse & Problem,
    ms: Date.now() - started,
  };
}

type Json = ReturnType<typeof exampleFromJsonSchema>;

/** The schema's own example with every `confidence` set to `value`: a confident, schema-valid model answer. */
function withConfidences(node: Json, value: number): Json {
  if (Array.isArray(node)) return node.map((item) => withConfidences(item, value));
  if (node === null || typeof node !== 'object') return node;
  return Object.fromEntries(
    Object.entries(node).map(([key, item]) => [
      key,
      key === 'confidence' && typeof item === 'number' ? value : withConfidences(item, value),
    ]),
  );
}

/** A moderation answer with one category hit, so the percents appear at two depths. */
function moderationAnswer(chat: RecordedChat, confidence: number): string {
  const example = withConfidences(exampleFromJsonSchema(chat.format), confidence) as Record<string, Json>;
  return JSON.stringify(example);
}

describe('a GPU tier against realistic model output', () => {
  it('reads percent confidences as 0-1, says so in warnings, and sends think: false by default', async () => {
    small.script((chat) => ({ content: moderationAnswer(chat, 0.85) }));
    const { response, body } = await analyze({ tasks: 'moderation', tier: 'small' });
    expect(response.status).toBe(200);
    const moderation = body.results.moderation as { status: string; confidence: number; warnings?: string[] };
    expect(moderation.status).toBe('ok');
    expect(moderation.confidence).toBeCloseTo(0.85, 5);
    expect(moderation.warnings).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^confidence: the model answered 85 .* read as a percent, 0\.85$/),
      ]),
    );
    // The model really answered a percent, padded with whitespace, and no repair call was needed.
    const chats = small.chats.filter((chat) => chat.images.length > 0);
    expect(chats).toHaveLength(1);
    expect(chats[0].think).toBe(false);
    expect(typeof chats[0].options?.num_predict).toBe('number');
  });

  it('never parses or returns the thinking of a thinking model, and answers from what follows it', async () => {
    medium.script((chat) => ({ content: moderationAnswer(chat, 0.9), thinking: DEFAULT_THINKING }));
    const { response, body } = await analyze({ tasks: 'moderation', tier: 'medium' });
    expect(response.status).toBe(200);
    expect(body.results.moderation).toMatchObject({ status: 'ok', tier: 'medium', confidence: 0.9 });
    const chats = medium.chats.filter((chat) => chat.images.length > 0);
    expect(chats).toHaveLength(1);
    // The catalog turned thinking on for this entry; the stand-in streamed it in message.thinking.
    expect(chats[0].think).toBe(true);
    expect(JSON.stringify(body)).not.toContain('Let me look at it carefully');
  });

  it('turns an answer cut off at num_predict twice into a fast INVALID_MODEL_OUTPUT', async () => {
    // An OCR answer far longer than the task's num_predict: the stand-in cuts it and ends with done_reason length.
    const endless = JSON.stringify({ text: 'LOREM IPSUM '.repeat(20_000), lines: [] });
    small.script(() => ({ content: endless }));
    const { response, body, ms } = await analyze({ tasks: 'ocr', tier: 'small' });
    expect(response.status).toBe(502);
    expect(body.code).toBe('INVALID_MODEL_OUTPUT');
    expect(body.detail).toMatch(/cut off at the \d+-token output limit/);
    const chats = small.chats.filter((chat) => chat.images.length > 0);
    expect(chats).toHaveLength(2);
    // The repair asked for a shorter answer; the whole request ended long before its 120 s deadline.
    expect(chats[1].prompt).toMatch(/cut off|shorter/i);
    expect(ms).toBeLessThan(10_000);
  });

  it('answers from the repair when a cut-off answer is followed by one that fits', async () => {
    const endless = JSON.stringify({ text: 'LOREM IPSUM '.repeat(20_000), lines: [] });
    let calls = 0;
    small.script(() => {
      calls += 1;
      const short = { text: 'SHORT', lines: [{ text: 'SHORT' }], language: 'en', keyValues: [], tables: [] };
      return { content: calls === 1 ? endless : JSON.stringify(short) };
    });
    const { response, body } = await analyze({ tasks: 'ocr', tier: 'small' });
    expect({ status: response.status, detail: body.detail }).toEqual({ status: 200, detail: undefined });
    expect(body.results.ocr).toMatchObject({ status: 'ok', text: 'SHORT' });
    expect(calls).toBe(2);
  });
});
