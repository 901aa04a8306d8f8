import type { z } from 'zod';
import {
  ArgusError,
  modelOutputJsonSchema,
  MODEL_OUTPUT_SCHEMAS,
  type ModerationResult,
} from '@argus/contracts';
import type { ImageProcessor } from '@argus/imaging';
import { ImageContext } from './image-context';
import type { OllamaClient, VisionChatRequest, VisionChatResult } from './ollama-client';
import { OllamaTaskEngine, type OllamaTaskSpec, type TaskPrompt } from './ollama-task-engine';
import { deriveNumPredict } from './output-budget';
import type { EngineRequest } from './task-engine';

type ModerationOutput = z.infer<(typeof MODEL_OUTPUT_SCHEMAS)['moderation']>;

const FORMAT = modelOutputJsonSchema('moderation');
/** A prompt of the engine's own: the tasks' prompts live in their service folders. */
const PROMPT: TaskPrompt = {
  version: 'test-v1',
  system: 'You are a test. Answer only with JSON that matches the given schema.',
  user: 'List the categories you find in this image.',
};
const VALID = JSON.stringify({ categories: [], reason: 'a pair of shoes', confidence: 0.9 });

interface Reply {
  content: string;
  doneReason?: string;
  inputTokens?: number;
  outputTokens?: number;
}

/** The adapter faked through its class type: answers in order, records what it was asked. */
function fakeOllama(replies: Array<Reply | Error>) {
  const chats: VisionChatRequest[] = [];
  const ollama: Pick<OllamaClient, 'chat'> = {
    chat: (request) => {
      chats.push(request);
      const reply = replies.at(chats.length - 1);
      if (!reply) return Promise.reject(new Error('no more replies scripted'));
      if (reply instanceof Error) return Promise.reject(reply);
      const result: VisionChatResult = {
        content: reply.content,
        doneReason: reply.doneReason ?? 'stop',
        model: 'qwen2.5vl:3b',
        usage: { inputTokens: reply.inputTokens ?? 1000, outputTokens: reply.outputTokens ?? 100 },
        seconds: { total: 2, load: 0.5, prompt: 1, eval: 0.5 },
      };
      return Promise.resolve(result);
    },
  };
  return { ollama, chats };
}

function engine(
  replies: Array<Reply | Error>,
  options: Partial<Pick<OllamaTaskSpec<ModerationOutput>, 'numPredict' | 'contextLength' | 'think'>> = {},
) {
  const { ollama, chats } = fakeOllama(replies);
  const resizes: Array<Parameters<ImageProcessor['resizeForModel']>> = [];
  const processor: Pick<ImageProcessor, 'resizeForModel'> = {
    resizeForModel: (...call) => {
      resizes.push(call);
      return Promise.resolve({ data: Buffer.from('jpeg'), mime: 'image/jpeg', width: 1, height: 1 });
    },
  };
  const task = new OllamaTaskEngine<ModerationOutput>(ollama, processor, {
    task: 'moderation',
    tier: 'small',
    model: 'qwen2.5vl:3b',
    input: { longSide: 1008 },
    prompt: PROMPT,
    outputSchema: MODEL_OUTPUT_SCHEMAS.moderation,
    format: FORMAT,
    ...options,
    interpret: (output) => {
      const result: ModerationResult = {
        decision: 'allow',
        policy: 'default',
        triggeredBy: [],
        categories: output.categories,
        reason: output.reason,
        confidence: output.confidence,
      };
      return Promise.resolve({
        result,
        confidence: output.confidence,
        wantsReview: false,
        needsGpuTier: [],
      });
    },
  });
  return { task, chats, resizes };
}

const request = (): EngineRequest => {
  const image = Buffer.from('img');
  return { image, context: ImageContext.of(image), signal: new AbortController().signal, options: {} };
};

describe('OllamaTaskEngine: bounded output', () => {
  it('sends num_predict derived from the schema, capped by the context, and think false', async () => {
    const { task, chats } = engine([{ content: VALID }], { contextLength: 4096 });
    await task.run(request());
    expect(chats[0]).toMatchObject({ numPredict: deriveNumPredict(FORMAT, 4096), think: false });
    expect(chats[0]?.numPredict).toBe(1024);
  });

  it("sends the catalog's numPredict and think when they are set", async () => {
    const { task, chats } = engine([{ content: VALID }], { numPredict: 300, think: true });
    await task.run(request());
    expect(chats[0]).toMatchObject({ numPredict: 300, think: true });
  });

  it('keeps the cache fingerprint of non-thinking engines and changes it for thinking ones', () => {
    const plain = engine([]).task.fingerprint;
    expect(engine([], { numPredict: 300 }).task.fingerprint).toBe(plain);
    expect(engine([], { think: true }).task.fingerprint).not.toBe(plain);
  });
});

