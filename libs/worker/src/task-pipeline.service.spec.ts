import { ArgusError, type TaskRequest } from '@argus/contracts';
import { loadWorkerConfig } from '@argus/config';
import type { VisionChatRequest, VisionChatResult } from '@argus/inference';
import { ArgusMetrics } from '@argus/telemetry';
import {
  TaskPipeline,
  type ImageResizer,
  type ImageStoreReader,
  type VisionEngine,
} from './task-pipeline.service';

const request: TaskRequest = {
  requestId: 'r1',
  image: {
    bucket: 'argus-images',
    key: 'r1',
    sha256: 'a'.repeat(64),
    width: 3000,
    height: 2000,
    mime: 'image/jpeg',
  },
};

const answer = (content: string): VisionChatResult => ({
  content,
  model: 'qwen2.5vl:7b',
  usage: { inputTokens: 1200, outputTokens: 40 },
  seconds: { total: 1, load: 0, prompt: 0.5, eval: 0.5 },
});

function setup(
  options: {
    stored?: Uint8Array | null;
    chat?: (request: VisionChatRequest) => Promise<VisionChatResult>;
  } = {},
) {
  const config = loadWorkerConfig('moderation', { ARGUS_MODERATION_MODEL: 'qwen2.5vl:7b' });
  const chats: VisionChatRequest[] = [];
  const resized: Array<{ longSide: number }> = [];
  const images: ImageStoreReader = {
    get: () => Promise.resolve(options.stored === undefined ? Buffer.from('stored') : options.stored),
  };
  const processor: ImageResizer = {
    resizeForModel: (_input, target) => {
      resized.push(target);
      return Promise.resolve({ data: Buffer.from('small'), mime: 'image/jpeg', width: 1024, height: 683 });
    },
  };
  const engine: VisionEngine = {
    chat: (chatRequest) => {
      chats.push(chatRequest);
      return options.chat
        ? options.chat(chatRequest)
        : Promise.resolve(answer('{"decision":"allow","categories":[],"reason":"ok"}'));
    },
  };
  const metrics = new ArgusMetrics('moderation');
  return { pipeline: new TaskPipeline(config, images, processor, engine, metrics), chats, resized, metrics };
}

describe('TaskPipeline', () => {
  it('resizes to the model input size, asks with the task schema and replies with the validated result', async () => {
    const { pipeline, chats, resized, metrics } = setup();
    const reply = await pipeline.handle(request, undefined, 5_000);
    expect(reply).toMatchObject({
      status: 'ok',
      engine: 'ollama',
      model: 'qwen2.5vl:7b',
      decision: 'allow',
      reason: 'ok',
    });
    expect(resized).toEqual([{ longSide: 1024 }]);
    expect(chats[0].imageBase64).toBe(Buffer.from('small').toString('base64'));
    expect(chats[0].format).toMatchObject({
      type: 'object',
      required: expect.arrayContaining(['decision']) as unknown,
    });
    expect(chats[0].signal.aborted).toBe(false);
    const exposition = (await metrics.exposition()).body;
    expect(exposition).toContain(
      'argus_image_duration_seconds_count{service="moderation",task="moderation",tier="default",model="qwen2.5vl:7b",outcome="ok"} 1',
    );
    expect(exposition).toContain(
      'argus_inference_tokens_total{tier="default",model="qwen2.5vl:7b",kind="input"} 1200',
    );
    for (const stage of ['fetch', 'resize', 'inference', 'validate']) {
      expect(exposition).toContain(
        `argus_stage_duration_seconds_count{service="moderation",stage="${stage}"} 1`,
      );
    }
  });

  it('answers INVALID_MODEL_OUTPUT when the model breaks the contract', async () => {
    const { pipeline, metrics } = setup({ chat: () => Promise.resolve(answer('{"decision":"perhaps"}')) });
    await expect(pipeline.handle(request, undefined, 5_000)).resolves.toMatchObject({
      status: 'error',
      error: { code: 'INVALID_MODEL_OUTPUT' },
    });
    expect((await metrics.exposition()).body).toContain('outcome="invalid_model_output"');
  });

  it('passes engine errors through with their code', async () => {
    const { pipeline } = setup({ chat: () => Promise.reject(new ArgusError('UPSTREAM_BUSY', 'queue full')) });
    await expect(pipeline.handle(request, undefined, 5_000)).resolves.toMatchObject({
      status: 'error',
      error: { code: 'UPSTREAM_BUSY', message: 'queue full' },
    });
  });

  it('rejects a request that breaks the contract and an image that is gone, without calling the model', async () => {
    const { pipeline, chats } = setup({ stored: null });
    await expect(pipeline.handle({ requestId: 'x' }, undefined, 5_000)).resolves.toMatchObject({
      error: { code: 'INVALID_REQUEST' },
    });
    await expect(pipeline.handle(request, undefined, 5_000)).resolves.toMatchObject({
      error: { code: 'INVALID_REQUEST' },
    });
    expect(chats).toHaveLength(0);
  });

  it('aborts the engine call just before the caller deadline', async () => {
    const { pipeline } = setup({
      chat: (chatRequest) =>
        new Promise((_resolve, reject) => {
          chatRequest.signal.addEventListener('abort', () => {
            reject(new ArgusError('INFERENCE_TIMEOUT', 'deadline'));
          });
        }),
    });
    const started = Date.now();
    await expect(pipeline.handle(request, undefined, 400)).resolves.toMatchObject({
      error: { code: 'INFERENCE_TIMEOUT' },
    });
    expect(Date.now() - started).toBeLessThan(400);
  });

  it('hides unexpected failures behind INTERNAL', async () => {
    const { pipeline } = setup({ chat: () => Promise.reject(new Error('socket exploded')) });
    const reply = await pipeline.handle(request, undefined, 5_000);
    expect(reply).toMatchObject({ status: 'error', error: { code: 'INTERNAL' } });
    expect(JSON.stringify(reply)).not.toContain('socket exploded');
  });
});
