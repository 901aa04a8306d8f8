// The task engines themselves are tested in their task's folder (services/<task>/src/<task>-engines.spec.ts); this
// is what every CPU engine shares.
import { ImageContext } from '../image-context';
import type { EngineRequest } from '../task-engine';
import { CPU_ANSWER_REVISION, CpuEngine, inputSide, type EngineSpec } from './engine-kit';

const spec: EngineSpec = {
  task: 'ocr',
  tier: 'cpu',
  kind: 'cpu',
  model: 'reader',
  input: { longSide: 1024 },
};

function request(signal = new AbortController().signal): EngineRequest<undefined> {
  const image = Buffer.from('img');
  return { image, context: ImageContext.of(image), signal, options: undefined };
}

describe('CpuEngine', () => {
  const answer = { result: {} as never, confidence: 0.5, wantsReview: false, needsGpuTier: [] };

  it('names its task, tier and model from the spec, and runs its function', async () => {
    const engine = new CpuEngine(spec, () => Promise.resolve(answer));
    expect(engine).toMatchObject({
      task: 'ocr',
      tier: 'cpu',
      kind: 'cpu',
      model: 'reader',
      promptVersion: 'cpu-v1',
    });
    await expect(engine.run(request())).resolves.toBe(answer);
  });

  it('keys its answers by model, answer revision and input size', () => {
    const engine = new CpuEngine(spec, () => Promise.resolve(answer));
    expect(engine.fingerprint).toBe(
      JSON.stringify(['reader', 'cpu-v1', CPU_ANSWER_REVISION, { longSide: 1024 }]),
    );
    const other = new CpuEngine({ ...spec, input: { longSide: 2048 } }, () => Promise.resolve(answer));
    expect(other.fingerprint).not.toBe(engine.fingerprint);
  });

  it('refuses to start after the deadline', async () => {
    const runner = jest.fn(() => Promise.resolve(answer));
    const engine = new CpuEngine(spec, runner);
    await expect(engine.run(request(AbortSignal.abort()))).rejects.toMatchObject({
      code: 'INFERENCE_TIMEOUT',
    });
    expect(runner).not.toHaveBeenCalled();
  });
});

describe('inputSide', () => {
  it("is the catalog's long side or square side", () => {
    expect(inputSide(spec)).toBe(1024);
    expect(inputSide({ ...spec, input: { square: 224 } })).toBe(224);
  });

  it('refuses a vision family rule, which only an Ollama tier takes', () => {
    expect(() => inputSide({ ...spec, input: { family: 'qwen2.5vl' } })).toThrow(/long side or a square/);
  });
});
