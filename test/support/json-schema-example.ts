/**
 * Builds the smallest JSON value that a JSON schema accepts, so the Ollama stand-in can answer a structured-output
 * request the way a well-behaved model would (llama.cpp constrains sampling to the schema, so real answers always
 * parse). Covers what zod's `z.toJSONSchema` emits (draft-7 and 2020-12); `pattern` and string formats beyond the
 * common ones are not solved, so a schema that relies on them needs a scripted `content` instead.
 */

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

// Deep enough for any real output contract, shallow enough that a recursive schema cannot blow the stack.
const MAX_DEPTH = 32;
// Optional properties are filled too (the brief asks for all listed properties), but not so deep that an optional
// recursive property expands until MAX_DEPTH.
const OPTIONAL_DEPTH = 8;

export function exampleFromJsonSchema(schema: unknown): JsonValue {
  return generate(schema, schema, 0);
}

type SchemaNode = Record<string, unknown>;

function isRecord(value: unknown): value is SchemaNode {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function finite(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function generate(node: unknown, root: unknown, depth: number): JsonValue {
  // `true`, `{}` and anything past the depth limit accept every value; null is the simplest one.
  if (depth > MAX_DEPTH || !isRecord(node)) return null;

  if (typeof node.$ref === 'string') return generate(resolveRef(node.$ref, root), root, depth + 1);
  if ('const' in node) return node.const as JsonValue;
  if (Array.isArray(node.enum) && node.enum.length > 0) return node.enum[0] as JsonValue;
  for (const key of ['anyOf', 'oneOf'] as const) {
    const branches = node[key];
    if (Array.isArray(branches) && branches.length > 0) return generate(branches[0], root, depth + 1);
  }
  if (Array.isArray(node.allOf) && node.allOf.length > 0) {
    return generate(mergeAllOf(node, root), root, depth + 1);
  }

  const type = pickType(node);
  switch (type) {
    case 'object':
      return objectExample(node, root, depth);
    case 'array':
      return arrayExample(node, root, depth);
    case 'string':
      return stringExample(node);
    case 'number':
      return numberExample(node);
    case 'integer':
      return integerExample(node);
    case 'boolean':
      return false;
    case 'null':
    case 'any':
      return null;
  }
}

type SchemaType = 'object' | 'array' | 'string' | 'number' | 'integer' | 'boolean' | 'null' | 'any';
const TYPES: readonly string[] = ['object', 'array', 'string', 'number', 'integer', 'boolean', 'null'];

function pickType(node: SchemaNode): SchemaType {
  const declared = node.type;
  if (typeof declared === 'string' && TYPES.includes(declared)) return declared as SchemaType;
  if (Array.isArray(declared)) {
    // A nullable union: prefer the informative type so the example exercises the consumer's real path.
    const named = declared.filter((t): t is string => typeof t === 'string' && TYPES.includes(t));
    const chosen: string | undefined = named.find((t) => t !== 'null') ?? named.at(0);
    return chosen === undefined ? 'any' : (chosen as SchemaType);
  }
  if ('properties' in node || 'required' in node || 'additionalProperties' in node) return 'object';
  if ('items' in node || 'prefixItems' in node || 'minItems' in node) return 'array';
  if ('minLength' in node || 'maxLength' in node || 'pattern' in node || 'format' in node) return 'string';
  if ('minimum' in node || 'maximum' in node || 'exclusiveMinimum' in node || 'exclusiveMaximum' in node) {
    return 'number';
  }
  return 'any';
}

function resolveRef(ref: string, root: unknown): unknown {
  if (ref === '#') return root;
  if (!ref.startsWith('#/'))
    throw new Error(`json-schema-example: only local $ref is supported, got "${ref}"`);
  let target: unknown = root;
  for (const raw of ref.slice(2).split('/')) {
    const segment = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    if (!isRecord(target) || !(segment in target)) {
      throw new Error(`json-schema-example: cannot resolve $ref "${ref}"`);
    }
    target = target[segment];
  }
  return target;
}

function mergeAllOf(node: SchemaNode, root: unknown): SchemaNode {
  const { allOf, ...rest } = node;
  const merged: SchemaNode = { ...rest };
  const properties: SchemaNode = isRecord(rest.properties) ? { ...rest.properties } : {};
  const required = new Set<string>(Array.isArray(rest.required) ? rest.required.filter(isString) : []);
  for (const part of allOf as unknown[]) {
    const branch = isRecord(part) && typeof part.$ref === 'string' ? resolveRef(part.$ref, root) : part;
    if (!isRecord(branch)) continue;
    const { properties: branchProps, required: branchRequired, ...others } = branch;
    Object.assign(merged, others, rest);
    if (isRecord(branchProps)) Object.assign(properties, branchProps);
    if (Array.isArray(branchRequired)) for (const key of branchRequired.filter(isString)) required.add(key);
  }
  if (Object.keys(properties).length > 0) merged.properties = properties;
  if (required.size > 0) merged.required = [...required];
  return merged;
}

function isString(value: unknown): value is string {
  return typeof value === 'string';
}

function objectExample(node: SchemaNode, root: unknown, depth: number): JsonValue {
  const properties = isRecord(node.properties) ? node.properties : {};
  const required = Array.isArray(node.required) ? node.required.filter(isString) : [];
  const out: Record<string, JsonValue> = {};
  for (const [key, schema] of Object.entries(properties)) {
    if (!required.includes(key) && depth >= OPTIONAL_DEPTH) continue;
    out[key] = generate(schema, root, depth + 1);
  }
  // A required key with no property schema is governed by additionalProperties.
  for (const key of required) {
    if (!Object.hasOwn(out, key)) out[key] = generate(node.additionalProperties, root, depth + 1);
  }
  return out;
}

function arrayExample(node: SchemaNode, root: unknown, depth: number): JsonValue {
  // 2020-12 tuples use prefixItems; draft-7 tuples use an array-valued items.
  const prefix = Array.isArray(node.prefixItems)
    ? (node.prefixItems as unknown[])
    : Array.isArray(node.items)
      ? (node.items as unknown[])
      : [];
  const rest = Array.isArray(node.items) ? node.additionalItems : node.items;
  const out = prefix.map((schema) => generate(schema, root, depth + 1));
  const minItems = finite(node.minItems) ?? 0;
  while (out.length < minItems) out.push(generate(rest, root, depth + 1));
  return out;
}

const FORMAT_EXAMPLES: Readonly<Record<string, string>> = {
  'date-time': '2024-01-01T00:00:00Z',
  date: '2024-01-01',
  time: '00:00:00Z',
  email: 'stand-in@example.com',
  uri: 'https://example.com/stand-in',
  url: 'https://example.com/stand-in',
  uuid: '00000000-0000-4000-8000-000000000000',
  ipv4: '127.0.0.1',
  ipv6: '::1',
  hostname: 'example.com',
};

function stringExample(node: SchemaNode): string {
  let value = (typeof node.format === 'string' ? FORMAT_EXAMPLES[node.format] : undefined) ?? 'stand-in';
  const minLength = finite(node.minLength);
  const maxLength = finite(node.maxLength);
  if (minLength !== undefined && value.length < minLength) value = value.padEnd(minLength, '-x');
  if (maxLength !== undefined && value.length > maxLength) value = value.slice(0, maxLength);
  return value;
}

interface Bounds {
  lo?: number;
  loExclusive: boolean;
  hi?: number;
  hiExclusive: boolean;
}

function bounds(node: SchemaNode): Bounds {
  const b: Bounds = { loExclusive: false, hiExclusive: false };
  const minimum = finite(node.minimum);
  const maximum = finite(node.maximum);
  // Draft-4 spells exclusivity as a boolean beside minimum/maximum; later drafts give the bound itself.
  const exMin = node.exclusiveMinimum === true ? minimum : finite(node.exclusiveMinimum);
  const exMax = node.exclusiveMaximum === true ? maximum : finite(node.exclusiveMaximum);
  if (minimum !== undefined) b.lo = minimum;
  if (exMin !== undefined && (b.lo === undefined || exMin >= b.lo)) {
    b.lo = exMin;
    b.loExclusive = true;
  }
  if (maximum !== undefined) b.hi = maximum;
  if (exMax !== undefined && (b.hi === undefined || exMax <= b.hi)) {
    b.hi = exMax;
    b.hiExclusive = true;
  }
  return b;
}

function numberExample(node: SchemaNode): number {
  const { lo, loExclusive, hi, hiExclusive } = bounds(node);
  // 0.5 sits inside the usual confidence range [0, 1], so generated scores look plausible.
  let value = 0.5;
  if (lo !== undefined && (value < lo || (loExclusive && value === lo))) {
    value = loExclusive ? (hi !== undefined ? (lo + hi) / 2 : lo + 1) : lo;
  }
  if (hi !== undefined && (value > hi || (hiExclusive && value === hi))) {
    value = hiExclusive ? (lo !== undefined ? (lo + hi) / 2 : hi - 1) : hi;
  }
  const multipleOf = finite(node.multipleOf);
  if (multipleOf !== undefined && multipleOf > 0) {
    const up = Math.ceil(value / multipleOf) * multipleOf;
    value = hi !== undefined && up > hi ? Math.floor(value / multipleOf) * multipleOf : up;
  }
  return value;
}

function integerExample(node: SchemaNode): number {
  const { lo, loExclusive, hi, hiExclusive } = bounds(node);
  let value = 0;
  if (lo !== undefined) value = loExclusive ? Math.floor(lo) + 1 : Math.ceil(lo);
  if (hi !== undefined) {
    const top = hiExclusive ? Math.ceil(hi) - 1 : Math.floor(hi);
    if (value > top) value = top;
  }
  const multipleOf = finite(node.multipleOf);
  if (multipleOf !== undefined && multipleOf > 0 && Number.isInteger(multipleOf)) {
    value = Math.ceil(value / multipleOf) * multipleOf;
  }
  return value;
}
