// OCR reading modes end to end: the real CPU engine (tesseract, key-values parsed from its lines, language detected)
// and a GPU tier (the Ollama stand-in) asked for the structure of the mode, with real NATS and the gateway and
// workers in this process. The result cache is on, so each test uses its own image unless it is about the cache.
import type { AnalyzeResponse, OcrResult, Problem } from '@argus/contracts';
import { labelPng, multipartBody, uniquePhotoJpeg } from '../support/fixtures';
import { startInProcessStack, type InProcessStack } from '../support/in-process-stack';
import { startNats, type NatsHarness } from '../support/nats-harness';
import { OllamaStandIn, type RecordedChat } from '../support/ollama-stand-in';

jest.setTimeout(120_000);

const SMALL = 'qwen2.5vl:3b';
let nats: NatsHarness;
let small: OllamaStandIn;
let stack: InProcessStack;

type OcrReply = OcrResult & {
  status: string;
  engine: string;
  tier: string;
  cached: boolean;
  needsGpuTier: string[];
  escalations: Array<{ from: string; to: string; reason: string; detail?: string }>;
};

async function post(form: FormData) {
  const response = await fetch(`${stack.gatewayUrl}/v1/analyze`, { method: 'POST', body: form });
  const body = (await response.json()) as AnalyzeResponse & Problem;
  // A problem answer (a 400) has no results.
  const results = body.results as AnalyzeResponse['results'] | undefined;
  return { response, body, ocr: results?.ocr as OcrReply | undefined };
}

const LABEL_LINES = ['ORGANIC OAT MILK', 'Best before: 12/2027', 'LOT A1234', 'Net wt 500 g'];
/** 44 px DejaVu Sans: tesseract reads "A1234" at 0.9 confidence here (at 40 or 48 px it falls under the 0.6 cut). */
const label = () => labelPng(LABEL_LINES, { fontSize: 44 });

const RECEIPT_ANSWER = {
  text: 'CORNER MARKET\nMilk 1L 1.29\nBread 2.10\nTOTAL 3.39',
  lines: [
    { text: 'CORNER MARKET' },
    { text: 'Milk 1L 1.29' },
    { text: 'Bread 2.10' },
    { text: 'TOTAL 3.39' },
  ],
  language: 'en',
  keyValues: [{ key: 'TOTAL', value: '3.39' }],
  tables: [
    {
      rows: [
        ['Item', 'Price'],
        ['Milk 1L', '1.29'],
        ['Bread', '2.10'],
      ],
    },
  ],
};
const SCENE_ANSWER = { text: 'OPEN 24/7', lines: [{ text: 'OPEN 24/7' }], language: 'en' };

const formatProperties = (chat: RecordedChat) =>
  Object.keys((chat.format as { properties: Record<string, unknown> }).properties).sort();

/** Answers OCR chats by the schema they were sent: the structured answer when it asks for tables. */
function scriptOcrAnswers(): void {
  small.script((chat) => {
    if (!chat.prompt.includes('Transcribe')) return undefined;
    return {
      content: JSON.stringify(formatProperties(chat).includes('tables') ? RECEIPT_ANSWER : SCENE_ANSWER),
    };
  });
}

beforeAll(async () => {
  nats = await startNats();
  small = await OllamaStandIn.start({ models: [{ name: SMALL }] });
  stack = await startInProcessStack(nats.url, {
    OLLAMA_HOST: small.url,
    ARGUS_TIERS: 'small',
    ARGUS_TIER_CHECK_INTERVAL_MS: '200',
  });
});

afterEach(() => {
  small.script(undefined);
  small.reset();
});

afterAll(async () => {
  await stack.stop();
  await small.stop();
  await nats.stop();
});

describe('the CPU tier', () => {
  it('reads a label in label mode with its key-values, their lines, and the language', async () => {
    const { response, ocr } = await post(
      multipartBody(await label(), { tasks: 'ocr', tier: 'cpu', ocrMode: 'label' }),
    );
    expect(response.status).toBe(200);
    expect(ocr).toMatchObject({
      status: 'ok',
      engine: 'cpu',
      tier: 'cpu',
      mode: 'label',
      text: LABEL_LINES.join('\n'),
      keyValues: [
        { key: 'Best before', value: '12/2027', line: 1, source: 'text' },
        { key: 'LOT', value: 'A1234', line: 2, source: 'text' },
        { key: 'Net wt', value: '500 g', line: 3, source: 'text' },
      ],
      tables: [],
      needsGpuTier: [],
    });
    expect(ocr?.language.code).toBe('en');
    expect(ocr?.language.confidence).toBeGreaterThan(0);
    expect(small.chats).toHaveLength(0);
  });

  it('says in document mode that tables need a GPU tier', async () => {
    const { ocr } = await post(
      multipartBody(await labelPng(['INVOICE', 'Invoice no: 4471', 'Total 23.40']), {
        tasks: 'ocr',
        tier: 'cpu',
        ocrMode: 'document',
      }),
    );
    expect(ocr).toMatchObject({
      status: 'ok',
      tier: 'cpu',
      mode: 'document',
      keyValues: [
        { key: 'Invoice no', value: '4471', line: 1, source: 'text' },
        { key: 'Total', value: '23.40', line: 2, source: 'text' },
      ],
      needsGpuTier: ['tables'],
    });
  });
});

