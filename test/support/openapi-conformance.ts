// Checks an HTTP response against docs/openapi.json: the operation, the status, the headers the document requires, the
// content type and, for JSON bodies, the schema. test/support/openapi-conformance-setup.ts runs it on every response
// an integration or e2e test receives from a gateway (issue 16), so the document cannot drift from the behaviour.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020, { type ErrorObject, type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';

type JsonObject = Record<string, unknown>;

export interface ObservedResponse {
  method: string;
  /** The request URL, absolute or a path with its query. */
  url: string;
  status: number;
  /** Response headers; a Headers object or a plain record (names in any case). */
  headers: Headers | Record<string, string | string[] | undefined>;
  /** The Content-Type header when not in `headers`; `headers` wins otherwise. */
  contentType?: string;
  /** The body as text when read (JSON bodies are parsed here); undefined when not read (streams, images). */
  body?: string;
}

const DOCUMENT_PATH = join(__dirname, '..', '..', 'docs', 'openapi.json');
const DOCUMENT_ID = 'https://argus.invalid/openapi.json';
/** Ajv errors printed per response; the rest are counted. */
const MAX_SCHEMA_ERRORS = 8;
const JSON_TYPES = new Set(['application/json', 'application/problem+json']);
const METHODS = new Set(['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']);

/**
 * The one exception to "every path is documented": a request to a route the gateway does not have is answered 404
 * (or 405) with a problem, which is what the document promises for anything outside it. Such answers are still
 * checked (a problem+json body valid against Problem); any other status on an undocumented route is reported.
 */
const UNDOCUMENTED_ROUTE_REFUSALS = new Set([404, 405]);

interface Route {
  template: string;
  pattern: RegExp;
  item: JsonObject;
}

interface Loaded {
  document: JsonObject;
  routes: Route[];
  ajv: Ajv2020;
  validators: Map<string, ValidateFunction>;
}

let loaded: Loaded | undefined;

function load(): Loaded {
  if (loaded) return loaded;
  const document = JSON.parse(readFileSync(DOCUMENT_PATH, 'utf8')) as JsonObject;
  // The document is added whole under an id, so that `#/components/schemas/...` inside a schema resolves in it; Ajv
  // compiles only the fragments a response points at. strict: false because an OpenAPI document is more than a schema.
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  addFormats(ajv);
  ajv.addSchema(document, DOCUMENT_ID);
  const paths = (document.paths ?? {}) as Record<string, JsonObject>;
  const routes = Object.entries(paths).map(([template, item]) => ({
    template,
    item,
    pattern: new RegExp(
      `^${template
        .split(/(\{[^}]+\})/)
        .map((part) => (part.startsWith('{') ? '[^/]+' : part.replace(/[.*+?^$()|[\]\\]/g, '\\$&')))
        .join('')}$`,
    ),
  }));
  // Literal paths before templated ones, so that /docs is not taken for /docs/{asset} (or the reverse).
  routes.sort((a, b) => Number(a.template.includes('{')) - Number(b.template.includes('{')));
  loaded = { document, routes, ajv, validators: new Map() };
  return loaded;
}

/** The parsed docs/openapi.json, as the checks read it. */
export function openApiDocument(): JsonObject {
  return load().document;
}

/** Follows a local `$ref` (`#/components/...`) to the object it names. */
function deref(node: unknown): JsonObject | undefined {
  let current = node as JsonObject | undefined;
  for (let hops = 0; current && typeof current.$ref === 'string' && hops < 10; hops += 1) {
    const pointer = current.$ref.replace(/^#\//, '').split('/');
    let target: unknown = load().document;
    for (const segment of pointer) {
      target = (target as JsonObject | undefined)?.[segment.replace(/~1/g, '/').replace(/~0/g, '~')];
    }
    current = target as JsonObject | undefined;
  }
  return current;
}

/** The path of a request URL, relative to the document's server (`/`). */
function pathOf(url: string): string {
  const parsed = new URL(url, 'http://gateway.invalid');
  return decodeURI(parsed.pathname);
}

function mediaType(contentType: string | undefined): string | undefined {
  const type = contentType?.split(';')[0]?.trim().toLowerCase();
  return type ? type : undefined;
}

function headerOf(response: ObservedResponse, name: string): string | undefined {
  const { headers } = response;
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers as Record<string, string | string[] | undefined>)) {
    if (key.toLowerCase() === wanted && value !== undefined)
      return Array.isArray(value) ? value.join(', ') : value;
  }
  return undefined;
}

/** The documented media type a response's type falls under: exact, then `type/*`, then `*\/*`. */
function documentedMediaType(content: JsonObject, type: string): string | undefined {
  const keys = Object.keys(content);
  const lower = new Map(keys.map((key) => [key.toLowerCase(), key]));
  return lower.get(type) ?? lower.get(`${type.split('/')[0]}/*`) ?? lower.get('*/*');
}

function validatorFor(pointer: string, schema: JsonObject): ValidateFunction {
  const { ajv, validators } = load();
  let validate = validators.get(pointer);
  if (!validate) {
    // A $ref into the document when the schema lives in it, so that its own relative $refs resolve there.
    validate = ajv.compile(pointer.startsWith('#') ? { $ref: `${DOCUMENT_ID}${pointer}` } : schema);
    validators.set(pointer, validate);
  }
  return validate;
}

