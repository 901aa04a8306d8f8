// The fourth task end to end, in process: describe on the CPU tier (measured, honest), on a GPU tier through the
// Ollama stand-in (a question gets an answer), under `auto` (the CPU tier's caption.subject sends it on), and in a job
// of mixed tasks.
import type { AnalyzeResponse, DescribeReply, JobCreated, JobStatus } from '@argus/contracts';
import { labelPng, photoJpeg } from '../support/fixtures';
import { startInProcessStack, type InProcessStack } from '../support/in-process-stack';
import { startNats, type NatsHarness } from '../support/nats-harness';
import { OllamaStandIn, scriptSequence } from '../support/ollama-stand-in';

jest.setTimeout(120_000);

const SMALL_MODEL = 'qwen2.5vl:3b';
let nats: NatsHarness;
let ollama: OllamaStandIn;
let stack: InProcessStack;

beforeAll(async () => {
  nats = await startNats();
  ollama = await OllamaStandIn.start({ models: [{ name: SMALL_MODEL }] });
  stack = await startInProcessStack(nats.url, {
    OLLAMA_HOST: ollama.url,
    ARGUS_TIERS: 'cpu,small',
    ARGUS_CACHE_TTL_SECONDS: '0',
  });
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

async function analyze(image: Buffer, fields: Record<string, string>): Promise<DescribeReply> {
  const form = new FormData();
  form.append('image', new Blob([new Uint8Array(image)], { type: 'image/png' }), 'image.png');
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  const response = await fetch(`${stack.gatewayUrl}/v1/analyze`, { method: 'POST', body: form });
  const body = (await response.json()) as AnalyzeResponse;
  expect(response.status).toBe(200);
  const reply = body.results.describe;
  if (!reply) throw new Error(`no describe result: ${JSON.stringify(body)}`);
  return reply;
}

describe('describe', () => {
  it('on the CPU tier, says what it measured (text, colours) and leaves the subject and a question to a GPU tier', async () => {
    const reply = await analyze(await labelPng(['SUMMER SALE']), {
      tasks: 'describe',
      tier: 'cpu',
      question: 'What is on sale?',
    });
    expect(reply).toMatchObject({ status: 'ok', tier: 'cpu', engine: 'cpu', answer: null, language: 'en' });
    if (reply.status !== 'ok') return;
    expect(reply.caption).toContain('SUMMER SALE');
    expect(reply.altText.length).toBeLessThanOrEqual(125);
    expect(reply.needsGpuTier).toEqual(['caption.subject', 'question']);
    expect(ollama.chats).toHaveLength(0);
  });

  it('on a GPU tier, answers the question from the model, in the requested language', async () => {
    ollama.script(
      scriptSequence({
        content: JSON.stringify({
          caption: 'Ein Schild mit der Aufschrift Summer Sale.',
          altText: 'Bild von einem Schild mit der Aufschrift Summer Sale',
          tags: ['Schild', 'Text'],
          answer: 'Alles im Sommer',
          answerConfidence: 0.7,
        }),
      }),
    );
    const reply = await analyze(await photoJpeg(), {
      tasks: 'describe',
      tier: 'small',
      question: 'What is on sale?',
      language: 'de',
    });
    expect(reply).toMatchObject({
      status: 'ok',
      tier: 'small',
      model: SMALL_MODEL,
      language: 'de',
      answer: { question: 'What is on sale?', text: 'Alles im Sommer', confidence: 0.7 },
      tags: ['schild', 'text'],
    });
    expect(ollama.chats).toHaveLength(1);
    expect(ollama.chats[0].messages.at(-1)?.content).toContain('"What is on sale?"');
  });

  it('under auto, goes on from the CPU tier to the vision model, which names the subject', async () => {
    const reply = await analyze(await photoJpeg(), { tasks: 'describe' });
    expect(reply).toMatchObject({ status: 'ok', tier: 'small' });
    expect(reply.escalations).toEqual([
      expect.objectContaining({ from: 'cpu', to: 'small', reason: 'cannot_judge' }),
    ]);
  });

  it('is not asked for by default: a request without tasks gets what it got in 0.1', async () => {
    const form = new FormData();
    form.append('image', new Blob([new Uint8Array(await photoJpeg())], { type: 'image/jpeg' }), 'photo.jpg');
    form.append('tier', 'cpu');
    const body = (await (
      await fetch(`${stack.gatewayUrl}/v1/analyze`, { method: 'POST', body: form })
    ).json()) as AnalyzeResponse;
    expect(Object.keys(body.results)).toEqual(['moderation', 'tagging', 'ocr']);
  });

  it('finishes in a job of mixed tasks', async () => {
    const image = (await photoJpeg()).toString('base64');
    const created = await fetch(`${stack.gatewayUrl}/v1/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        items: [
          { imageBase64: image },
          { imageBase64: (await labelPng(['OPEN 24 HOURS'])).toString('base64') },
        ],
        tasks: ['moderation', 'describe'],
        tier: 'cpu',
        question: 'Is it open at night?',
      }),
    });
    expect(created.status).toBe(202);
    const { jobId } = (await created.json()) as JobCreated;
    const deadline = Date.now() + 90_000;
    let status: JobStatus | undefined;
    while (Date.now() < deadline) {
      status = (await (await fetch(`${stack.gatewayUrl}/v1/jobs/${jobId}`)).json()) as JobStatus;
      if (status.percent === 100) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(status?.percent).toBe(100);
    expect(status?.items.map((item) => item.status)).toEqual(['done', 'done']);
    for (const item of status?.items ?? []) {
      expect(item.results.describe).toMatchObject({ status: 'ok', tier: 'cpu', answer: null });
      expect(item.results.moderation).toMatchObject({ status: 'ok' });
    }
  });
});
