import { z } from 'zod';
import { imageSummarySchema } from './image.schema';
import {
  describeReplySchema,
  moderationReplySchema,
  ocrReplySchema,
  taggingReplySchema,
} from './task-messages.schema';
import { DEFAULT_TASKS, TASKS } from './tasks';
import { tierChoiceSchema } from './tiers';
import {
  attributeSchemasSchema,
  categoryListSchema,
  languageTagSchema,
  listingSchema,
  ocrModeSchema,
  piiModeSchema,
  type TaskOptions,
} from './task-options.schema';

export const taskSchema = z.enum(TASKS);
/** Built once: a schema made inside the transform below would be rebuilt on every request. */
const taskListSchema = z.array(taskSchema).min(1);

/** `tasks` arrives as a JSON array or, in multipart forms, as a comma list. */
export const tasksFieldSchema = z
  .union([z.array(taskSchema), z.string()])
  .transform((value, ctx) => {
    const list =
      typeof value === 'string'
        ? value
            .split(',')
            .map((part) => part.trim())
            .filter(Boolean)
        : value;
    const parsed = taskListSchema.safeParse(list);
    if (!parsed.success) {
      ctx.addIssue({ code: 'custom', message: `tasks must be a non-empty list of ${TASKS.join(', ')}` });
      return z.NEVER;
    }
    return [...new Set(parsed.data)];
  })
  .optional()
  .transform((tasks) => tasks ?? [...DEFAULT_TASKS]);

/** `fallback` arrives as a boolean in JSON and as text in forms and query strings. */
const fallbackFieldSchema = z
  .union([z.boolean(), z.enum(['true', 'false'])])
  .optional()
  .transform((value) => value === true || value === 'true');

/**
 * Structured options arrive as objects in JSON bodies and as JSON text in forms and query strings; both pass the
 * same schema, so a form and a JSON body can never disagree about what is valid.
 */
function structuredField<Schema extends z.ZodType>(schema: Schema) {
  return z.preprocess((value) => {
    if (typeof value !== 'string') return value;
    try {
      return JSON.parse(value) as unknown;
    } catch {
      return value;
    }
  }, schema);
}

/** `categories` is a JSON array, or a comma list in forms (category paths have no commas). */
const categoriesFieldSchema = z.preprocess((value) => {
  if (typeof value !== 'string') return value;
  const trimmed = value.trim();
  if (trimmed.startsWith('[')) {
    try {
      return JSON.parse(trimmed) as unknown;
    } catch {
      return value;
    }
  }
  return trimmed
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean);
}, categoryListSchema);

/**
 * Routing and per-task option fields shared by every body that asks for analysis (`/v1/analyze`, `/v1/jobs`), so
 * the two endpoints can never disagree about what an option means or accepts.
 */
export const routingFields = {
  tier: tierChoiceSchema.optional().transform((tier) => tier ?? 'auto'),
  fallback: fallbackFieldSchema,
  /** A listing-compliance profile name; the gateway checks it against the loaded profiles. */
  profile: z.string().min(1).optional(),
  /** A moderation policy name; the gateway checks it against the loaded policies. */
  policy: z.string().min(1).optional(),
  /** OCR: `flag` or `redact` personal data (e-mail, phone, IBAN) in the text. */
  pii: piiModeSchema.optional(),
  /** OCR: document, label or scene. */
  ocrMode: ocrModeSchema.optional(),
  /** Tagging: the caller's own category list; the answer is one of them. */
  categories: categoriesFieldSchema.optional(),
  /** Tagging: JSON schemas for open-vocabulary attributes, keyed by category path. */
  attributeSchemas: structuredField(attributeSchemasSchema).optional(),
  /** Tagging: what the listing says (title, category, colour, brand, quantity), compared with the photo. */
  listing: structuredField(listingSchema).optional(),
  /** Describe: a question about the image, answered from what is visible only. */
  question: z.string().trim().min(1).max(500).optional(),
  /** Describe: the language of the caption, alt text and answer (BCP 47); English when absent. */
  language: languageTagSchema.optional(),
};

/** The per-task option fields of an analysis body, as parsed. */
export interface TaskOptionFields {
  profile?: string;
  policy?: string;
  pii?: z.infer<typeof piiModeSchema>;
  ocrMode?: z.infer<typeof ocrModeSchema>;
  categories?: string[];
  attributeSchemas?: z.infer<typeof attributeSchemasSchema>;
  listing?: z.infer<typeof listingSchema>;
  question?: string;
  language?: string;
}

