import type { z } from 'zod';
import { ArgusError, resolveSchemaNode } from '@argus/contracts';

/** Model output is untrusted input: parse it as JSON and hold it to the task's contract. */
export function parseModelOutput<Schema extends z.ZodType>(
  schema: Schema,
  content: string,
  model: string,
): z.infer<Schema> {
  return validate(schema, parseJson(content, model), model);
}

/** One value changed before validation. */
export interface Normalisation {
  /** Where, with indices: `categories[0].confidence`. */
  path: string;
  /** Which field, without indices (a metric label): `categories[].confidence`. */
  field: string;
  from: number;
  to: number;
}

export interface ModelOutput<Output> {
  output: Output;
  /** The values normalised before validation. */
  normalised: Normalisation[];
}

/**
 * {@link parseModelOutput} after {@link normaliseConfidences}: what the task engine uses. `format` is the JSON schema
 * the model was given, which says where the 0–1 confidences are.
 */
export function readModelOutput<Schema extends z.ZodType>(
  schema: Schema,
  format: Record<string, unknown>,
  content: string,
  model: string,
): ModelOutput<z.infer<Schema>> {
  const { value, normalised } = normaliseConfidences(parseJson(content, model), format);
  return { output: validate(schema, value, model), normalised };
}

/**
 * Ollama's grammar enforces structure and enums but not number ranges (llama.cpp's json-schema-to-grammar bounds
 * only integers), so a model can answer `"confidence": 85` for a 0–1 field. Where the intent is unambiguous, the
 * value is read as a percent: a property named `confidence` whose schema is a number with minimum 0 and maximum 1,
 * answered with a value in (1, 100], becomes value / 100. Anything else (over 100, negative, another field, values
 * under `customAttributes`, whose schema is the caller's) is left for validation to reject. Returns a copy and the
 * values it changed.
 */
export function normaliseConfidences(
  value: unknown,
  format: Record<string, unknown>,
): { value: unknown; normalised: Normalisation[] } {
  const normalised: Normalisation[] = [];
  const walk = (node: unknown, schema: unknown, path: string): unknown => {
    const spec = resolveSchemaNode(schema, format);
    if (!spec) return node;
    if (Array.isArray(node)) {
      return node.map((item, index) => walk(item, spec.items, `${path}[${index}]`));
    }
    if (typeof node !== 'object' || node === null) return node;
    const properties = asRecord(spec.properties);
    if (!properties) return node;
    const copy: Record<string, unknown> = { ...(node as Record<string, unknown>) };
    for (const [key, propertySchema] of Object.entries(properties)) {
      if (!(key in copy) || CALLER_SCHEMA_FIELDS.has(key)) continue;
      const where = path ? `${path}.${key}` : key;
      const current = copy[key];
      if (
        key === CONFIDENCE_FIELD &&
        isUnitRange(resolveSchemaNode(propertySchema, format)) &&
        isPercent(current)
      ) {
        const to = Math.round(current * 100) / 10_000;
        copy[key] = to;
        normalised.push({ path: where, field: where.replace(/\[\d+\]/g, '[]'), from: current, to });
      } else {
        copy[key] = walk(current, propertySchema, where);
      }
    }
    return copy;
  };
  return { value: walk(value, format, ''), normalised };
}

const CONFIDENCE_FIELD = 'confidence';
/** Fields whose schema the caller wrote: their meaning is the caller's, and their names would be metric labels. */
const CALLER_SCHEMA_FIELDS: ReadonlySet<string> = new Set(['customAttributes']);

function isUnitRange(schema: Record<string, unknown> | undefined): boolean {
  return schema?.type === 'number' && schema.minimum === 0 && schema.maximum === 1;
}

function isPercent(value: unknown): value is number {
  return typeof value === 'number' && value > 1 && value <= 100;
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function parseJson(content: string, model: string): unknown {
  try {
    // JSON.parse allows whitespace around and inside the JSON, which models pad it with.
    return JSON.parse(content);
  } catch {
    throw new ArgusError('INVALID_MODEL_OUTPUT', `${model} answered with text that is not JSON`);
  }
}

function validate<Schema extends z.ZodType>(schema: Schema, json: unknown, model: string): z.infer<Schema> {
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const first = parsed.error.issues.at(0);
    const where = first?.path.join('.') || '(root)';
    throw new ArgusError(
      'INVALID_MODEL_OUTPUT',
      `${model} answered JSON that breaks the contract at ${where}: ${first?.message ?? 'invalid'}`,
    );
  }
  return parsed.data;
}
