import { z } from 'zod';
import type { Task } from './tasks';

// Per-request options of each task. They are shared by the HTTP body (where forms carry them as text), the NATS task
// request and the task's engines. One `options` object keyed by task travels from intake to the engine untouched;
// each task decides which of its options change a cached answer.

export const OCR_MODES = ['document', 'label', 'scene'] as const;
/**
 * - `document`: pages, receipts and forms; blocks of text in reading order, key-values and tables extracted;
 * - `label`: product labels and packaging; short lines, key-values (best before, lot, weight, price);
 * - `scene`: text anywhere in a photo (signs, screens, printed on products); sparse, no structure.
 */
export const ocrModeSchema = z.enum(OCR_MODES);
export type OcrMode = z.infer<typeof ocrModeSchema>;

const LISTING_FIELDS = ['title', 'category', 'colour', 'brand', 'quantity'] as const;
export type ListingField = (typeof LISTING_FIELDS)[number];

/** What the seller says about the product; each field is compared with the photo. */
export const listingSchema = z
  .strictObject({
    title: z.string().trim().min(1).max(300).optional(),
    category: z.string().trim().min(1).max(200).optional().describe('a category path, e.g. apparel/shoes'),
    colour: z.string().trim().min(1).max(60).optional(),
    brand: z.string().trim().min(1).max(100).optional(),
    quantity: z
      .string()
      .trim()
      .min(1)
      .max(60)
      .optional()
      .describe('pack size or amount, e.g. "500 ml", "2 pack"'),
  })
  .refine((listing) => LISTING_FIELDS.some((field) => listing[field] !== undefined), {
    message: `listing needs at least one of ${LISTING_FIELDS.join(', ')}`,
  });
export type Listing = z.infer<typeof listingSchema>;

/** The JSON Schema keywords a caller's attribute schema may use: what Ollama's structured output handles well. */
export interface AttributeJsonSchema {
  type: 'string' | 'number' | 'integer' | 'boolean' | 'array' | 'object';
  description?: string;
  enum?: Array<string | number>;
  minimum?: number;
  maximum?: number;
  maxLength?: number;
  items?: AttributeJsonSchema;
  maxItems?: number;
  properties?: Record<string, AttributeJsonSchema>;
  required?: string[];
  additionalProperties?: false;
}

export const attributeJsonSchemaNode: z.ZodType<AttributeJsonSchema> = z.lazy(() =>
  z.strictObject({
    type: z.enum(['string', 'number', 'integer', 'boolean', 'array', 'object']),
    description: z.string().max(300).optional(),
    enum: z
      .array(z.union([z.string().max(100), z.number()]))
      .min(1)
      .max(200)
      .optional(),
    minimum: z.number().optional(),
    maximum: z.number().optional(),
    maxLength: z.number().int().positive().optional(),
    items: attributeJsonSchemaNode.optional(),
    maxItems: z.number().int().positive().optional(),
    properties: z.record(z.string().min(1).max(64), attributeJsonSchemaNode).optional(),
    required: z.array(z.string()).optional(),
    additionalProperties: z.literal(false).optional(),
  }),
);

/** Serialised size cap: the schema goes into every prompt for that category. */
export const MAX_ATTRIBUTE_SCHEMA_BYTES = 8_192;

/** A caller's attribute schema: an object with named properties, in the supported JSON Schema subset. */
export const attributeSchemaSchema = attributeJsonSchemaNode.superRefine((schema, ctx) => {
  if (schema.type !== 'object' || !schema.properties || Object.keys(schema.properties).length === 0) {
    ctx.addIssue({
      code: 'custom',
      message: 'an attribute schema must be {"type":"object","properties":{...}}',
    });
  }
  for (const name of schema.required ?? []) {
    if (!schema.properties?.[name])
      ctx.addIssue({ code: 'custom', message: `required names unknown property "${name}"` });
  }
  if (JSON.stringify(schema).length > MAX_ATTRIBUTE_SCHEMA_BYTES) {
    ctx.addIssue({
      code: 'custom',
      message: `an attribute schema may be at most ${MAX_ATTRIBUTE_SCHEMA_BYTES} bytes`,
    });
  }
});

/**
 * Attribute schemas keyed by category path. The one whose key is the longest prefix of the product's category
 * applies: "apparel/shoes" covers "apparel/shoes/sneakers"; "*" covers any category.
 */
export const attributeSchemasSchema = z
  .record(z.string().min(1).max(200), attributeSchemaSchema)
  .refine((schemas) => Object.keys(schemas).length > 0 && Object.keys(schemas).length <= 50, {
    message: 'attributeSchemas needs 1 to 50 entries',
  });
export type AttributeSchemas = z.infer<typeof attributeSchemasSchema>;

/** The caller's own category list; the model must answer one of them. */
export const categoryListSchema = z
  .array(z.string().trim().min(1).max(200))
  .min(1)
  .max(1000)
  .transform((list) => [...new Set(list)]);

