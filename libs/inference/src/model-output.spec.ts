import { ArgusError, moderationResultSchema } from '@argus/contracts';
import { parseModelOutput } from './model-output';

describe('parseModelOutput', () => {
  it('accepts output that honours the contract', () => {
    const output = parseModelOutput(
      moderationResultSchema,
      '{"decision":"allow","categories":[{"id":"alcohol","confidence":0.2}],"reason":"a bottle","confidence":0.8}',
      'm',
    );
    expect(output.decision).toBe('allow');
  });

  it.each([
    ['not json', 'I think this is fine'],
    ['wrong enum', '{"decision":"maybe","categories":[],"reason":""}'],
    ['confidence out of range', '{"decision":"allow","categories":[{"id":"x","confidence":7}],"reason":""}'],
    ['missing field', '{"decision":"allow"}'],
  ])('rejects %s as INVALID_MODEL_OUTPUT', (_name, content) => {
    let caught: unknown;
    try {
      parseModelOutput(moderationResultSchema, content, 'm');
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ArgusError);
    expect((caught as ArgusError).code).toBe('INVALID_MODEL_OUTPUT');
  });
});
