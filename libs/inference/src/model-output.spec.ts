import { z } from 'zod';
import {
  ArgusError,
  modelOutputJsonSchema,
  moderationModelOutputSchema,
  taggingModelOutputSchema,
  toModelFormat,
} from '@argus/contracts';
import { normaliseConfidences, parseModelOutput, readModelOutput } from './model-output';

describe('parseModelOutput', () => {
  it('accepts output that honours the contract', () => {
    const output = parseModelOutput(
      moderationModelOutputSchema,
      '{"categories":[{"id":"alcohol.beverages","confidence":0.2,"evidence":{"rationale":"a wine bottle"}}],"reason":"a bottle","confidence":0.8}',
      'm',
    );
    expect(output.categories[0]?.id).toBe('alcohol.beverages');
  });

  it.each([
    ['not json', 'I think this is fine'],
    [
      'unknown category',
      '{"categories":[{"id":"fun","confidence":0.5,"evidence":{"rationale":"x"}}],"reason":"","confidence":1}',
    ],
    [
      'confidence out of range',
      '{"categories":[{"id":"weapons.knives","confidence":7,"evidence":{"rationale":"x"}}],"reason":"","confidence":1}',
    ],
    ['missing field', '{"categories":[]}'],
  ])('rejects %s as INVALID_MODEL_OUTPUT', (_name, content) => {
    let caught: unknown;
    try {
      parseModelOutput(moderationModelOutputSchema, content, 'm');
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ArgusError);
    expect((caught as ArgusError).code).toBe('INVALID_MODEL_OUTPUT');
  });
});

describe('parseModelOutput with padded JSON', () => {
  it('accepts the whitespace and newlines a model pads its JSON with', () => {
    const content =
      '\n\n  {\n    "categories" : [ ],\n\t"reason": "a bottle",\r\n    "confidence":\n 0.8\n  }\n\n\n   ';
    expect(parseModelOutput(moderationModelOutputSchema, content, 'm')).toEqual({
      categories: [],
      reason: 'a bottle',
      confidence: 0.8,
    });
  });
});

describe('readModelOutput', () => {
  const moderationFormat = modelOutputJsonSchema('moderation');
  const hit = (confidence: number) => ({
    id: 'alcohol.beverages',
    confidence,
    evidence: { rationale: 'a wine bottle' },
  });

  it('reads percent confidences of 0-1 fields as fractions and says which', () => {
    const content = JSON.stringify({ categories: [hit(0.3), hit(85)], reason: 'wine', confidence: 92.5 });
    const { output, normalised } = readModelOutput(
      moderationModelOutputSchema,
      moderationFormat,
      content,
      'm',
    );
    expect(output.confidence).toBe(0.925);
    expect(output.categories.map((category) => category.confidence)).toEqual([0.3, 0.85]);
    expect(normalised).toEqual([
      { path: 'categories[1].confidence', field: 'categories[].confidence', from: 85, to: 0.85 },
      { path: 'confidence', field: 'confidence', from: 92.5, to: 0.925 },
    ]);
  });

  it('normalises the tagging confidences too: the answer and each defect', () => {
    const content = JSON.stringify({
      category: 'x',
      attributes: {},
      condition: 'used',
      defects: [{ type: 'scratch', severity: 'minor', confidence: 60 }],
      photo: { productCount: 1, props: false, placeholder: false },
      confidence: 100,
    });
    const format = toModelFormat(taggingModelOutputSchema);
    const { output, normalised } = readModelOutput(taggingModelOutputSchema, format, content, 'm');
    expect(output.confidence).toBe(1);
    expect(output.defects[0]?.confidence).toBe(0.6);
    expect(normalised.map((entry) => entry.field)).toEqual(['defects[].confidence', 'confidence']);
  });

  it.each([
    ['1 (already in range)', 1],
    ['0.5', 0.5],
    ['0', 0],
  ])('leaves %s alone', (_name, value) => {
    const content = JSON.stringify({ categories: [], reason: 'r', confidence: value });
    expect(readModelOutput(moderationModelOutputSchema, moderationFormat, content, 'm')).toEqual({
      output: { categories: [], reason: 'r', confidence: value },
      normalised: [],
    });
  });

  it.each([
    ['over 100', 150],
    ['negative', -5],
  ])('does not guess at %s: validation rejects it', (_name, value) => {
    const content = JSON.stringify({ categories: [], reason: 'r', confidence: value });
    expect(() => readModelOutput(moderationModelOutputSchema, moderationFormat, content, 'm')).toThrow(
      expect.objectContaining({ code: 'INVALID_MODEL_OUTPUT' }) as Error,
    );
  });

  it('touches only 0-1 fields named confidence, and never the caller-defined customAttributes', () => {
    const schema = z.object({
      score: z.number().min(0).max(1),
      confidence: z.number().min(0).max(100),
      customAttributes: z.object({ confidence: z.number().min(0).max(1) }),
    });
    const value = { score: 40, confidence: 40, customAttributes: { confidence: 40 } };
    expect(normaliseConfidences(value, toModelFormat(schema))).toEqual({ value, normalised: [] });
  });
});
