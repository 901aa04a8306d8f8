import { z } from 'zod';
import { moderationHitSchema } from './moderation.schema';
import { ocrModeSchema } from './task-options.schema';

// Two kinds of schema per task:
// - the model output schema: what a vision model must answer; the JSON schema sent to Ollama as `format` is derived
//   from it (json-schema.ts), and the same schema validates the answer;
// - the task result: what a worker replies, whichever tier answered. It is a superset: CPU engines fill what they can
//   measure, and `needsGpuTier` names what they could not judge.

const confidence = z.number().min(0).max(1);
/** Notes on how the answer was reached that a caller may want to know; absent when there are none. */
const warnings = z
  .array(z.string())
  .optional()
  .describe(
    "notes on the answer, e.g. a model's percent confidence (85) read as 0.85 before validation; absent when none",
  );
const box = z
  .object({ x: z.number(), y: z.number(), width: z.number(), height: z.number() })
  .describe('pixels of the stored (normalised) image');

export const MODERATION_DECISIONS = ['allow', 'review', 'block'] as const;
export const moderationDecisionSchema = z.enum(MODERATION_DECISIONS);

/** What a vision model answers: the categories it found, with evidence. The decision is the policy's, not the model's. */
export const moderationModelOutputSchema = z.object({
  categories: z.array(moderationHitSchema).describe('every category you find in the image; empty when none'),
  reason: z.string().describe('one sentence summarising what the image shows'),
  confidence: confidence.describe(
    'how sure you are that the list of categories is complete and right, 0 to 1',
  ),
});

export const moderationResultSchema = z.object({
  decision: moderationDecisionSchema,
  policy: z.string(),
  triggeredBy: z.array(z.string()).describe('the categories that produced the decision'),
  categories: z
    .array(moderationHitSchema)
    .describe("the categories found: each at or above the policy's review threshold for it"),
  signals: z
    .array(moderationHitSchema)
    .optional()
    .describe(
      "weak readings that did not count: below the policy's review threshold, or below the evidence the engine needs " +
        'for that category (docs/moderation.md); not found, not in triggeredBy, not in the decision',
    ),
  reason: z.string(),
  confidence,
  warnings,
});
export type ModerationResult = z.infer<typeof moderationResultSchema>;

/**
 * The samples of the decisions counter (argus_moderation_decisions_total) for one answer: one per category found, or
 * category "none". Counted by whichever service gave the answer: the worker, or the gateway from its reply cache.
 */
export function moderationDecisionSamples(
  result: Pick<ModerationResult, 'decision' | 'categories'>,
): Array<{ decision: ModerationResult['decision']; category: string }> {
  const categories = result.categories.length > 0 ? result.categories.map((hit) => hit.id) : ['none'];
  return categories.map((category) => ({ decision: result.decision, category }));
}

export const CONDITIONS = ['new', 'like_new', 'used', 'damaged', 'unknown'] as const;

export const DEFECT_SEVERITIES = ['minor', 'major', 'critical'] as const;

const defect = z.object({
  type: z.string().min(1).describe('scratch, dent, stain, tear, crack, missing_part, discolouration, ...'),
  severity: z.enum(DEFECT_SEVERITIES),
  confidence,
  box: box.optional().describe('where the defect is, in pixels, when you can tell'),
});
export type Defect = z.infer<typeof defect>;

/** What a vision model says about the photo itself, for the listing checks a measurement cannot make. */
export const photoAssessmentSchema = z.object({
  productCount: z.number().int().min(0).describe('how many separate products for sale the photo shows'),
  props: z
    .boolean()
    .describe('true when the photo shows props or accessories that are not part of the product'),
  placeholder: z
    .boolean()
    .describe(
      'true when the image is a placeholder, a drawing or stock artwork instead of a photo of the item',
    ),
});
export type PhotoAssessment = z.infer<typeof photoAssessmentSchema>;

export const taggingModelOutputSchema = z.object({
  category: z.string().describe('product category path, e.g. apparel/shoes/sneakers'),
  attributes: z
    .record(z.string(), z.string())
    .describe(
      'attribute name to value, e.g. material: leather, pattern: striped, brand: the brand text printed',
    ),
  condition: z.enum(CONDITIONS),
  defects: z.array(defect),
  photo: photoAssessmentSchema,
  confidence: confidence.describe('how sure you are of the category, 0 to 1'),
});
export type TaggingModelOutput = z.infer<typeof taggingModelOutputSchema>;

