import { z } from 'zod';
import { moderationHitSchema } from './moderation.schema';

// Two kinds of schema per task:
// - the model output schema: what a vision model must answer; the JSON schema sent to Ollama as `format` is derived
//   from it (json-schema.ts), and the same schema validates the answer;
// - the task result: what a worker replies, whichever tier answered. It is a superset: CPU engines fill what they can
//   measure, and `needsGpuTier` names what they could not judge.

const confidence = z.number().min(0).max(1);
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
  categories: z.array(moderationHitSchema),
  reason: z.string(),
  confidence,
});
export type ModerationResult = z.infer<typeof moderationResultSchema>;

export const CONDITIONS = ['new', 'like_new', 'used', 'damaged', 'unknown'] as const;

const defect = z.object({
  type: z.string().min(1),
  severity: z.enum(['minor', 'major', 'critical']),
  confidence,
});

export const taggingModelOutputSchema = z.object({
  category: z.string().describe('product category path, e.g. apparel/shoes/sneakers'),
  attributes: z.record(z.string(), z.string()).describe('attribute name to value, e.g. material: leather'),
  condition: z.enum(CONDITIONS),
  defects: z.array(defect),
  confidence: confidence.describe('how sure you are of the category, 0 to 1'),
});

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

export const taggingResultSchema = z.object({
  category: z.string().nullable(),
  attributes: z.record(z.string(), z.string()),
  colours: z.array(colourSchema),
  quality: imageQualitySchema,
  condition: z.enum(CONDITIONS).nullable(),
  defects: z.array(defect),
  confidence: confidence.nullable(),
});
export type TaggingResult = z.infer<typeof taggingResultSchema>;

export const COMPLIANCE_CHECK_IDS = [
  'background_white',
  'fill_ratio',
  'min_resolution',
  'sharpness',
  'exposure',
  'border',
  'text_overlay',
] as const;

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

export const ocrModelOutputSchema = z.object({
  text: z.string().describe('all text in reading order, lines separated by newlines'),
  lines: z.array(z.object({ text: z.string() })),
});

const ocrWord = z.object({ text: z.string(), confidence, box });

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
});
export type OcrResult = z.infer<typeof ocrResultSchema>;

export const PII_MODES = ['off', 'flag', 'redact'] as const;
export const piiModeSchema = z.enum(PII_MODES);
export type PiiMode = z.infer<typeof piiModeSchema>;

/** Personal data found in OCR text; `quote` is left out when the text was redacted. */
export const piiFindingSchema = z.object({
  kind: z.enum(['email', 'phone', 'iban']),
  line: z.number().int().nonnegative(),
  quote: z.string().optional(),
});
