import type { ImageMeasurements, ImageProcessor, MeasureCopy } from '@argus/imaging';
import { ImageContext, measurementCopy, measurements, modelInput } from './image-context';

const facts = { sha256: 'a'.repeat(64), width: 100, height: 80 };

/** A context whose store read is counted; `failures` reads fail before one succeeds. */
function counted(failures = 0) {
  const bytes = Buffer.from('img');
  let reads = 0;
  const context = new ImageContext(facts, () => {
    reads += 1;
    return reads <= failures ? Promise.reject(new Error('store down')) : Promise.resolve(bytes);
  });
  return { context, bytes, reads: () => reads };
}

describe('ImageContext', () => {
  it('reads the bytes once, however many ask, even at the same time', async () => {
    const { context, bytes, reads } = counted();
    const [first, second] = await Promise.all([context.bytes(), context.bytes()]);
    expect(await context.bytes()).toBe(bytes);
    expect(first).toBe(bytes);
    expect(second).toBe(bytes);
    expect(reads()).toBe(1);
    expect(context.facts).toEqual(facts);
  });

  it('reads again after a failed read', async () => {
    const { context, bytes, reads } = counted(1);
    await expect(context.bytes()).rejects.toThrow('store down');
    expect(await context.bytes()).toBe(bytes);
    expect(await context.bytes()).toBe(bytes);
    expect(reads()).toBe(2);
  });

  it('derives a value once per key, sharing it with concurrent callers', async () => {
    const { context, bytes } = counted();
    const made: string[] = [];
    const make = (key: string) => (input: Uint8Array) => {
      made.push(key);
      expect(input).toBe(bytes);
      return Promise.resolve(`${key}:${Buffer.from(input).toString()}`);
    };
    const [a, b] = await Promise.all([
      context.derive('words', make('words')),
      context.derive('words', make('words')),
    ]);
    expect([a, b]).toEqual(['words:img', 'words:img']);
    expect(await context.derive('words', make('words'))).toBe('words:img');
    expect(await context.derive('faces', make('faces'))).toBe('faces:img');
    expect(made).toEqual(['words', 'faces']);
  });

  it('forgets a failed derivation, so a later caller tries again', async () => {
    const { context } = counted();
    let attempts = 0;
    const flaky = () => {
      attempts += 1;
      return attempts === 1 ? Promise.reject(new Error('ocr crashed')) : Promise.resolve('words');
    };
    await expect(context.derive('words', flaky)).rejects.toThrow('ocr crashed');
    expect(await context.derive('words', flaky)).toBe('words');
    expect(await context.derive('words', flaky)).toBe('words');
    expect(attempts).toBe(2);
  });

  it('forgets a derivation whose read failed', async () => {
    const { context, reads } = counted(1);
    const make = jest.fn((input: Uint8Array) => Promise.resolve(input.length));
    await expect(context.derive('size', make)).rejects.toThrow('store down');
    expect(await context.derive('size', make)).toBe(3);
    expect(make).toHaveBeenCalledTimes(1);
    expect(reads()).toBe(2);
  });

  it('never shares reads or derived values between two contexts, even over the same bytes', async () => {
    const bytes = Buffer.from('img');
    const make = jest.fn(() => Promise.resolve('derived'));
    const one = ImageContext.of(bytes);
    const other = ImageContext.of(bytes);
    await one.derive('words', make);
    await other.derive('words', make);
    await one.derive('words', make);
    expect(make).toHaveBeenCalledTimes(2);
    expect(await one.bytes()).toBe(bytes);
    expect(one.facts).toEqual({ sha256: '', width: 0, height: 0 });
    expect(ImageContext.of(bytes, { sha256: 'b'.repeat(64) }).facts).toEqual({
      sha256: 'b'.repeat(64),
      width: 0,
      height: 0,
    });
  });

  it('measures, decodes the measurement copy and resizes for a model once per request context', async () => {
    const calls: string[] = [];
    const copy = { width: 1, height: 1 } as MeasureCopy;
    const processor: Pick<ImageProcessor, 'measure' | 'decodeForMeasurement' | 'resizeForModel'> = {
      decodeForMeasurement: () => {
        calls.push('decode');
        return Promise.resolve(copy);
      },
      measure: async (_bytes, decoded) => {
        calls.push('measure');
        expect(await decoded).toBe(copy);
        return { width: 1, height: 1 } as ImageMeasurements;
      },
      resizeForModel: (_bytes, target) => {
        calls.push(`resize ${JSON.stringify(target)}`);
        return Promise.resolve({ data: Buffer.from('jpeg'), mime: 'image/jpeg', width: 1, height: 1 });
      },
    };
    const context = ImageContext.of(Buffer.from('img'));
    await Promise.all([measurements(context, processor), measurements(context, processor)]);
    expect(await measurementCopy(context, processor)).toBe(copy);
    await modelInput(context, processor, { longSide: 1008 });
    await modelInput(context, processor, { longSide: 1008 });
    await modelInput(context, processor, { square: 224 });
    expect(calls).toEqual(['measure', 'decode', 'resize {"longSide":1008}', 'resize {"square":224}']);

    await measurements(ImageContext.of(Buffer.from('img')), processor);
    expect(calls.filter((call) => call === 'measure')).toHaveLength(2);
  });
});
