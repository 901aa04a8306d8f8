import { TASKS, MODEL_OUTPUT_SCHEMAS, modelOutputJsonSchema } from '@argus/contracts';
import { z } from 'zod';
import { exampleFromJsonSchema } from './json-schema-example';

describe('exampleFromJsonSchema', () => {
  it.each(TASKS)('satisfies the %s output contract that workers send as format', (task) => {
    const example = exampleFromJsonSchema(modelOutputJsonSchema(task));
    expect(() => MODEL_OUTPUT_SCHEMAS[task].parse(example)).not.toThrow();
  });

  it('follows the documented rules', () => {
    expect(
      exampleFromJsonSchema({
        type: 'object',
        required: ['kind', 'level', 'n', 'ratio', 'name', 'tags', 'ok', 'extra', 'either'],
        properties: {
          kind: { const: 'fixed' },
          level: { enum: ['low', 'high'] },
          n: { type: 'integer', minimum: 3, maximum: 9 },
          ratio: { type: 'number', minimum: 0.8, maximum: 2 },
          capped: { type: 'number', maximum: 0.1 },
          name: { type: 'string', minLength: 12 },
          tags: { type: 'array', items: { type: 'string' }, minItems: 2 },
          ok: { type: 'boolean' },
          extra: { type: 'object', additionalProperties: { type: 'string' } },
          either: { anyOf: [{ type: 'integer' }, { type: 'string' }] },
          optional: { type: 'string' },
        },
      }),
    ).toEqual({
      kind: 'fixed',
      level: 'low',
      n: 3,
      ratio: 0.8,
      capped: 0.1,
      name: 'stand-in-x-x',
      tags: ['stand-in', 'stand-in'],
      ok: false,
      extra: {},
      either: 0,
      optional: 'stand-in',
    });
  });

  it('resolves $ref into definitions and $defs, and handles recursion', () => {
    const node: z.ZodType = z.lazy(() => z.object({ id: z.string(), children: z.array(node) }));
    const schema = z.object({
      root: node,
      nullable: z.string().nullable(),
      tuple: z.tuple([z.number(), z.string()]),
    });
    for (const target of ['draft-7', 'draft-2020-12'] as const) {
      const example = exampleFromJsonSchema(z.toJSONSchema(schema, { target }));
      expect(() => schema.parse(example)).not.toThrow();
    }
    expect(
      exampleFromJsonSchema({
        $ref: '#/definitions/a',
        definitions: { a: { type: 'integer', exclusiveMinimum: 4 } },
      }),
    ).toBe(5);
  });

  it('fills numbers inside exclusive bounds and common string formats', () => {
    const schema = z.object({
      positive: z.number().positive(),
      small: z.number().gt(1).lt(2),
      id: z.uuid(),
      mail: z.email(),
      when: z.iso.datetime(),
    });
    expect(() => schema.parse(exampleFromJsonSchema(z.toJSONSchema(schema)))).not.toThrow();
  });
});