export const PII_MODES = ['off', 'flag', 'redact'] as const;
export const piiModeSchema = z.enum(PII_MODES);
export type PiiMode = z.infer<typeof piiModeSchema>;

export const moderationOptionsSchema = z.strictObject({
  /** A moderation policy name; the worker's default when absent. */
  policy: z.string().min(1).optional(),
});
export type ModerationOptions = z.infer<typeof moderationOptionsSchema>;

export const taggingOptionsSchema = z.strictObject({
  /** A listing-compliance profile name; the worker's default when absent. */
  profile: z.string().min(1).optional(),
  categories: categoryListSchema.optional(),
  attributeSchemas: attributeSchemasSchema.optional(),
  listing: listingSchema.optional(),
});
export type TaggingOptions = z.infer<typeof taggingOptionsSchema>;

export const ocrOptionsSchema = z.strictObject({
  mode: ocrModeSchema.default('document'),
  /** Flag or redact e-mail addresses, phone numbers and IBANs in the text. */
  pii: piiModeSchema.optional(),
});
export type OcrOptions = z.infer<typeof ocrOptionsSchema>;

/** A BCP 47 language tag ("en", "de-CH", "pt-BR"): the shape only; which languages a model writes well varies. */
export const languageTagSchema = z
  .string()
  .trim()
  .regex(/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, 'language must be a BCP 47 tag such as en, de or pt-BR');

export const describeOptionsSchema = z.strictObject({
  /** A question about the image, answered from what is visible only (visual question answering). */
  question: z.string().trim().min(1).max(500).optional(),
  /** The language of the caption, alt text and answer; English when absent. */
  language: languageTagSchema.default('en'),
});
export type DescribeOptions = z.infer<typeof describeOptionsSchema>;

/**
 * Options whose value names an entry of a file the services load at boot (a moderation policy, a listing profile).
 * The gateway checks the name against its copy of the file, so a typo is a 400 at the edge, not a default at the
 * worker; `field` is the name the HTTP body uses for it.
 */
export const NAMED_OPTIONS = [
  { task: 'moderation', option: 'policy', field: 'policy', names: 'moderation-policies' },
  { task: 'tagging', option: 'profile', field: 'profile', names: 'listing-profiles' },
] as const satisfies ReadonlyArray<{ task: Task; option: string; field: string; names: string }>;
export type NamedOptionFile = (typeof NAMED_OPTIONS)[number]['names'];

/** The named options a request sets, with their values. */
export function namedOptionsOf(
  options: TaskOptions,
): Array<{ field: string; names: NamedOptionFile; value: string }> {
  return NAMED_OPTIONS.flatMap(({ task, option, field, names }) => {
    const value = (options[task] as Record<string, unknown> | undefined)?.[option];
    return typeof value === 'string' ? [{ field, names, value }] : [];
  });
}

/** The request's options with the moderation policy of the caller's API key, where the request names none. */
export function withDefaultPolicy(options: TaskOptions, policy: string | undefined): TaskOptions {
  if (policy === undefined || options.moderation?.policy !== undefined) return options;
  return { ...options, moderation: { ...options.moderation, policy } };
}

/** Each task's option schema, by task id. */
export const TASK_OPTION_SCHEMAS = {
  moderation: moderationOptionsSchema,
  tagging: taggingOptionsSchema,
  ocr: ocrOptionsSchema,
  describe: describeOptionsSchema,
} as const satisfies Record<Task, z.ZodObject>;

/** The options of one request, keyed by task; a task without an entry runs with its defaults. */
export const taskOptionsSchema = z.strictObject({
  moderation: moderationOptionsSchema.optional(),
  tagging: taggingOptionsSchema.optional(),
  ocr: ocrOptionsSchema.optional(),
  describe: describeOptionsSchema.optional(),
});
export type TaskOptions = z.infer<typeof taskOptionsSchema>;
/** A task's options as the request carries them (defaults not yet applied). */
export type TaskOptionsInput = z.input<typeof taskOptionsSchema>;

/** The schema that applies to a category: the longest key that is the category or a parent path of it, else "*". */
export function attributeSchemaFor(
  schemas: AttributeSchemas | undefined,
  category: string | null | undefined,
): { key: string; schema: AttributeJsonSchema } | undefined {
  if (!schemas) return undefined;
  const path = (category ?? '').toLowerCase();
  let best: string | undefined;
  for (const key of Object.keys(schemas)) {
    const prefix = key.toLowerCase();
    const covers = key === '*' || path === prefix || path.startsWith(`${prefix}/`);
    if (covers && (best === undefined || best === '*' || key.length > best.length)) best = key;
  }
  const schema = best === undefined ? undefined : schemas[best];
  return best === undefined || !schema ? undefined : { key: best, schema };
}
