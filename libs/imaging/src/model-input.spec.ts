import {
  GEMMA3_INPUT,
  maxImageTokens,
  modelInputSize,
  QWEN25VL_RULE,
  QWEN3VL_RULE,
  type PixelBudgetRule,
} from './model-input';

/**
 * Ollama's SmartResize as the Go reads (model/models/qwen25vl/process_image.go), panics included, to check that what
 * Argus sends is left alone.
 */
function ollamaSmartResize(rule: PixelBudgetRule, height: number, width: number): [number, number] {
  const { factor, minPixels, maxPixels } = rule;
  if (height < factor || width < factor)
    throw new Error(`height:${height} or width:${width} under ${factor}`);
  if (Math.floor(Math.max(height, width) / Math.min(height, width)) > 200)
    throw new Error('aspect ratio over 200');
  const round = (x: number) => (x % 1 === 0.5 ? 2 * Math.round(x / 2) : Math.round(x));
  let hBar = round(height / factor) * factor;
  let wBar = round(width / factor) * factor;
  if (hBar * wBar > maxPixels) {
    const beta = Math.sqrt((height * width) / maxPixels);
    hBar = Math.floor(height / beta / factor) * factor;
    wBar = Math.floor(width / beta / factor) * factor;
  } else if (hBar * wBar < minPixels) {
    const beta = Math.sqrt(minPixels / (height * width));
    hBar = Math.ceil((height * beta) / factor) * factor;
    wBar = Math.ceil((width * beta) / factor) * factor;
  }
  return [hBar, wBar];
}

const QWEN = { family: 'qwen2.5vl' } as const;
const QWEN_1MP = { family: 'qwen2.5vl', maxPixels: 28 * 28 * 1280 } as const;

describe('modelInputSize, qwen2.5vl (SmartResize: factor 28, 56² to 2 << 20 px)', () => {
  // Worked by hand from the Go: round each side to a multiple of 28 (half to even); over the cap, β = √(h·w ÷ cap)
  // and each side ⌊side ÷ β ÷ 28⌋ × 28; tokens = (w ÷ 28) × (h ÷ 28).
  it.each([
    // 4000×3000: 4004×2996 is over 2,097,152; β = √(12e6 ÷ 2,097,152) = 2.39208, 1672.2 ÷ 28 → 59, 1254.1 ÷ 28 → 44.
    ['a 12 MP photo', 4000, 3000, 1652, 1232, 59 * 44],
    // The gateway's 2048 px copy of it lands on the same size: β = √1.5, 1672.2 → 59, 1254.1 → 44.
    ['the gateway copy of a 12 MP photo', 2048, 1536, 1652, 1232, 2596],
    // An A4 page at 1428 px: 1428 ÷ 28 = 51, 1010 ÷ 28 = 36.07 → 36; 1,439,424 px is under the cap.
    ['an A4 page at 1428 px', 1428, 1010, 1428, 1008, 51 * 36],
    // The gateway's 2048 px copy of an A4 scan (2480×3508): β = 1.18914, 1217.7 ÷ 28 → 43, 1722.3 ÷ 28 → 61.
    ['an A4 page at 2048 px', 1448, 2048, 1204, 1708, 43 * 61],
    // 640 ÷ 28 = 22.86 → 23, 480 ÷ 28 = 17.14 → 17: rounded up on one side, down on the other.
    ['a 640×480 photo', 640, 480, 644, 476, 23 * 17],
    // 20 ÷ 28 = 0.71 → 1, 2000 ÷ 28 = 71.43 → 71; 55,664 px is over 56². Ollama would panic on the 20 px side itself.
    ['a 20×2000 strip', 20, 2000, 28, 1988, 71],
    // 70 ÷ 28 = 2.5 rounds half to even: 2, so 56 (Math.round would say 84); 56 × 56 is exactly minPixels.
    ['70×70, a tie rounded to even', 70, 70, 56, 56, 4],
    // 98 ÷ 28 = 3.5 → 4 (even): 112.
    ['98×98, a tie rounded to even upwards', 98, 98, 112, 112, 16],
  ])('%s: %i×%i → %i×%i, %i tokens', (_, width, height, outWidth, outHeight, tokens) => {
    expect(modelInputSize(QWEN, width, height)).toEqual({ width: outWidth, height: outHeight, tokens });
  });

  it.each([
    // β = √(12e6 ÷ 1,003,520) = 3.45802: 1156.7 ÷ 28 → 41, 867.5 ÷ 28 → 30.
    [4000, 3000, 1148, 840, 1230],
    // β = √(1,442,280 ÷ 1,003,520) = 1.19884: 1191.2 ÷ 28 → 42, 842.5 ÷ 28 → 30.
    [1428, 1010, 1176, 840, 1260],
    // Under the budget, maxPixels changes nothing.
    [640, 480, 644, 476, 391],
  ])('with maxPixels 1,003,520: %i×%i → %i×%i, %i tokens', (width, height, outWidth, outHeight, tokens) => {
    expect(modelInputSize(QWEN_1MP, width, height)).toEqual({ width: outWidth, height: outHeight, tokens });
  });

  it('enlarges a tiny image to at least 56² px, rounding up', () => {
    // 28 × 28 = 784 < 3136: β = √(3136 ÷ 40·50) = 1.2522, ⌈62.6 ÷ 28⌉ = 3 and ⌈50.1 ÷ 28⌉ = 2.
    expect(modelInputSize(QWEN, 40, 50)).toEqual({ width: 56, height: 84, tokens: 6 });
  });

  it('never sends a side under 28 px or a ratio over 200, which make Ollama panic', () => {
    const strip = modelInputSize(QWEN, 2048, 3);
    expect(strip.height).toBe(28);
    expect(strip.width).toBeLessThanOrEqual(200 * 28);
    expect(() => ollamaSmartResize(QWEN25VL_RULE, strip.height, strip.width)).not.toThrow();
  });

  it('caps maxPixels at what Ollama allows the family', () => {
    expect(modelInputSize({ family: 'qwen2.5vl', maxPixels: 10_000_000 }, 4000, 3000)).toEqual(
      modelInputSize(QWEN, 4000, 3000),
    );
  });

  it('sends sizes that Ollama passes through unchanged, for any budget', () => {
    const budgets = [undefined, 28 * 28 * 1280, 500_000, 4 * 56 * 56];
    for (const maxPixels of budgets) {
      for (let width = 1; width <= 2100; width += 61) {
        for (let height = 1; height <= 2100; height += 67) {
          const sent = modelInputSize({ family: 'qwen2.5vl', maxPixels }, width, height);
          expect([sent.width % 28, sent.height % 28]).toEqual([0, 0]);
          expect(sent.width * sent.height).toBeLessThanOrEqual(maxPixels ?? QWEN25VL_RULE.maxPixels);
          // Ollama's own cap, not the budget: the budget only makes the image smaller.
          expect(ollamaSmartResize(QWEN25VL_RULE, sent.height, sent.width)).toEqual([
            sent.height,
            sent.width,
          ]);
          expect(sent.tokens).toBe((sent.width * sent.height) / 784);
        }
      }
    }
  });
});

