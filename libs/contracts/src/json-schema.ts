import { z } from 'zod';
import type { Task } from './tasks';
import { MODEL_OUTPUT_SCHEMAS } from './task-messages.schema';

/**
 * The JSON schema Ollama receives as `format`, derived from the same zod schema that validates the answer,
 * so the two can never drift. `$schema` is dropped: llama.cpp's grammar converter does not need it.
 */
export function modelOutputJsonSchema(task: Task): Record<string, unknown> {
  return toModelFormat(MODEL_OUTPUT_SCHEMAS[task]);
}

/** `format` for any output schema, including the ones built per request. */
export function toModelFormat(schema: z.ZodType): Record<string, unknown> {
  const json: Record<string, unknown> = { ...z.toJSONSchema(schema, { target: 'draft-7' }) };
  delete json.$schema;
  return json;
}
