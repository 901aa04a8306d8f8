import { OnnxModels } from './onnx-models';
import { paddleModelFiles } from './paddle-ocr';

jest.setTimeout(60_000);

describe('OnnxModels (onnxruntime-node in a worker thread)', () => {
  const files = paddleModelFiles();
  let models: OnnxModels<'detection' | 'classifier'>;

  beforeAll(async () => {
    models = await OnnxModels.load(
      { detection: files.detection, classifier: files.classifier },
      { graphOptimizationLevel: 'all', executionMode: 'sequential', enableCpuMemArena: false },
    );
  });

  afterAll(async () => {
    await models.close();
  });

  it("answers a run with the model's output shape", async () => {
    const output = await models.run('classifier', {
      data: new Float32Array(3 * 48 * 192),
      dims: [1, 3, 48, 192],
    });
    expect(output.dims).toEqual([1, 2]);
    expect(output.data).toHaveLength(2);
    // The direction classifier's softmax.
    expect(output.data[0] + output.data[1]).toBeCloseTo(1, 4);
  });

  it('keeps the event loop free while a model computes', async () => {
    const side = 1280;
    let ticks = 0;
    const timer = setInterval(() => (ticks += 1), 2);
    const outputs = await Promise.all(
      [0, 1, 2].map(() =>
        models.run('detection', {
          data: new Float32Array(3 * side * side).fill(0.5),
          dims: [1, 3, side, side],
        }),
      ),
    );
    clearInterval(timer);
    expect(outputs.map((output) => output.dims)).toEqual(Array(3).fill([1, 1, side, side]));
    // On the calling thread, the three detections would have run back to back with no timer in between.
    expect(ticks).toBeGreaterThanOrEqual(5);
  });

  it('answers a bad input as an error of that run, and keeps serving', async () => {
    await expect(models.run('classifier', { data: new Float32Array(7), dims: [1, 7] })).rejects.toMatchObject(
      {
        code: 'INTERNAL',
      },
    );
    const output = await models.run('classifier', {
      data: new Float32Array(3 * 48 * 192),
      dims: [1, 3, 48, 192],
    });
    expect(output.dims).toEqual([1, 2]);
  });

  it('fails with MODEL_UNAVAILABLE when a model file cannot be loaded, and leaves no thread behind', async () => {
    await expect(OnnxModels.load({ broken: '/nonexistent/model.onnx' }, {})).rejects.toMatchObject({
      code: 'MODEL_UNAVAILABLE',
    });
  });

  it('rejects runs in flight and later ones once closed', async () => {
    const own = await OnnxModels.load({ classifier: files.classifier }, {});
    const inFlight = expect(
      own.run('classifier', { data: new Float32Array(3 * 48 * 192), dims: [1, 3, 48, 192] }),
    ).rejects.toMatchObject({ code: 'MODEL_UNAVAILABLE' });
    await own.close();
    await inFlight;
    expect(own.alive).toBe(false);
    await expect(
      own.run('classifier', { data: new Float32Array(3 * 48 * 192), dims: [1, 3, 48, 192] }),
    ).rejects.toMatchObject({ code: 'MODEL_UNAVAILABLE' });
  });
});
