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

/**
 * A node of a `format` schema with a local `$ref` (`#/definitions/x`, `#/$defs/x`) followed to its target in `root`;
 * undefined for anything that is not a schema object, or a reference that leads nowhere.
 */
export function resolveSchemaNode(
  node: unknown,
  root: Record<string, unknown>,
): Record<string, unknown> | undefined {
  const schema = asObject(node);
  const ref = schema?.$ref;
  if (typeof ref !== 'string' || !ref.startsWith('#')) return schema;
  let target: unknown = root;
  for (const part of ref.slice(1).split('/').filter(Boolean)) target = asObject(target)?.[part];
  return asObject(target);
}

function asObject(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}