export const colourSchema = z.object({
  name: z.string(),
  hex: z.string().regex(/^#[0-9a-f]{6}$/),
  share: z.number(),
});

/** Deterministic sharp measurements; present on every tier. */
export const imageQualitySchema = z.object({
  width: z.number().int(),
  height: z.number().int(),
  exposure: z.object({
    meanLuminance: z.number(),
    shadowsClipped: z.number(),
    highlightsClipped: z.number(),
    verdict: z.enum(['under', 'ok', 'over']),
  }),
  sharpness: z.object({ laplacianVariance: z.number(), verdict: z.enum(['blurry', 'ok']) }),
});

export const ATTRIBUTE_SOURCES = ['measured', 'ocr', 'model'] as const;

/** A listing field compared with the photo; `matches` is null when this tier could not judge it. */
export const listingConsistencyCheckSchema = z.object({
  field: z.enum(['title', 'category', 'colour', 'brand', 'quantity']),
  expected: z.string(),
  observed: z.string().nullable(),
  matches: z.boolean().nullable(),
  judgedBy: z.enum(['measured', 'ocr', 'model', 'none']),
  message: z.string(),
});

export const listingConsistencySchema = z.object({
  /** False when any judged field mismatches; fields not judged do not fail it. */
  passed: z.boolean(),
  checks: z.array(listingConsistencyCheckSchema),
});
export type ListingConsistency = z.infer<typeof listingConsistencySchema>;

/** Faces found in the photo by the embedded detector, whichever tier answered; boxes in stored-image pixels. */
export const peopleSchema = z.object({
  faces: z.number().int().min(0).describe('how many faces both detector stages are sure of'),
  boxes: z
    .array(
      z.object({
        x: z.number(),
        y: z.number(),
        width: z.number(),
        height: z.number(),
        confidence: confidence.describe('the detector score of the face box'),
      }),
    )
    .describe('one box per face, strongest first, in pixels of the stored (normalised) image'),
  engine: z.literal('blazeface'),
});
export type People = z.infer<typeof peopleSchema>;

export const taggingResultSchema = z.object({
  category: z.string().nullable(),
  attributes: z.record(z.string(), z.string()),
  /** Where each attribute came from: measured colours, text read by OCR, or the vision model's judgement. */
  attributeSources: z.record(z.string(), z.enum(ATTRIBUTE_SOURCES)),
  /** Values for the caller's attribute schema, with the schema key that applied; null without one. */
  customAttributes: z.object({ schema: z.string(), values: z.record(z.string(), z.unknown()) }).nullable(),
  colours: z.array(colourSchema),
  quality: imageQualitySchema,
  condition: z.enum(CONDITIONS).nullable(),
  defects: z.array(defect),
  photo: photoAssessmentSchema.nullable(),
  consistency: listingConsistencySchema.optional(),
  people: peopleSchema
    .nullable()
    .optional()
    .describe(
      'faces in the photo (BlazeFace + face mesh on the CPU); null when the detector failed, absent from older answers',
    ),
  confidence: confidence.nullable(),
  warnings,
});
export type TaggingResult = z.infer<typeof taggingResultSchema>;

/** Checks measured on the CPU whichever tier answered. */
export const CPU_COMPLIANCE_CHECK_IDS = [
  'background_white',
  'fill_ratio',
  'min_resolution',
  'sharpness',
  'exposure',
  'border',
  'text_overlay',
  'no_person',
] as const;
/** Checks that need a vision model's look; on the CPU tier they are reported in `needsGpuTier`. */
export const MODEL_COMPLIANCE_CHECK_IDS = ['single_product', 'no_props', 'not_placeholder'] as const;
export const COMPLIANCE_CHECK_IDS = [...CPU_COMPLIANCE_CHECK_IDS, ...MODEL_COMPLIANCE_CHECK_IDS] as const;

/** Deterministic listing-photo checks, measured on the CPU whichever tier answered. */
export const listingComplianceSchema = z.object({
  profile: z.string(),
  passed: z.boolean(),
  checks: z.array(
    z.object({
      id: z.enum(COMPLIANCE_CHECK_IDS),
      passed: z.boolean(),
      value: z.union([z.number(), z.string(), z.boolean()]),
      threshold: z.union([z.number(), z.string(), z.boolean()]),
      message: z.string(),
    }),
  ),
});
export type ListingCompliance = z.infer<typeof listingComplianceSchema>;

const keyValue = z.object({
  key: z.string().describe('the label as printed, e.g. "Best before", "LOT", "Total"'),
  value: z.string().describe('the value as printed'),
});
const table = z.object({
  rows: z.array(z.array(z.string())).describe('rows of cells, header row first, as printed'),
});
const language = z
  .string()
  .describe('ISO 639-1 code of the main language of the text, e.g. en, de; "und" when there is no text');

export const ocrModelOutputSchema = z.object({
  text: z.string().describe('all text in reading order, lines separated by newlines'),
  lines: z.array(z.object({ text: z.string() })),
  language,
});
/** Document and label modes also ask for structure. */
export const ocrStructuredModelOutputSchema = ocrModelOutputSchema.extend({
  keyValues: z
    .array(keyValue)
    .describe('labelled values such as best-before date, lot, weight, price, total'),
  tables: z.array(table).describe('tables and itemised lists with columns; empty when there are none'),
});
export type OcrStructuredModelOutput = z.infer<typeof ocrStructuredModelOutputSchema>;

const ocrWord = z.object({ text: z.string(), confidence, box });

export const ocrKeyValueSchema = keyValue.extend({
  /** Index into `lines` of the line it was read from, on the CPU tier. */
  line: z.number().int().nonnegative().optional(),
  source: z
    .enum(['text', 'model'])
    .describe('text: parsed from the read lines; model: a vision model extracted it'),
});
export type OcrKeyValue = z.infer<typeof ocrKeyValueSchema>;

export const ocrResultSchema = z.object({
  text: z.string(),
  lines: z.array(
    z.object({
      text: z.string(),
      confidence: confidence.optional(),
      box: box.optional(),
      words: z.array(ocrWord).optional(),
    }),
  ),
  confidence: confidence.nullable().describe('mean word confidence on the CPU tier; null for vision models'),
  mode: ocrModeSchema,
  language: z.object({ code: z.string(), confidence: confidence.nullable() }),
  keyValues: z.array(ocrKeyValueSchema),
  tables: z.array(table),
  orientation: z
    .object({
      angle: z
        .union([z.literal(0), z.literal(90), z.literal(180), z.literal(270)])
        .describe('degrees the page was turned clockwise from upright; the text was read turned back'),
      confidence,
    })
    .optional()
    .describe('how the page was turned, on the CPU tier; boxes stay in pixels of the stored image as sent'),
  warnings,
});
export type OcrResult = z.infer<typeof ocrResultSchema>;

/** Personal data found in OCR text; `quote` is left out when the text was redacted. */
export const piiFindingSchema = z.object({
  kind: z.enum(['email', 'phone', 'iban']),
  line: z.number().int().nonnegative(),
  quote: z.string().optional(),
});

/** Alt text longer than this is cut by screen readers and by most shops' listing forms (WCAG practice: ~125). */
export const ALT_TEXT_MAX_LENGTH = 125;
export const DESCRIBE_MAX_TAGS = 12;

/** What a vision model answers for `describe`; `answer` only when the request asked a question. */
export const describeModelOutputSchema = z.object({
  caption: z.string().max(300).describe('one sentence saying what the image shows'),
  altText: z
    .string()
    .max(ALT_TEXT_MAX_LENGTH)
    .describe(
      `alt text for a shop listing, at most ${ALT_TEXT_MAX_LENGTH} characters, without "image of" or "picture of"`,
    ),
  tags: z
    .array(z.string().max(40))
    .max(DESCRIBE_MAX_TAGS)
    .describe('short lowercase keywords for what is visible'),
});
export const describeAnswerModelOutputSchema = describeModelOutputSchema.extend({
  answer: z
    .string()
    .max(500)
    .describe('the answer to the question from what is visible in the image only, or "unknown"'),
  answerConfidence: confidence.describe(
    'how sure you are of the answer, 0 to 1; 0 when the answer is "unknown"',
  ),
});
export type DescribeModelOutput = z.infer<typeof describeAnswerModelOutputSchema>;

export const describeAnswerSchema = z.object({
  question: z.string(),
  text: z
    .string()
    .describe('the answer, from what is visible only; "unknown" when the image does not show it'),
  confidence: confidence.nullable().describe('null when the engine has no calibrated confidence'),
});

export const describeResultSchema = z.object({
  caption: z.string().describe('one sentence; on the CPU tier built only from what was measured'),
  altText: z.string().max(ALT_TEXT_MAX_LENGTH),
  tags: z.array(z.string()),
  language: z.string().describe('BCP 47 tag of the text'),
  answer: describeAnswerSchema
    .nullable()
    .describe('present when the request asked a question; null when this tier cannot answer it'),
  confidence: confidence.nullable(),
  warnings,
});
export type DescribeResult = z.infer<typeof describeResultSchema>;