describe('modelInputSize, qwen3-vl (factor 32, 65,536 to 2 << 20 px)', () => {
  it('rounds to multiples of 32 and counts one token per 32 × 32 px', () => {
    // β = 2.39208 as for qwen2.5vl: 1672.2 ÷ 32 → 52, 1254.1 ÷ 32 → 39.
    expect(modelInputSize({ family: 'qwen3-vl' }, 4000, 3000)).toEqual({
      width: 1664,
      height: 1248,
      tokens: 2028,
    });
    // 640 ÷ 32 = 20, 480 ÷ 32 = 15: 307,200 px, inside the bounds.
    expect(modelInputSize({ family: 'qwen3-vl' }, 640, 480)).toEqual({
      width: 640,
      height: 480,
      tokens: 300,
    });
  });

  it('passes through its own SmartResize unchanged', () => {
    for (let width = 40; width <= 2100; width += 97) {
      for (let height = 40; height <= 2100; height += 89) {
        const sent = modelInputSize({ family: 'qwen3-vl' }, width, height);
        expect(ollamaSmartResize(QWEN3VL_RULE, sent.height, sent.width)).toEqual([sent.height, sent.width]);
      }
    }
  });
});

describe('modelInputSize, gemma3 and mllama', () => {
  it('gemma3 always sees 896 × 896 at 256 tokens', () => {
    expect(modelInputSize({ family: 'gemma3' }, 4000, 3000)).toEqual({
      width: 896,
      height: 896,
      tokens: 256,
    });
    expect(modelInputSize({ family: 'gemma3' }, 20, 2000)).toEqual({ width: 896, height: 896, tokens: 256 });
  });

  // The expected canvases and sizes are the cases of Ollama's model/models/mllama/process_image_test.go
  // (TestOptimalTiledCanvas, TestResize) for imageSize 560 and 4 tiles.
  it.each([
    ['reduces 2560×1920 into a 2 × 2 canvas', 2560, 1920, 1120, 840, 4],
    ['reduces 4000×3000 the same way', 4000, 3000, 1120, 840, 4],
    ['keeps 1024×768, which fits its 2 × 2 canvas', 1024, 768, 1024, 768, 4],
    ['keeps 640×480 in a 2 × 1 canvas', 640, 480, 640, 480, 2],
    ['leaves the enlargement of 320×200 to Ollama', 320, 200, 320, 200, 1],
    ['puts a 2000×200 strip in a 4 × 1 canvas', 2000, 200, 2000, 200, 4],
    ['reduces a 10000×200 strip to the 4 × 1 canvas', 10000, 200, 2240, 44, 4],
  ])('%s', (_, width, height, outWidth, outHeight, tiles) => {
    expect(modelInputSize({ family: 'mllama' }, width, height)).toEqual({
      width: outWidth,
      height: outHeight,
      tokens: 0,
      tiles,
    });
  });

  it('mllama: a reduced size picks the same canvas and size when sent again', () => {
    for (let width = 100; width <= 4000; width += 71) {
      for (let height = 100; height <= 4000; height += 83) {
        const sent = modelInputSize({ family: 'mllama' }, width, height);
        expect(modelInputSize({ family: 'mllama' }, sent.width, sent.height)).toEqual(sent);
      }
    }
  });
});

describe('maxImageTokens', () => {
  it('is the budget over the token area, or the fixed count', () => {
    expect(maxImageTokens(QWEN)).toBe(2674);
    expect(maxImageTokens(QWEN_1MP)).toBe(1280);
    expect(maxImageTokens({ family: 'qwen3-vl' })).toBe(2048);
    expect(maxImageTokens({ family: 'gemma3' })).toBe(GEMMA3_INPUT.tokens);
    expect(maxImageTokens({ family: 'mllama' })).toBe(0);
  });

  it('bounds every image', () => {
    for (let width = 28; width <= 2100; width += 41) {
      for (let height = 28; height <= 2100; height += 43) {
        expect(modelInputSize(QWEN, width, height).tokens).toBeLessThanOrEqual(maxImageTokens(QWEN));
      }
    }
  });
});

it('refuses a size that is not whole pixels', () => {
  expect(() => modelInputSize(QWEN, 0, 10)).toThrow(RangeError);
  expect(() => modelInputSize(QWEN, 10.5, 10)).toThrow(RangeError);
});