describe('OllamaTaskEngine: done_reason length', () => {
  it('never accepts a cut-off answer, even one that parses, and repairs it asking for a shorter one', async () => {
    const { task, chats } = engine(
      [
        { content: VALID, doneReason: 'length', inputTokens: 1200, outputTokens: 1732 },
        { content: VALID, inputTokens: 1300, outputTokens: 40 },
      ],
      { contextLength: 8192 },
    );
    const answer = await task.run(request());
    expect(chats).toHaveLength(2);
    expect(chats[1]?.repair).toMatchObject({ truncated: true, previousAnswer: VALID });
    expect(chats[1]?.repair?.problem).toMatch(/cut off at the 1732-token output limit/);
    expect(chats[1]?.numPredict).toBe(1732);
    expect(answer.result).toMatchObject({ reason: 'a pair of shoes' });
    // Both calls are counted: tokens and Ollama's seconds summed.
    expect(answer.usage).toEqual({
      inputTokens: 2500,
      outputTokens: 1772,
      seconds: { load: 1, prompt: 2, eval: 1 },
    });
  });

  it('answers INVALID_MODEL_OUTPUT with a clear message when the repair is cut off too', async () => {
    const { task, chats } = engine(
      [
        { content: '{"categories":[{"id":"alcohol.bev', doneReason: 'length' },
        { content: '{"categories":[', doneReason: 'length' },
      ],
      { numPredict: 512 },
    );
    const error = (await task.run(request()).catch((e: unknown) => e)) as ArgusError;
    expect(chats).toHaveLength(2);
    expect(error).toBeInstanceOf(ArgusError);
    expect(error.code).toBe('INVALID_MODEL_OUTPUT');
    expect(error.message).toMatch(
      /cut off at the 512-token output limit .*twice; raise numPredict for moderation/,
    );
    expect(error.details).toMatchObject({ usage: { inputTokens: 2000, outputTokens: 200 } });
  });

  it('answers INVALID_MODEL_OUTPUT when the shorter answer still breaks the schema', async () => {
    const { task } = engine([{ content: '{"categ', doneReason: 'length' }, { content: '{"reason": 1}' }]);
    await expect(task.run(request())).rejects.toMatchObject({
      code: 'INVALID_MODEL_OUTPUT',
      message: expect.stringMatching(/breaks the contract/) as string,
    });
  });
});

describe('OllamaTaskEngine: repair and usage', () => {
  it('sums the tokens of the first call and the repair', async () => {
    const { task, chats } = engine([
      { content: 'not json', inputTokens: 900, outputTokens: 10 },
      { content: VALID, inputTokens: 950, outputTokens: 30 },
    ]);
    const answer = await task.run(request());
    expect(chats[1]?.repair).toMatchObject({ previousAnswer: 'not json', truncated: false });
    expect(answer.usage).toMatchObject({ inputTokens: 1850, outputTokens: 40 });
  });

  it('keeps the first call’s tokens on an error of the repair call', async () => {
    const { task } = engine([
      { content: 'not json', inputTokens: 900, outputTokens: 10 },
      new ArgusError('INFERENCE_TIMEOUT', 'qwen2.5vl:3b did not answer before the deadline'),
    ]);
    await expect(task.run(request())).rejects.toMatchObject({
      code: 'INFERENCE_TIMEOUT',
      details: { usage: { inputTokens: 900, outputTokens: 10 } },
    });
  });
});

describe('OllamaTaskEngine: percent confidences', () => {
  it('reads them as 0-1, warns in the result and reports the fields', async () => {
    const content = JSON.stringify({
      categories: [{ id: 'alcohol.beverages', confidence: 85, evidence: { rationale: 'a wine bottle' } }],
      reason: 'wine',
      confidence: 90,
    });
    const { task } = engine([{ content }]);
    const answer = await task.run(request());
    const result = answer.result as ModerationResult;
    expect(result.confidence).toBe(0.9);
    expect(result.categories[0]?.confidence).toBe(0.85);
    expect(answer.confidence).toBe(0.9);
    expect(result.warnings).toEqual([
      'categories[0].confidence: the model answered 85 for a 0-1 confidence; read as a percent, 0.85',
      'confidence: the model answered 90 for a 0-1 confidence; read as a percent, 0.9',
    ]);
    expect(answer.normalised).toEqual(['categories[].confidence', 'confidence']);
  });

  it('adds no warnings when nothing was normalised', async () => {
    const { task } = engine([{ content: VALID }]);
    const answer = await task.run(request());
    expect(answer.result).not.toHaveProperty('warnings');
    expect(answer.normalised).toBeUndefined();
  });
});

describe('OllamaTaskEngine: model input', () => {
  it("passes the gateway's facts of the stored image to resizeForModel, so the worker reads no header", async () => {
    const { task, resizes } = engine([{ content: VALID }, { content: VALID }]);
    const bytes = Buffer.from('img');
    const stored = (mime: 'image/jpeg' | 'image/png') =>
      new ImageContext({ sha256: 'a'.repeat(64), width: 640, height: 480, mime }, () =>
        Promise.resolve(bytes),
      );
    await task.run({ ...request(), image: bytes, context: stored('image/png') });
    await task.run({ ...request(), image: bytes, context: stored('image/jpeg') });
    expect(resizes).toEqual([
      [bytes, { longSide: 1008 }, { width: 640, height: 480, hasAlpha: true }],
      [bytes, { longSide: 1008 }, { width: 640, height: 480, hasAlpha: false }],
    ]);
  });

  it('leaves the header read to resizeForModel when the context does not know the image (warm-up)', async () => {
    const { task, resizes } = engine([{ content: VALID }]);
    await task.run(request());
    expect(resizes[0]?.[2]).toBeUndefined();
  });
});
