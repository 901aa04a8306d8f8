import { analyzeFormFieldsSchema, analyzeJsonBodySchema } from './analyze.schema';
import { attributeSchemaFor, attributeSchemaSchema, MAX_ATTRIBUTE_SCHEMA_BYTES } from './task-options.schema';

const shoeSchema = {
  type: 'object',
  properties: {
    closure: { type: 'string', enum: ['laces', 'velcro', 'slip-on'] },
    heelHeightCm: { type: 'number', minimum: 0 },
  },
  required: ['closure'],
} as const;

function issueFields(result: { success: boolean; error?: { issues: Array<{ path: PropertyKey[] }> } }) {
  return (result.error?.issues ?? []).map((issue) => issue.path.join('.'));
}

describe('tagging and OCR request options', () => {
  it('reads the same options from a JSON body and from form text', () => {
    const json = analyzeJsonBodySchema.parse({
      imageBase64: 'eA==',
      ocrMode: 'label',
      categories: ['apparel/shoes', 'apparel/bags'],
      attributeSchemas: { 'apparel/shoes': shoeSchema },
      listing: { title: 'Red sneakers', colour: 'red', quantity: '1 pair' },
    });
    const form = analyzeFormFieldsSchema.parse({
      ocrMode: 'label',
      categories: 'apparel/shoes, apparel/bags',
      attributeSchemas: JSON.stringify({ 'apparel/shoes': shoeSchema }),
      listing: JSON.stringify({ title: 'Red sneakers', colour: 'red', quantity: '1 pair' }),
    });
    expect({ ...form, imageBase64: json.imageBase64 }).toEqual(json);
    expect(analyzeFormFieldsSchema.parse({ categories: '["a/b","a/b","c"]' }).categories).toEqual([
      'a/b',
      'c',
    ]);
  });

  it('names the field of every invalid option', () => {
    expect(issueFields(analyzeJsonBodySchema.safeParse({ imageBase64: 'eA==', ocrMode: 'poster' }))).toEqual([
      'ocrMode',
    ]);
    expect(issueFields(analyzeFormFieldsSchema.safeParse({ listing: '{"title": "x", "price": 3}' }))).toEqual(
      ['listing'],
    );
    expect(issueFields(analyzeFormFieldsSchema.safeParse({ listing: '{}' }))).toEqual(['listing']);
    expect(issueFields(analyzeFormFieldsSchema.safeParse({ listing: 'not json' }))).toEqual(['listing']);
    expect(issueFields(analyzeFormFieldsSchema.safeParse({ categories: '' }))).toEqual(['categories']);
    expect(
      issueFields(
        analyzeJsonBodySchema.safeParse({ imageBase64: 'eA==', attributeSchemas: { x: { type: 'string' } } }),
      ),
    ).toEqual(['attributeSchemas.x']);
  });

  it('accepts only the JSON Schema subset models handle, within a size cap', () => {
    expect(attributeSchemaSchema.safeParse(shoeSchema).success).toBe(true);
    expect(
      attributeSchemaSchema.safeParse({
        type: 'object',
        properties: { a: { type: 'string', pattern: '^x' } },
      }).success,
    ).toBe(false);
    expect(
      attributeSchemaSchema.safeParse({
        type: 'object',
        properties: { a: { type: 'string' } },
        required: ['b'],
      }).success,
    ).toBe(false);
    const huge = {
      type: 'object',
      properties: Object.fromEntries(
        Array.from({ length: 200 }, (_, i) => [
          `attribute${i}`,
          { type: 'string', description: 'x'.repeat(40) },
        ]),
      ),
    };
    expect(JSON.stringify(huge).length).toBeGreaterThan(MAX_ATTRIBUTE_SCHEMA_BYTES);
    expect(attributeSchemaSchema.safeParse(huge).success).toBe(false);
  });

  it('picks the schema of the longest matching category prefix, then the wildcard', () => {
    const any = { type: 'object' as const, properties: { notes: { type: 'string' as const } } };
    const shoes = { type: 'object' as const, properties: { closure: { type: 'string' as const } } };
    const sneakers = { type: 'object' as const, properties: { sole: { type: 'string' as const } } };
    const schemas = { '*': any, 'apparel/shoes': shoes, 'apparel/shoes/sneakers': sneakers };
    expect(attributeSchemaFor(schemas, 'apparel/shoes/sneakers/high-top')?.key).toBe(
      'apparel/shoes/sneakers',
    );
    expect(attributeSchemaFor(schemas, 'Apparel/Shoes/boots')?.key).toBe('apparel/shoes');
    expect(attributeSchemaFor(schemas, 'apparel/shoesies')?.key).toBe('*');
    expect(attributeSchemaFor(schemas, null)?.key).toBe('*');
    expect(attributeSchemaFor({ 'apparel/shoes': shoes }, 'home/kitchen')).toBeUndefined();
    expect(attributeSchemaFor(undefined, 'apparel/shoes')).toBeUndefined();
  });
});