describe('a GPU tier', () => {
  it('asks for key-values and tables in document mode and returns the tables the model read', async () => {
    scriptOcrAnswers();
    const { response, ocr } = await post(
      multipartBody(await uniquePhotoJpeg(800, 600), { tasks: 'ocr', tier: 'small', ocrMode: 'document' }),
    );
    expect(response.status).toBe(200);
    const [chat] = small.chats;
    expect(formatProperties(chat)).toEqual(['keyValues', 'language', 'lines', 'tables', 'text']);
    expect(chat.prompt).toContain('reading order, block by block');
    expect(ocr).toMatchObject({
      status: 'ok',
      engine: 'ollama',
      tier: 'small',
      mode: 'document',
      text: RECEIPT_ANSWER.text,
      language: { code: 'en', confidence: null },
      keyValues: [{ key: 'TOTAL', value: '3.39', source: 'model' }],
      tables: RECEIPT_ANSWER.tables,
    });
  });

  it('asks for the text only in scene mode', async () => {
    scriptOcrAnswers();
    const { ocr } = await post(
      multipartBody(await uniquePhotoJpeg(800, 600), { tasks: 'ocr', tier: 'small', ocrMode: 'scene' }),
    );
    const [chat] = small.chats;
    expect(formatProperties(chat)).toEqual(['language', 'lines', 'text']);
    expect(chat.prompt).toContain('signs, screens');
    expect(ocr).toMatchObject({ mode: 'scene', text: 'OPEN 24/7', keyValues: [], tables: [] });
  });

  it('takes the mode from the JSON body and from the query string of a raw image', async () => {
    scriptOcrAnswers();
    const photo = await uniquePhotoJpeg(640, 480);
    const json = await fetch(`${stack.gatewayUrl}/v1/analyze`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        imageBase64: photo.toString('base64'),
        tasks: ['ocr'],
        tier: 'small',
        ocrMode: 'scene',
      }),
    });
    expect(((await json.json()) as AnalyzeResponse).results.ocr).toMatchObject({ mode: 'scene' });
    const raw = await fetch(`${stack.gatewayUrl}/v1/analyze?tasks=ocr&tier=small&ocrMode=label`, {
      method: 'POST',
      headers: { 'content-type': 'image/jpeg' },
      body: new Uint8Array(photo),
    });
    expect(((await raw.json()) as AnalyzeResponse).results.ocr).toMatchObject({ mode: 'label' });
  });
});

describe('auto', () => {
  it('goes on to a GPU tier for tables in document mode, and stays on the CPU for a label', async () => {
    scriptOcrAnswers();
    const image = await label();
    const document = await post(multipartBody(image, { tasks: 'ocr', ocrMode: 'document' }));
    expect(document.ocr).toMatchObject({
      tier: 'small',
      mode: 'document',
      tables: RECEIPT_ANSWER.tables,
      escalations: [{ from: 'cpu', to: 'small', reason: 'cannot_judge', detail: 'tables' }],
    });
    const labelMode = await post(multipartBody(image, { tasks: 'ocr', ocrMode: 'label' }));
    expect(labelMode.ocr).toMatchObject({ tier: 'cpu', mode: 'label', escalations: [] });
    expect(small.chats).toHaveLength(1);
  });
});

describe('validation', () => {
  it('rejects an unknown ocrMode with a 400 problem naming the field, in a form, JSON and a query string', async () => {
    const form = await post(multipartBody(await label(), { tasks: 'ocr', ocrMode: 'receipt' }));
    expect(form.response.status).toBe(400);
    expect(form.response.headers.get('content-type')).toContain('application/problem+json');
    expect(form.body).toMatchObject({ code: 'INVALID_REQUEST', errors: [{ field: 'ocrMode' }] });

    const json = await fetch(`${stack.gatewayUrl}/v1/analyze`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ imageBase64: (await label()).toString('base64'), ocrMode: 'handwriting' }),
    });
    expect(json.status).toBe(400);
    expect(await json.json()).toMatchObject({ code: 'INVALID_REQUEST', errors: [{ field: 'ocrMode' }] });

    const raw = await fetch(`${stack.gatewayUrl}/v1/analyze?tasks=ocr&ocrMode=LABEL`, {
      method: 'POST',
      headers: { 'content-type': 'image/png' },
      body: new Uint8Array(await label()),
    });
    expect(raw.status).toBe(400);
    expect(await raw.json()).toMatchObject({ errors: [{ field: 'ocrMode' }] });
    expect(small.chats).toHaveLength(0);
  });
});

describe('the result cache', () => {
  it('keeps the modes apart: the same image in two modes is two engine calls, a repeat is a hit', async () => {
    scriptOcrAnswers();
    const photo = await uniquePhotoJpeg(640, 480);
    const ask = (ocrMode: string) => post(multipartBody(photo, { tasks: 'ocr', tier: 'small', ocrMode }));

    const document = await ask('document');
    const scene = await ask('scene');
    expect(document.ocr).toMatchObject({ mode: 'document', cached: false, tables: RECEIPT_ANSWER.tables });
    expect(scene.ocr).toMatchObject({ mode: 'scene', cached: false, text: 'OPEN 24/7', tables: [] });
    expect(small.chats).toHaveLength(2);

    const again = await ask('scene');
    expect(again.ocr).toMatchObject({ mode: 'scene', cached: true, text: 'OPEN 24/7' });
    expect(small.chats).toHaveLength(2);
  });

  it('keeps the modes apart on the CPU tier too', async () => {
    const image = await labelPng(['FRESH BASIL', 'Net wt 25 g', 'Best before 05/2027']);
    const ask = (ocrMode: string) => post(multipartBody(image, { tasks: 'ocr', tier: 'cpu', ocrMode }));
    expect((await ask('label')).ocr).toMatchObject({ mode: 'label', cached: false });
    expect((await ask('scene')).ocr).toMatchObject({ mode: 'scene', cached: false, keyValues: [] });
    expect((await ask('label')).ocr).toMatchObject({
      mode: 'label',
      cached: true,
      keyValues: [
        { key: 'Net wt', value: '25 g', line: 1 },
        { key: 'Best before', value: '05/2027', line: 2 },
      ],
    });
  });
});
