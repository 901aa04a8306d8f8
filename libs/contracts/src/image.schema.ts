import { z } from 'zod';

export const SOURCE_FORMATS = ['jpeg', 'png', 'webp', 'gif', 'tiff', 'avif'] as const;
export const sourceFormatSchema = z.enum(SOURCE_FORMATS);
export type SourceFormat = z.infer<typeof sourceFormatSchema>;

/** Where a worker finds the normalised bytes: a claim check into the JetStream object store. */
export const imageRefSchema = z.object({
  bucket: z.string().min(1),
  key: z.string().min(1),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  mime: z.enum(['image/jpeg', 'image/png']),
});
export type ImageRef = z.infer<typeof imageRefSchema>;

/** What the gateway reports about the image it received. */
export const imageSummarySchema = z.object({
  sha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .describe('sha256 of the bytes as uploaded'),
  width: z.number().int().positive().describe('width after orientation and the long-side cap'),
  height: z.number().int().positive(),
  format: sourceFormatSchema.describe('type sniffed from the uploaded bytes'),
  bytes: z.number().int().nonnegative().describe('size of the upload in bytes'),
});
export type ImageSummary = z.infer<typeof imageSummarySchema>;
