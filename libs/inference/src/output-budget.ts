/**
 * How many tokens an Ollama answer may take (`num_predict`), derived from the JSON schema sent as `format` when the
 * catalog does not set `numPredict`. Without it Ollama stops only at 10 × num_ctx (llm/server.go, Completion), so a
 * model that loops in a string or an array holds its GPU slot for minutes and answers nothing usable.
 *
 * The rule (docs/inference.md, "Bounded answers"): the characters of the largest answer the schema allows when
 * - a free-text string is {@link TEXT_CHARS} long (an enum is its longest value; `maxLength` counts as written),
 * - an array holds {@link ARRAY_ITEMS} items (or its `maxItems`), a map {@link ARRAY_ITEMS} entries,
 * - a number takes {@link NUMBER_CHARS}, a boolean 5 and every key, quote, colon and comma is counted,
 * divided by {@link CHARS_PER_TOKEN}, then held between {@link MIN_NUM_PREDICT} and a quarter of the context (a
 * repair call repeats the previous answer before the new one, beside the image and prompt).
 */

import { resolveSchemaNode } from '@argus/contracts';

/** Characters of one free-text string: two long sentences. */
export const TEXT_CHARS = 160;
/** Items of an array (or entries of a map) without maxItems. */
export const ARRAY_ITEMS = 8;
/** Characters of a number such as 0.95 or 1024.5, with room to spare. */
export const NUMBER_CHARS = 8;
/** Characters of a map key without a schema. */
const MAP_KEY_CHARS = 16;
/** JSON with short keys and punctuation, as qwen2.5vl's tokenizer cuts it; whitespace padding included. */
export const CHARS_PER_TOKEN = 3;
/** Below this even a tiny schema is cut off by a model that pads its JSON with whitespace. */
export const MIN_NUM_PREDICT = 256;
/** Context assumed for the cap when the tier's is not known (tests). */
const DEFAULT_CONTEXT = 8192;
/** Guard against a self-referencing schema. */
const MAX_DEPTH = 12;

type JsonSchema = Record<string, unknown>;

/** The derived `num_predict` for an answer to `format` on a runner with `contextLength` tokens of context. */
export function deriveNumPredict(format: JsonSchema, contextLength: number = DEFAULT_CONTEXT): number {
  const tokens = Math.ceil(answerChars(format, format, 0) / CHARS_PER_TOKEN);
  const cap = Math.max(MIN_NUM_PREDICT, Math.floor(contextLength / 4));
  return Math.min(cap, Math.max(MIN_NUM_PREDICT, tokens));
}

/** The catalog's value when set, else the derived one. */
export function numPredictFor(
  format: JsonSchema,
  catalog: { numPredict?: number; contextLength?: number },
): number {
  return catalog.numPredict ?? deriveNumPredict(format, catalog.contextLength);
}

function answerChars(schema: unknown, root: JsonSchema, depth: number): number {
  if (typeof schema !== 'object' || schema === null || depth > MAX_DEPTH) return TEXT_CHARS;
  const node = resolveSchemaNode(schema, root) ?? {};
  const branches = (node.anyOf ?? node.oneOf) as unknown[] | undefined;
  if (Array.isArray(branches) && branches.length > 0) {
    return Math.max(...branches.map((branch) => answerChars(branch, root, depth + 1)));
  }
  if (Array.isArray(node.enum)) return Math.max(4, ...node.enum.map((value) => JSON.stringify(value).length));
  if ('const' in node) return JSON.stringify(node.const).length;
  const type = Array.isArray(node.type) ? (node.type as unknown[]).find((t) => t !== 'null') : node.type;
  switch (type) {
    case 'object':
      return objectChars(node, root, depth);
    case 'array': {
      const items = typeof node.maxItems === 'number' ? node.maxItems : ARRAY_ITEMS;
      return 2 + items * (answerChars(node.items, root, depth + 1) + 1);
    }
    case 'string':
      return 2 + (typeof node.maxLength === 'number' ? node.maxLength : TEXT_CHARS);
    case 'number':
    case 'integer':
      return NUMBER_CHARS;
    case 'boolean':
      return 5;
    case 'null':
      return 4;
    default:
      return TEXT_CHARS;
  }
}

function objectChars(node: JsonSchema, root: JsonSchema, depth: number): number {
  const properties = (node.properties ?? {}) as Record<string, unknown>;
  let chars = 2;
  for (const [key, value] of Object.entries(properties)) {
    // "key": value, — quotes, colon and comma around the key.
    chars += key.length + 4 + answerChars(value, root, depth + 1);
  }
  const extra = node.additionalProperties;
  if (Object.keys(properties).length === 0 && extra !== false && extra !== undefined) {
    const value = typeof extra === 'object' ? answerChars(extra, root, depth + 1) : TEXT_CHARS;
    chars += ARRAY_ITEMS * (MAP_KEY_CHARS + 4 + value);
  }
  return chars;
}
