import { z } from 'zod';
import { taskErrorSchema } from './error-codes';
import { imageRefSchema } from './image.schema';
import { moderationResultSchema, ocrResultSchema, taggingResultSchema } from './task-results.schema';
import type { Task } from './tasks';

/** Sent by the gateway on a task subject; the image travels by reference, never inline. */
export const taskRequestSchema = z.object({
  requestId: z.string().min(1),
  image: imageRefSchema,
});
export type TaskRequest = z.infer<typeof taskRequestSchema>;

const replyMetaSchema = z.object({
  engine: z.enum(['ollama', 'cpu', 'none']),
  model: z.string(),
  durationMs: z.number().nonnegative(),
});

/** The worker's reply: either the task's own fields or a coded error, always with engine, model and time. */
function taskReplySchema<Shape extends z.ZodRawShape>(result: z.ZodObject<Shape>) {
  return z.discriminatedUnion('status', [
    replyMetaSchema.extend({ status: z.literal('ok') }).extend(result.shape),
    replyMetaSchema.extend({ status: z.literal('error'), error: taskErrorSchema }),
  ]);
}

export const moderationReplySchema = taskReplySchema(moderationResultSchema);
export const taggingReplySchema = taskReplySchema(taggingResultSchema);
export const ocrReplySchema = taskReplySchema(ocrResultSchema);

export type ModerationReply = z.infer<typeof moderationReplySchema>;
export type TaggingReply = z.infer<typeof taggingReplySchema>;
export type OcrReply = z.infer<typeof ocrReplySchema>;
export type TaskReply = ModerationReply | TaggingReply | OcrReply;
export type TaskErrorReply = Extract<TaskReply, { status: 'error' }>;

export const TASK_RESULT_SCHEMAS = {
  moderation: moderationResultSchema,
  tagging: taggingResultSchema,
  ocr: ocrResultSchema,
} as const satisfies Record<Task, z.ZodObject>;

export const TASK_REPLY_SCHEMAS = {
  moderation: moderationReplySchema,
  tagging: taggingReplySchema,
  ocr: ocrReplySchema,
} as const satisfies Record<Task, z.ZodType>;

export const pingReplySchema = z.object({
  service: z.string(),
  ready: z.boolean(),
  checks: z.record(z.string(), z.object({ ok: z.boolean(), detail: z.string() })),
});
export type PingReply = z.infer<typeof pingReplySchema>;
