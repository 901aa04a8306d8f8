import { z } from 'zod';
import {
  modelOutputJsonSchema,
  ocrModelOutputSchema,
  ocrStructuredModelOutputSchema,
  toModelFormat,
} from '@argus/contracts';
import { deriveNumPredict, MIN_NUM_PREDICT, numPredictFor } from './output-budget';

describe('deriveNumPredict', () => {
  // Tagging's bound depends on its taxonomy: services/tagging/src/tagging-engines.spec.ts checks it.
  it('gives each task a bound from its output schema (docs/inference.md lists these values)', () => {
    // The shipped tiers all run num_ctx 8192, so the cap is 2048 on each.
    expect(deriveNumPredict(modelOutputJsonSchema('moderation'), 8192)).toBe(1732);
    expect(deriveNumPredict(toModelFormat(ocrModelOutputSchema), 8192)).toBe(581);
    expect(deriveNumPredict(toModelFormat(ocrStructuredModelOutputSchema), 8192)).toBe(2048);
  });

  it('never goes under the floor, however small the schema', () => {
    expect(deriveNumPredict(toModelFormat(z.object({ ok: z.boolean() })))).toBe(MIN_NUM_PREDICT);
  });

  it('caps at a quarter of the context, so a repair call still fits beside the image', () => {
    const huge = toModelFormat(z.object({ pages: z.array(z.array(z.array(z.string()))) }));
    expect(deriveNumPredict(huge, 8192)).toBe(2048);
    expect(deriveNumPredict(huge, 4096)).toBe(1024);
    expect(deriveNumPredict(huge, 32_768)).toBe(8192);
  });

  it('counts maxItems, maxLength and enums as the grammar enforces them', () => {
    const bounded = toModelFormat(
      z.object({ tags: z.array(z.string().max(1500)).max(3), kind: z.enum(['a', 'bb']) }),
    );
    const open = toModelFormat(z.object({ tags: z.array(z.string()), kind: z.string() }));
    // 2 + "tags": 3 × (1502 + 1) + 2 … over 3 chars a token
    expect(deriveNumPredict(bounded, 65_536)).toBe(Math.ceil((2 + 8 + 2 + 3 * 1503 + 8 + 4) / 3));
    expect(deriveNumPredict(open, 65_536)).not.toBe(deriveNumPredict(bounded, 65_536));
  });

  it('follows local $refs instead of guessing', () => {
    const format = {
      type: 'object',
      properties: { a: { $ref: '#/$defs/flag' }, b: { $ref: '#/$defs/flag' } },
      $defs: { flag: { type: 'string', maxLength: 1200 } },
    };
    expect(deriveNumPredict(format, 65_536)).toBe(Math.ceil((2 + 2 * (1 + 4 + 1202)) / 3));
  });
});

describe('numPredictFor', () => {
  it("takes the catalog's numPredict when it is set, else derives it", () => {
    const format = modelOutputJsonSchema('moderation');
    expect(numPredictFor(format, { numPredict: 700, contextLength: 8192 })).toBe(700);
    expect(numPredictFor(format, { contextLength: 8192 })).toBe(1732);
  });
});
