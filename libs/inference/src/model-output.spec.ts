import { ArgusError, moderationModelOutputSchema } from '@argus/contracts';
import { parseModelOutput } from './model-output';

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
