import { estimateVramGiB, formatGiB, kvCacheGiB } from './vram-estimate';

describe('estimateVramGiB', () => {
  const qwen3b = { weightsGiB: 1.73, projectorGiB: 1.25, kvCacheKiBPerToken: 36 };

  it('is weights × 1.2 + KV cache (context × parallel) + projector, as in the docs worked example', () => {
    // 1.73 × 1.2 = 2.076; 8192 × 2 × 36 KiB = 576 MiB = 0.5625 GiB; + 1.25 GiB projector
    expect(kvCacheGiB(36, { contextLength: 8192, parallel: 2 })).toBe(0.5625);
    expect(estimateVramGiB(qwen3b, { contextLength: 8192, parallel: 2 })).toBeCloseTo(3.8885, 6);
    expect(formatGiB(estimateVramGiB(qwen3b, { contextLength: 8192, parallel: 2 }))).toBe('3.9');
  });

  it('matches the large-tier row: qwen2.5vl:72b with 8192 × 4 slots', () => {
    const qwen72b = { weightsGiB: 44.39, projectorGiB: 1.25, kvCacheKiBPerToken: 320 };
    // 53.268 + 10 + 1.25
    expect(estimateVramGiB(qwen72b, { contextLength: 8192, parallel: 4 })).toBeCloseTo(64.518, 6);
  });

  it('grows the KV cache linearly with parallel slots and context', () => {
    const one = estimateVramGiB(qwen3b, { contextLength: 8192, parallel: 1 });
    const four = estimateVramGiB(qwen3b, { contextLength: 8192, parallel: 4 });
    expect(four - one).toBeCloseTo(3 * kvCacheGiB(36, { contextLength: 8192, parallel: 1 }), 9);
    expect(kvCacheGiB(36, { contextLength: 16_384, parallel: 1 })).toBe(
      kvCacheGiB(36, { contextLength: 8192, parallel: 2 }),
    );
  });

  it('lets a measured overrideGiB win over the rule', () => {
    expect(estimateVramGiB({ ...qwen3b, overrideGiB: 5.5 }, { contextLength: 8192, parallel: 2 })).toBe(5.5);
  });
});