/**
 * The body's flat option fields as the `options` object keyed by task that travels to the workers untouched. The
 * one place that knows which field belongs to which task; a task asked for without options gets no entry.
 */
export function taskOptionsFromFields(fields: TaskOptionFields): TaskOptions {
  const defined = <Entry extends object>(entry: Entry): Entry | undefined => {
    const kept = Object.fromEntries(Object.entries(entry).filter(([, value]) => value !== undefined));
    return Object.keys(kept).length > 0 ? (kept as Entry) : undefined;
  };
  const moderation = defined({ policy: fields.policy });
  const tagging = defined({
    profile: fields.profile,
    categories: fields.categories,
    attributeSchemas: fields.attributeSchemas,
    listing: fields.listing,
  });
  const describeOptions =
    fields.question !== undefined || fields.language !== undefined
      ? {
          language: fields.language ?? 'en',
          ...(fields.question !== undefined ? { question: fields.question } : {}),
        }
      : undefined;
  const ocr =
    fields.ocrMode !== undefined || fields.pii !== undefined
      ? { mode: fields.ocrMode ?? 'document', ...(fields.pii !== undefined ? { pii: fields.pii } : {}) }
      : undefined;
  return {
    ...(moderation ? { moderation } : {}),
    ...(tagging ? { tagging } : {}),
    ...(ocr ? { ocr } : {}),
    ...(describeOptions ? { describe: describeOptions } : {}),
  };
}

/** Every option field of an analysis: the tasks plus the routing and per-task options. */
export const analysisOptionFields = { tasks: tasksFieldSchema, ...routingFields };

/** An http(s) URL the gateway fetches the image from, with the SSRF checks of @argus/url-intake. */
const imageUrlSchema = z
  .string()
  .trim()
  .min(1, 'imageUrl is empty')
  .max(4096, 'imageUrl is longer than 4096');

/** Where an image in a JSON body comes from: inline bytes or a URL. Exactly one is required. */
export const imageSourceFields = {
  imageBase64: z.string().min(1, 'imageBase64 is empty').optional(),
  imageUrl: imageUrlSchema.optional(),
};

/** The refinement that wants exactly one image source; the issue names `first`, as the caller's docs do. */
export function exactlyOneImageSource(first: 'imageBase64' | 'imageUrl', second: 'imageBase64' | 'imageUrl') {
  return (body: { imageBase64?: string; imageUrl?: string }, ctx: z.RefinementCtx) => {
    if ((body.imageBase64 === undefined) === (body.imageUrl === undefined)) {
      ctx.addIssue({ code: 'custom', path: [first], message: `send exactly one of ${first} and ${second}` });
    }
  };
}

export const analyzeJsonBodySchema = z
  .strictObject({ ...imageSourceFields, ...analysisOptionFields })
  .superRefine(exactlyOneImageSource('imageBase64', 'imageUrl'));
export type AnalyzeJsonBody = z.input<typeof analyzeJsonBodySchema>;

/** Text fields of the multipart form (the file travels in field `image`, or its address in `imageUrl`). */
export const analyzeFormFieldsSchema = z.strictObject({
  imageUrl: imageUrlSchema.optional(),
  ...analysisOptionFields,
});

export const analyzeResultsSchema = z.object({
  moderation: moderationReplySchema.optional(),
  tagging: taggingReplySchema.optional(),
  ocr: ocrReplySchema.optional(),
  describe: describeReplySchema.optional(),
});
export type AnalyzeResults = z.infer<typeof analyzeResultsSchema>;

export const analyzeResponseSchema = z.object({
  id: z.string(),
  traceId: z.string(),
  image: imageSummarySchema,
  results: analyzeResultsSchema,
});
export type AnalyzeResponse = z.infer<typeof analyzeResponseSchema>;

/** RFC 9457 problem details, extended with Argus' stable code and the trace id. */
export const problemSchema = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string(),
  code: z.string(),
  traceId: z.string(),
  instance: z.string().optional(),
  errors: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
  results: analyzeResultsSchema.optional(),
});
export type Problem = z.infer<typeof problemSchema>;