function formatErrors(errors: ErrorObject[] | null | undefined): string {
  const list = errors ?? [];
  const shown = list
    .slice(0, MAX_SCHEMA_ERRORS)
    .map((error) => `${error.instancePath || '/'} ${error.message ?? error.keyword}`);
  const more = list.length > MAX_SCHEMA_ERRORS ? `; and ${list.length - MAX_SCHEMA_ERRORS} more` : '';
  return `${shown.join('; ')}${more}`;
}

/** Checks a header value against a simple documented schema (integer, number, string with enum or pattern). */
function headerValueProblem(name: string, value: string, schema: JsonObject | undefined): string | undefined {
  if (!schema) return undefined;
  if (schema.type === 'integer' && !/^-?\d+$/.test(value.trim())) {
    return `header ${name} is "${value}", not an integer`;
  }
  if (schema.type === 'number' && !Number.isFinite(Number(value.trim()))) {
    return `header ${name} is "${value}", not a number`;
  }
  if (Array.isArray(schema.enum) && !schema.enum.includes(value)) {
    return `header ${name} is "${value}", not one of ${schema.enum.join(', ')}`;
  }
  if (typeof schema.pattern === 'string' && !new RegExp(schema.pattern, 'u').test(value)) {
    return `header ${name} is "${value}", which does not match ${schema.pattern}`;
  }
  return undefined;
}

/**
 * What in a response the document does not describe; empty when it conforms. JSON bodies are checked against their
 * schema; other bodies (images, event streams, YAML, HTML, metrics text) for status, headers and content type only.
 */
export function conformanceProblems(response: ObservedResponse): string[] {
  const { routes } = load();
  const method = response.method.toLowerCase();
  const path = pathOf(response.url);
  const route = routes.find((candidate) => candidate.pattern.test(path));
  // HEAD is answered like GET, without a body.
  const operation = route
    ? ((route.item[method] ?? (method === 'head' ? route.item.get : undefined)) as JsonObject | undefined)
    : undefined;
  const status = String(response.status);
  const label = `${response.method.toUpperCase()} ${path} → ${status}`;

  let responses: JsonObject;
  let pointerBase: string;
  if (route && operation && METHODS.has(method)) {
    responses = (operation.responses ?? {}) as JsonObject;
    pointerBase = `#/paths/${route.template.replace(/~/g, '~0').replace(/\//g, '~1')}/${
      route.item[method] ? method : 'get'
    }/responses`;
  } else if (UNDOCUMENTED_ROUTE_REFUSALS.has(response.status)) {
    responses = { [status]: { $ref: `#/components/responses/Problem404` } };
    pointerBase = '';
  } else {
    return [
      `${label}: ${route ? `${response.method.toUpperCase()} is not documented for ${route.template}` : 'the path is not documented'}`,
    ];
  }

  const statusKey = [status, `${status[0]}XX`, 'default'].find((key) => key in responses);
  if (!statusKey) {
    return [
      `${label}: status ${status} is not documented (documented: ${Object.keys(responses).join(', ')})`,
    ];
  }
  const documented = deref(responses[statusKey]);
  if (!documented) return [`${label}: the response object for ${statusKey} does not resolve`];

  const problems: string[] = [];
  for (const [name, headerNode] of Object.entries((documented.headers ?? {}) as JsonObject)) {
    const header = deref(headerNode);
    if (!header || name.toLowerCase() === 'content-type') continue;
    const value = headerOf(response, name);
    if (value === undefined) {
      if (header.required === true) problems.push(`${label}: required header ${name} is missing`);
      continue;
    }
    const problem = headerValueProblem(name, value, deref(header.schema));
    if (problem) problems.push(`${label}: ${problem}`);
  }

  const content = documented.content as JsonObject | undefined;
  const type = mediaType(headerOf(response, 'content-type') ?? response.contentType);
  if (!content || Object.keys(content).length === 0) {
    if (type && response.body !== undefined && response.body.length > 0 && method !== 'head') {
      problems.push(`${label}: a ${type} body, where the document describes none`);
    }
    return problems;
  }
  if (!type) {
    if (method !== 'head' && response.status !== 204 && response.status !== 304) {
      problems.push(`${label}: no Content-Type (documented: ${Object.keys(content).join(', ')})`);
    }
    return problems;
  }
  const key = documentedMediaType(content, type);
  if (!key) {
    problems.push(
      `${label}: content type ${type} is not documented (documented: ${Object.keys(content).join(', ')})`,
    );
    return problems;
  }
  if (!JSON_TYPES.has(type) || response.body === undefined || method === 'head') return problems;

  let body: unknown;
  try {
    body = JSON.parse(response.body);
  } catch {
    problems.push(`${label}: the ${type} body is not JSON: ${JSON.stringify(response.body.slice(0, 120))}`);
    return problems;
  }
  const media = content[key] as JsonObject;
  const schema = media.schema as JsonObject | undefined;
  if (!schema) return problems;
  // The schema's place in the document, for a stable validator cache and for its relative $refs.
  const pointer =
    typeof schema.$ref === 'string' && schema.$ref.startsWith('#/')
      ? schema.$ref
      : pointerBase && statusKey in responses && !('$ref' in (responses[statusKey] as JsonObject))
        ? `${pointerBase}/${statusKey}/content/${key.replace(/~/g, '~0').replace(/\//g, '~1')}/schema`
        : JSON.stringify(schema);
  const validate = validatorFor(pointer, schema);
  if (!validate(body))
    problems.push(`${label}: the ${type} body does not match its schema: ${formatErrors(validate.errors)}`);
  return problems;
}
