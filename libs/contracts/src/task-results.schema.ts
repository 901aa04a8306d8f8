import { z } from 'zod';

// Result schemas are written once: workers validate model output against them, the gateway validates replies
// against them, and the JSON schema sent to Ollama as `format` is derived from them (see json-schema.ts).

export const MODERATION_DECISIONS = ['allow', 'review', 'block'] as const;
export const moderationDecisionSchema = z.enum(MODERATION_DECISIONS);

export const moderationResultSchema = z.object({
  decision: moderationDecisionSchema,
  categories: z
    .array(
      z.object({
        id: z.string().min(1).describe('category id, e.g. sexual.explicit or violence.graphic'),
        confidence: z.number().min(0).max(1),
      }),
    )
    .describe('categories found in the image; empty when none'),
  reason: z.string().describe('one sentence explaining the decision'),
});
export type ModerationResult = z.infer<typeof moderationResultSchema>;

export const CONDITIONS = ['new', 'like_new', 'used', 'damaged', 'unknown'] as const;

export const taggingResultSchema = z.object({
  category: z.string().describe('product category path, e.g. apparel/shoes/sneakers'),
  attributes: z.record(z.string(), z.string()).describe('attribute name to value, e.g. colour: red'),
  condition: z.enum(CONDITIONS),
  defects: z.array(
    z.object({
      type: z.string().min(1),
      severity: z.enum(['minor', 'major', 'critical']),
      confidence: z.number().min(0).max(1),
    }),
  ),
});
export type TaggingResult = z.infer<typeof taggingResultSchema>;

export const ocrResultSchema = z.object({
  text: z.string().describe('all text in reading order, lines separated by newlines'),
  lines: z.array(z.object({ text: z.string() })),
});
export type OcrResult = z.infer<typeof ocrResultSchema>;
