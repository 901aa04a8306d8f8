import { z } from 'zod';
import {
  analysisOptionFields,
  analyzeFormFieldsSchema,
  analyzeJsonBodySchema,
  analyzeResponseSchema,
  analyzeResultsSchema,
  attributeJsonSchemaNode,
  createJobBodySchema,
  ERROR_TABLE,
  jobCreatedSchema,
  jobFormFieldsSchema,
  jobListQuerySchema,
  jobListSchema,
  jobSummarySchema,
  jobStatusQuerySchema,
  jobStatusSchema,
  MAX_JOB_ITEMS,
  MAX_JOB_LIST_LIMIT,
  MAX_JOB_LIST_SCAN,
  modelsViewSchema,
  problemSchema,
  RETRY_AFTER_SECONDS,
  resolveReviewBodySchema,
  reviewDetailSchema,
  reviewListSchema,
  reviewQuerySchema,
  reviewSchema,
  WHOAMI_PATH,
  whoamiSchema,
  webhookEventSchema,
  type ErrorCode,
} from '@argus/contracts';
import { livenessSchema, readinessReportSchema } from '@argus/telemetry';
import { SIGNATURE_HEADER } from '@argus/url-intake';
import { CONSOLE_ASSETS } from './console-assets';

/**
 * The gateway's OpenAPI 3.1 document, built from the zod contracts: request bodies and parameters in their input
 * shape (what a client may send, before transforms and defaults), responses in their output shape. `npm run openapi`
 * writes it to docs/openapi.json; the gateway serves it on /openapi.json, /openapi.yaml and /docs.
 */
export type OpenApiDocument = Record<string, unknown> & {
  paths: Record<string, Record<string, unknown>>;
  components: { schemas: Record<string, JsonSchema> } & Record<string, unknown>;
};
type JsonSchema = Record<string, unknown>;

/** The version of the described API (`/v1`), not of the package. */
export const OPENAPI_VERSION = '1.0.0';

export const OPENAPI_PATHS = { json: '/openapi.json', yaml: '/openapi.yaml', docs: '/docs' } as const;

/** Swagger UI's files that /docs/{asset} serves from swagger-ui-dist, with their content types. */
export const SWAGGER_UI_ASSETS: Readonly<Record<string, string>> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
};
/** The gateway's own script that starts Swagger UI on /openapi.json. */
export const DOCS_INIT_SCRIPT = 'init.js';

const REF = (name: string): JsonSchema => ({ $ref: `#/components/schemas/${name}` });
const BINARY: JsonSchema = { type: 'string', contentMediaType: 'application/octet-stream' };

/** A component's name, plus JSON Schema keywords for what zod checks in a refinement (which it cannot convert). */
type SchemaMeta = { id: string } & JsonSchema;

/** The refinement `exactlyOneImageSource` of the contracts, as JSON Schema. */
const exactlyOne = (first: string, second: string): JsonSchema => ({
  oneOf: [{ required: [first] }, { required: [second] }],
});

/** Schemas a client sends, converted with io `input`. */
function requestSchemas(): z.core.$ZodRegistry<SchemaMeta> {
  const registry = z.registry<SchemaMeta>();
  registry.add(attributeJsonSchemaNode, { id: 'AttributeJsonSchema' });
  registry.add(analyzeJsonBodySchema, { id: 'AnalyzeJsonBody', ...exactlyOne('imageBase64', 'imageUrl') });
  registry.add(
    analyzeFormFieldsSchema.extend({
      image: z
        .string()
        .meta({ ...BINARY, description: 'The image file; send it or `imageUrl`, not both.' })
        .optional(),
    }),
    { id: 'AnalyzeForm', ...exactlyOne('image', 'imageUrl') },
  );
  registry.add(createJobBodySchema, { id: 'CreateJobBody' });
  registry.add(
    jobFormFieldsSchema.extend({
      images: z
        .array(z.string().meta(BINARY))
        .min(1)
        .max(MAX_JOB_ITEMS)
        .meta({ description: 'The images, one file part each; an item id is taken from each filename.' }),
    }),
    { id: 'JobForm' },
  );
  registry.add(resolveReviewBodySchema, { id: 'ResolveReviewBody' });
  return registry;
}

/** Schemas the gateway answers with, converted with io `output`. */
function responseSchemas(): z.core.$ZodRegistry<SchemaMeta> {
  const registry = z.registry<SchemaMeta>();
  registry.add(analyzeResponseSchema, { id: 'AnalyzeResponse' });
  registry.add(analyzeResultsSchema, { id: 'AnalyzeResults' });
  registry.add(problemSchema, { id: 'Problem' });
  registry.add(jobCreatedSchema, { id: 'JobCreated' });
  registry.add(jobStatusSchema, { id: 'JobStatus' });
  registry.add(jobSummarySchema, { id: 'JobSummary' });
  registry.add(jobListSchema, { id: 'JobList' });
  registry.add(reviewSchema, { id: 'Review' });
  registry.add(reviewListSchema, { id: 'ReviewList' });
  registry.add(reviewDetailSchema, { id: 'ReviewDetail' });
  registry.add(whoamiSchema, { id: 'Whoami' });
  registry.add(modelsViewSchema, { id: 'ModelsView' });
  registry.add(livenessSchema, { id: 'Liveness' });
  registry.add(readinessReportSchema, { id: 'ReadinessReport' });
  registry.add(webhookEventSchema, { id: 'WebhookEvent' });
  return registry;
}

function convert(
  registry: z.core.$ZodRegistry<SchemaMeta>,
  io: 'input' | 'output',
): Record<string, JsonSchema> {
  const { schemas } = z.toJSONSchema(registry, {
    target: 'draft-2020-12',
    io,
    unrepresentable: 'any',
    uri: (id) => `#/components/schemas/${id}`,
  });
  // Registry metadata besides the id (zod reads descriptions from the global registry, so it does not merge these).
  const extras = new Map<string, JsonSchema>();
  for (const meta of registryMetadata(registry)) {
    const { id, ...extra } = meta;
    if (Object.keys(extra).length > 0) extras.set(id, extra);
  }
  const out: Record<string, JsonSchema> = {};
  for (const [id, schema] of Object.entries(schemas)) {
    if (id === '__shared')
      throw new Error('a schema is reused recursively without an id; register it by name');
    const rest: JsonSchema = { ...(schema as JsonSchema) };
    delete rest.$schema;
    delete rest.$id;
    out[id] = { ...(tidy(rest) as JsonSchema), ...extras.get(id) };
  }
  return out;
}

function registryMetadata(registry: z.core.$ZodRegistry<SchemaMeta>): SchemaMeta[] {
  return [...registry._idmap.values()].flatMap((schema) => registry.get(schema) ?? []);
}

/** Drops the ±2^53 bounds zod writes on every int: they say nothing a reader needs. */
function tidy(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(tidy);
  if (typeof node !== 'object' || node === null) return node;
  const entries = Object.entries(node as JsonSchema).filter(
    ([key, value]) =>
      !(
        (key === 'minimum' || key === 'maximum') &&
        typeof value === 'number' &&
        Math.abs(value) === Number.MAX_SAFE_INTEGER
      ),
  );
  return Object.fromEntries(entries.map(([key, value]) => [key, tidy(value)]));
}

/** Query parameters from an object schema's input shape; object-valued fields travel as JSON text. */
function queryParameters(
  schema: z.ZodType,
  descriptions: Record<string, string> = {},
): Array<Record<string, unknown>> {
  const json = tidy(
    z.toJSONSchema(schema, { target: 'draft-2020-12', io: 'input', unrepresentable: 'any' }),
  ) as {
    properties: Record<string, JsonSchema>;
    required?: string[];
    $defs?: Record<string, JsonSchema>;
  };
  return Object.entries(json.properties).map(([name, property]) => {
    const { description, ...rest } = property;
    const text = descriptions[name] ?? (typeof description === 'string' ? description : undefined);
    const base = {
      name,
      in: 'query',
      required: json.required?.includes(name) ?? false,
      ...(text ? { description: text } : {}),
    };
    if (rest.type === 'object' || rest.additionalProperties !== undefined) {
      return { ...base, content: { 'application/json': { schema: resolveRefs(rest) } } };
    }
    return { ...base, schema: resolveRefs(rest), style: 'form', explode: false };
  });
}

/** Points a standalone conversion's recursive references at the named component. */
function resolveRefs(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(resolveRefs);
  if (typeof node !== 'object' || node === null) return node;
  return Object.fromEntries(
    Object.entries(node as JsonSchema).map(([key, value]) =>
      key === '$ref' && typeof value === 'string' && value.startsWith('#/$defs/')
        ? [key, '#/components/schemas/AttributeJsonSchema']
        : [key, resolveRefs(value)],
    ),
  );
}

const OPTION_DESCRIPTIONS: Record<string, string> = {
  tasks: 'Tasks to run: a JSON array, or a comma list in forms and query strings. All four when absent.',
  tier: 'Which tier runs the tasks; `auto` (the default) starts on the cheapest tier that can judge.',
  fallback: 'Whether a failing tier may hand over to the next one (`true`/`false`); false when absent.',
  profile: 'A listing-compliance profile name (tagging).',
  policy: "A moderation policy name; the API key's policy or the default when absent.",
  pii: 'OCR: `flag` or `redact` personal data (e-mail, phone, IBAN) in the text.',
  ocrMode: 'OCR: `document`, `label` or `scene`.',
  categories: "Tagging: the caller's own category list, as a JSON array or a comma list.",
  attributeSchemas:
    'Tagging: JSON schemas for open-vocabulary attributes, keyed by category path (JSON text).',
  listing: 'Tagging: what the listing says (title, category, colour, brand, quantity), as JSON text.',
  question: 'Describe: a question about the image, answered from what is visible only.',
  language: 'Describe: the language of the caption, alt text and answer (BCP 47); English when absent.',
};

const ID_PARAMETER = (what: string) => ({
  name: 'id',
  in: 'path',
  required: true,
  description: `The ${what} id.`,
  schema: { type: 'string', minLength: 1 },
});

/** Problem responses by status, each naming the codes of ERROR_TABLE it carries. */
function problemResponses(): Record<string, unknown> {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const [code, entry] of Object.entries(ERROR_TABLE) as Array<
    [ErrorCode, (typeof ERROR_TABLE)[ErrorCode]]
  >) {
    byStatus.set(entry.status, [...(byStatus.get(entry.status) ?? []), code]);
  }
  const responses: Record<string, unknown> = {};
  for (const [status, codes] of byStatus) {
    const retryable = codes.some((code) => ERROR_TABLE[code].retryable);
    const headers: Record<string, unknown> = {};
    // problem.ts sends Retry-After with every retryable code: required when all of a status's codes are retryable.
    if (retryable) {
      headers['Retry-After'] = codes.every((code) => ERROR_TABLE[code].retryable)
        ? { ...RETRY_AFTER_HEADER, required: true }
        : RETRY_AFTER_HEADER;
    }
    if (codes.includes('UNAUTHORIZED')) {
      headers['WWW-Authenticate'] = { $ref: '#/components/headers/WWW-Authenticate' };
    }
    const examples = Object.fromEntries(
      codes.map((code) => [
        code,
        {
          summary: ERROR_TABLE[code].title,
          value: {
            type: `urn:argus:error:${code.toLowerCase().replace(/_/g, '-')}`,
            title: ERROR_TABLE[code].title,
            status,
            detail: ERROR_TABLE[code].title,
            code,
            traceId: '0af7651916cd43dd8448eb211c80319c',
            ...(code === 'INVALID_REQUEST'
              ? {
                  errors: [
                    {
                      field: 'tasks',
                      message: 'tasks must be a non-empty list of moderation, tagging, ocr, describe',
                    },
                  ],
                }
              : {}),
          },
        },
      ]),
    );
    responses[`Problem${status}`] = {
      description: `RFC 9457 problem details; \`code\` is one of ${codes.map((code) => `\`${code}\``).join(', ')}.${
        retryable
          ? ` Retryable codes come with Retry-After (${RETRY_AFTER_SECONDS} s unless the error knows better).`
          : ''
      }`,
      ...(Object.keys(headers).length > 0 ? { headers } : {}),
      content: { 'application/problem+json': { schema: REF('Problem'), examples } },
    };
  }
  return responses;
}

const problems = (...statuses: number[]): Record<string, unknown> =>
  Object.fromEntries(
    [...new Set([...statuses, 401, 403, 429, 500])]
      .sort((a, b) => a - b)
      .map((status) => [String(status), { $ref: `#/components/responses/Problem${status}` }]),
  );

const RETRY_AFTER_HEADER = {
  description: 'Seconds to wait before retrying.',
  schema: { type: 'integer', minimum: 0 },
};

const RATE_HEADERS = {
  'RateLimit-Limit': { $ref: '#/components/headers/RateLimit-Limit' },
  'RateLimit-Remaining': { $ref: '#/components/headers/RateLimit-Remaining' },
  'RateLimit-Reset': { $ref: '#/components/headers/RateLimit-Reset' },
};

const json = (schema: JsonSchema, example?: unknown) => ({
  'application/json': { schema, ...(example !== undefined ? { example } : {}) },
});

/** Examples; the unit test checks each against its schema (ajv) and its contract (zod). */
export const OPENAPI_EXAMPLES = {
  AnalyzeJsonBody: { imageUrl: 'https://images.example.com/sku-1001.jpg', tasks: ['moderation', 'tagging'] },
  AnalyzeResponse: {
    id: 'e58ab09d-38a2-4ae8-a366-acebb2d873cd',
    traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
    image: {
      sha256: 'd12660b0028b27432ba8fff056a23143c70fdebe177ea05460e368ccb647d2f9',
      width: 1200,
      height: 1200,
      format: 'jpeg',
      bytes: 37651,
    },
    results: {
      moderation: {
        status: 'ok',
        engine: 'ollama',
        tier: 'small',
        model: 'qwen2.5vl:3b',
        durationMs: 3856.2,
        cached: false,
        needsGpuTier: [],
        escalations: [
          { from: 'cpu', to: 'small', reason: 'cannot_judge', detail: 'sexual.swimwear, weapons.knives' },
        ],
        decision: 'allow',
        policy: 'default',
        triggeredBy: [],
        categories: [],
        reason: 'A navy storage box printed ACME on a white background.',
        confidence: 0.93,
      },
    },
  },
  CreateJobBody: {
    items: [
      { id: 'sku-1001', imageUrl: 'https://images.example.com/sku-1001.jpg' },
      { id: 'sku-1002', imageUrl: 'https://images.example.com/sku-1002.jpg' },
    ],
    tasks: ['moderation'],
    callbackUrl: 'https://shop.example.com/argus-webhook',
    notify: ['block'],
  },
  JobCreated: {
    jobId: '3f0c9a6e-6c1b-4d1e-9f6a-2b0f1c7d9e11',
    status: 'queued',
    items: [
      { id: 'sku-1001', status: 'queued' },
      {
        id: 'sku-1002',
        status: 'failed',
        error: { code: 'URL_FETCH_FAILED', message: 'images.example.com answered HTTP 404' },
      },
    ],
  },
  JobList: {
    jobs: [
      {
        jobId: '3f0c9a6e-6c1b-4d1e-9f6a-2b0f1c7d9e11',
        status: 'running',
        createdAt: '2026-12-06T21:29:12.000Z',
        tasks: ['moderation'],
        counts: { total: 2, done: 1, failed: 0, dead: 0, cancelled: 0, pending: 1 },
        percent: 50,
        itemCount: 2,
        callbackUrl: 'https://shop.example.com/argus-webhook',
      },
      {
        jobId: '9b2d4e1a-0c7f-4a8e-b6d3-5e1f2a3b4c5d',
        status: 'cancelled',
        createdAt: '2026-12-06T20:02:45.000Z',
        tasks: ['moderation', 'tagging'],
        counts: { total: 3, done: 1, failed: 0, dead: 0, cancelled: 2, pending: 0 },
        percent: 100,
        itemCount: 3,
        cancelledAt: '2026-12-06T20:03:10.000Z',
      },
    ],
    nextCursor: 'WyIyMDI2LTEyLTA2VDIwOjAyOjQ1LjAwMFoiLCI5YjJkNGUxYS0wYzdmLTRhOGUtYjZkMy01ZTFmMmEzYjRjNWQiXQ',
    truncated: false,
  },
  ResolveReviewBody: { decision: 'block', reviewer: 'ana', note: 'knife clearly visible' },
  WebhookEvent: {
    id: 'evt-3f0c9a6e-job-completed',
    type: 'job.completed',
    jobId: '3f0c9a6e-6c1b-4d1e-9f6a-2b0f1c7d9e11',
    status: 'completed',
    counts: { total: 2, done: 1, failed: 1, dead: 0, cancelled: 0 },
    resultsUrl: '/v1/jobs/3f0c9a6e-6c1b-4d1e-9f6a-2b0f1c7d9e11',
    at: '2026-12-06T21:30:00.000Z',
  },
  Liveness: { status: 'ok' },
  ReadinessReport: {
    ready: true,
    checks: { nats: { ok: true, detail: 'connected' }, moderation: { ok: true, detail: 'worker answered' } },
  },
} as const;

/** What Argus POSTs to a job's `callbackUrl` (docs/jobs.md, "Webhooks"). */
function jobEventsCallback(): Record<string, unknown> {
  return {
    '{$request.body#/callbackUrl}': {
      post: {
        summary: 'A job event',
        description:
          '`job.completed` once every item is recorded, and `item.decided` for the decisions in `notify`. ' +
          'Delivered at least once: a receiver drops an `id` it has seen.',
        operationId: 'jobEventWebhook',
        security: [],
        parameters: [
          {
            name: SIGNATURE_HEADER,
            in: 'header',
            required: true,
            description: '`t=<unix seconds>,v1=<hex>`: HMAC-SHA256(ARGUS_WEBHOOK_SECRET, "<t>.<raw body>").',
            schema: { type: 'string', pattern: '^t=\\d+,v1=[0-9a-f]+$' },
          },
        ],
        requestBody: {
          required: true,
          content: json(REF('WebhookEvent'), OPENAPI_EXAMPLES.WebhookEvent),
        },
        responses: {
          '2XX': { description: 'Received.' },
          '4XX': { description: 'Refused; final, except 408 and 429, which are retried.' },
          '5XX': { description: 'Retried with exponential backoff (ARGUS_WEBHOOK_ATTEMPTS in all).' },
        },
      },
    },
  };
}

export function buildOpenApiDocument(): OpenApiDocument {
  const schemas = { ...convert(requestSchemas(), 'input') };
  for (const [id, schema] of Object.entries(convert(responseSchemas(), 'output'))) {
    if (id in schemas && JSON.stringify(schemas[id]) !== JSON.stringify(schema)) {
      throw new Error(`schema ${id} differs between its input and output shape; give them different names`);
    }
    schemas[id] = schema;
  }
  const rawQuery = queryParameters(z.object(analysisOptionFields), OPTION_DESCRIPTIONS);
  const open = [{}, { bearerAuth: [] }, { apiKey: [] }];
  const documentation = (summary: string, operationId: string, type: string, schema: JsonSchema) => ({
    tags: ['documentation'],
    summary,
    operationId,
    security: [],
    responses: { '200': { description: summary, content: { [type]: { schema } } } },
  });

  return {
    openapi: '3.1.0',
    info: {
      title: 'Argus gateway API',
      version: OPENAPI_VERSION,
      summary: 'Checks images with local vision models: moderation, tagging, OCR and descriptions.',
      description:
        'Generated from the zod contracts in libs/contracts (`npm run openapi`). Errors are RFC 9457 ' +
        '`application/problem+json` with a stable `code`. When API keys are configured (ARGUS_API_KEYS) every ' +
        '`/v1` route needs one, sent as `Authorization: Bearer <key>` or `X-API-Key: <key>`, and answers carry ' +
        'RateLimit-* headers; probes and /metrics are open unless ARGUS_AUTH_OPS=key.',
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    servers: [{ url: '/', description: 'The gateway that serves this document' }],
    security: [{ bearerAuth: [] }, { apiKey: [] }],
    tags: [
      { name: 'analyze', description: 'Synchronous analysis of one image.' },
      { name: 'jobs', description: 'Asynchronous batches of images, with webhooks.' },
      { name: 'reviews', description: 'The human review queue of moderation decisions.' },
      { name: 'models', description: 'Tiers and the models behind each task.' },
      { name: 'access', description: 'What the calling API key may do.' },
      { name: 'operations', description: 'Probes and Prometheus metrics.' },
      { name: 'documentation', description: 'This document and its browsable reference.' },
      { name: 'console', description: 'The web console for reviewers and operators (docs/console.md).' },
    ],
    paths: {
      '/v1/analyze': {
        post: {
          tags: ['analyze'],
          summary: 'Analyze one image',
          description:
            'The image arrives as a multipart form (file in field `image`, or an `imageUrl` field), as JSON ' +
            '(`imageBase64` or `imageUrl`), or as a raw `image/*` or `application/octet-stream` body whose options ' +
            'travel in the query string (query parameters apply to the raw form only).',
          operationId: 'analyzeImage',
          parameters: rawQuery,
          requestBody: {
            required: true,
            content: {
              'multipart/form-data': {
                schema: REF('AnalyzeForm'),
                encoding: {
                  image: { contentType: 'image/*, application/octet-stream' },
                  attributeSchemas: { contentType: 'application/json' },
                  listing: { contentType: 'application/json' },
                },
              },
              ...json(REF('AnalyzeJsonBody'), OPENAPI_EXAMPLES.AnalyzeJsonBody),
              'image/*': { schema: BINARY },
              'application/octet-stream': { schema: BINARY },
            },
          },
          responses: {
            '200': {
              description:
                'The results of each task; a task that failed carries its error, the others still answer.',
              headers: {
                'X-Request-Id': {
                  description: 'The analysis id (`id` of the body).',
                  required: true,
                  schema: { type: 'string' },
                },
                'X-Trace-Id': {
                  description: 'The trace id (`traceId` of the body).',
                  required: true,
                  schema: { type: 'string' },
                },
                ...RATE_HEADERS,
              },
              content: json(REF('AnalyzeResponse'), OPENAPI_EXAMPLES.AnalyzeResponse),
            },
            ...problems(400, 413, 415, 422, 502, 503, 504),
          },
        },
      },
      '/v1/jobs': {
        get: {
          tags: ['jobs'],
          summary: 'List jobs',
          description:
            "The caller's tenant's jobs (every job while keys are off), newest first, each with its state and " +
            'progress as `GET /v1/jobs/{id}` counts them, without the items. Pages follow `nextCursor`, a keyset ' +
            'position, so jobs created meanwhile neither shift nor repeat a page. A listing reads the metadata of at ' +
            `most ${MAX_JOB_LIST_SCAN} jobs (all tenants, the most recently written); \`truncated\` says when there ` +
            'were more, and older jobs may then be missing.',
          operationId: 'listJobs',
          parameters: queryParameters(jobListQuerySchema, {
            limit: `Jobs per page, at most ${MAX_JOB_LIST_LIMIT}.`,
            cursor: '`nextCursor` of the previous page, as is; absent for the first page.',
          }),
          responses: {
            '200': {
              description: 'A page of jobs.',
              headers: RATE_HEADERS,
              content: json(REF('JobList'), OPENAPI_EXAMPLES.JobList),
            },
            ...problems(400, 503),
          },
        },
        post: {
          tags: ['jobs'],
          summary: 'Create a job',
          description:
            'A batch of up to 1000 images as JSON (`items`, each with `imageUrl` or `imageBase64`) or as a ' +
            'multipart form with the files in field `images`. Items without an id get `item-N`.',
          operationId: 'createJob',
          requestBody: {
            required: true,
            content: {
              ...json(REF('CreateJobBody'), OPENAPI_EXAMPLES.CreateJobBody),
              'multipart/form-data': {
                schema: REF('JobForm'),
                encoding: {
                  images: { contentType: 'image/*, application/octet-stream' },
                  attributeSchemas: { contentType: 'application/json' },
                  listing: { contentType: 'application/json' },
                },
              },
            },
          },
          responses: {
            '202': {
              description: 'Accepted; items that could not be taken in are `failed` with their error.',
              headers: {
                Location: {
                  description: 'The job, `/v1/jobs/{jobId}`.',
                  required: true,
                  schema: { type: 'string' },
                },
                ...RATE_HEADERS,
              },
              content: json(REF('JobCreated'), OPENAPI_EXAMPLES.JobCreated),
            },
            ...problems(400, 413, 415, 503),
          },
          callbacks: { jobEvents: jobEventsCallback() },
        },
      },
      '/v1/jobs/{id}': {
        parameters: [ID_PARAMETER('job')],
        get: {
          tags: ['jobs'],
          summary: 'Get a job',
          description: "The job's state, counts and a page of its items with their results.",
          operationId: 'getJob',
          parameters: queryParameters(jobStatusQuerySchema, {
            page: 'The page of items, from 1.',
            pageSize: 'Items per page.',
          }),
          responses: {
            '200': { description: 'The job.', headers: RATE_HEADERS, content: json(REF('JobStatus')) },
            ...problems(400, 404, 503),
          },
        },
        delete: {
          tags: ['jobs'],
          summary: 'Cancel a job',
          description: 'Asynchronous: items already in a worker finish, the rest are recorded `cancelled`.',
          operationId: 'cancelJob',
          responses: {
            '202': {
              description: 'The job, as cancelling.',
              headers: RATE_HEADERS,
              content: json(REF('JobStatus')),
            },
            ...problems(404, 503),
          },
        },
      },
      '/v1/reviews': {
        get: {
          tags: ['reviews'],
          summary: 'List the review queue',
          description: 'Oldest first; pending entries unless `status` says otherwise.',
          operationId: 'listReviews',
          parameters: queryParameters(reviewQuerySchema),
          responses: {
            '200': {
              description: 'A page of reviews.',
              headers: RATE_HEADERS,
              content: json(REF('ReviewList')),
            },
            ...problems(400, 503),
          },
        },
      },
      '/v1/reviews/{id}': {
        parameters: [ID_PARAMETER('review')],
        get: {
          tags: ['reviews'],
          summary: 'Get a review',
          description:
            "The entry with what a reviewer needs: the model's evidence (boxes and quotes in pixels of the " +
            "stored image), the policy's thresholds for each category found, and the OCR lines when the job read " +
            'the text; `evidence` is null once the results have expired.',
          operationId: 'getReview',
          responses: {
            '200': { description: 'The review.', headers: RATE_HEADERS, content: json(REF('ReviewDetail')) },
            ...problems(404, 503),
          },
        },
        post: {
          tags: ['reviews'],
          summary: 'Resolve a review',
          description:
            "A person's decision, `allow` or `block`; 409 CONFLICT when the review was already resolved.",
          operationId: 'resolveReview',
          requestBody: {
            required: true,
            content: json(REF('ResolveReviewBody'), OPENAPI_EXAMPLES.ResolveReviewBody),
          },
          responses: {
            '200': {
              description: 'The resolved review.',
              headers: RATE_HEADERS,
              content: json(REF('Review')),
            },
            ...problems(400, 404, 409, 503),
          },
        },
      },
      '/v1/reviews/{id}/image': {
        parameters: [ID_PARAMETER('review')],
        get: {
          tags: ['reviews'],
          summary: "Get a review's image",
          description:
            'The stored (normalised) image, for the reviewer; private, never cached by shared caches.',
          operationId: 'getReviewImage',
          responses: {
            '200': {
              description: 'The image bytes.',
              headers: {
                'Cache-Control': {
                  description: '`private, max-age=300`.',
                  required: true,
                  schema: { type: 'string' },
                },
                ...RATE_HEADERS,
              },
              content: { 'image/*': { schema: BINARY } },
            },
            ...problems(404, 503),
          },
        },
      },
      [WHOAMI_PATH]: {
        get: {
          tags: ['access'],
          summary: 'Who am I',
          description:
            "The calling key's id, tenant, scopes and default policy, and the policies and profiles a request may " +
            'name. Any valid key may call it, whatever its scopes; with keys off it says so.',
          operationId: 'whoami',
          responses: {
            '200': { description: 'The caller.', headers: RATE_HEADERS, content: json(REF('Whoami')) },
            ...problems(),
          },
        },
      },
      '/v1/models': {
        get: {
          tags: ['models'],
          summary: 'List tiers and models',
          description:
            "Each worker's view of every tier, regrouped by tier; workers that did not answer are listed.",
          operationId: 'listModels',
          responses: {
            '200': {
              description: 'Tiers and models.',
              headers: RATE_HEADERS,
              content: json(REF('ModelsView')),
            },
            ...problems(),
          },
        },
      },
      '/healthz': {
        get: {
          tags: ['operations'],
          summary: 'Liveness probe',
          operationId: 'liveness',
          security: open,
          responses: {
            '200': {
              description: 'The process runs.',
              content: json(REF('Liveness'), OPENAPI_EXAMPLES.Liveness),
            },
            ...problems(),
          },
        },
      },
      '/readyz': {
        get: {
          tags: ['operations'],
          summary: 'Readiness probe',
          description: 'Ready when NATS and the workers answer; 503 with the same body otherwise.',
          operationId: 'readiness',
          security: open,
          responses: {
            '200': {
              description: 'Ready.',
              content: json(REF('ReadinessReport'), OPENAPI_EXAMPLES.ReadinessReport),
            },
            '503': { description: 'Not ready; `checks` says why.', content: json(REF('ReadinessReport')) },
            ...problems(),
          },
        },
      },
      '/metrics': {
        get: {
          tags: ['operations'],
          summary: 'Prometheus metrics',
          description: 'Prometheus text format, or OpenMetrics when the Accept header asks for it.',
          operationId: 'metrics',
          security: open,
          responses: {
            '200': {
              description: 'The exposition.',
              content: {
                'text/plain': { schema: { type: 'string' } },
                'application/openmetrics-text': { schema: { type: 'string' } },
              },
            },
            ...problems(),
          },
        },
      },
      [OPENAPI_PATHS.json]: {
        get: documentation('This document, as JSON', 'openApiJson', 'application/json', { type: 'object' }),
      },
      [OPENAPI_PATHS.yaml]: {
        get: documentation('This document, as YAML', 'openApiYaml', 'application/yaml', { type: 'string' }),
      },
      [OPENAPI_PATHS.docs]: {
        get: documentation('A browsable API reference', 'apiReference', 'text/html', { type: 'string' }),
      },
      [`${OPENAPI_PATHS.docs}/{asset}`]: {
        get: {
          tags: ['documentation'],
          summary: "A file of the reference's page",
          description:
            'Swagger UI (swagger-ui-dist) and the script that starts it; nothing else is served here.',
          operationId: 'apiReferenceAsset',
          security: [],
          parameters: [
            {
              name: 'asset',
              in: 'path',
              required: true,
              description: 'The file name.',
              schema: {
                type: 'string',
                enum: [...Object.keys(SWAGGER_UI_ASSETS), DOCS_INIT_SCRIPT],
              },
            },
          ],
          responses: {
            '200': {
              description: 'The file.',
              content: {
                'text/css': { schema: { type: 'string' } },
                'text/javascript': { schema: { type: 'string' } },
                'image/png': { schema: BINARY },
              },
            },
            '404': { $ref: '#/components/responses/Problem404' },
          },
        },
      },
      '/console': {
        get: {
          tags: ['console'],
          summary: 'The web console',
          description:
            'A page for reviewers and operators; public, as it holds no data: it signs in with an API key kept ' +
            'in the browser session and sends it with every data call.',
          operationId: 'console',
          security: [],
          responses: {
            '200': { description: 'The page.', content: { 'text/html': { schema: { type: 'string' } } } },
          },
        },
      },
      '/console/{asset}': {
        get: {
          tags: ['console'],
          summary: "A file of the console's page",
          description:
            "The console's own modules and stylesheet, and Preact and htm from their npm packages.",
          operationId: 'consoleAsset',
          security: [],
          parameters: [
            {
              name: 'asset',
              in: 'path',
              required: true,
              description: 'The file name.',
              schema: { type: 'string', enum: Object.keys(CONSOLE_ASSETS) },
            },
          ],
          responses: {
            '200': {
              description: 'The file.',
              content: {
                'text/css': { schema: { type: 'string' } },
                'text/javascript': { schema: { type: 'string' } },
              },
            },
            '404': { $ref: '#/components/responses/Problem404' },
          },
        },
      },
    },
    components: {
      schemas,
      responses: problemResponses(),
      headers: {
        'RateLimit-Limit': {
          description: 'Requests the API key may send per window (when keys are configured).',
          schema: { type: 'integer' },
        },
        'RateLimit-Remaining': {
          description: 'Requests left in the current window.',
          schema: { type: 'integer' },
        },
        'RateLimit-Reset': { description: 'Seconds until the window resets.', schema: { type: 'integer' } },
        'WWW-Authenticate': {
          description: '`Bearer realm="argus"`.',
          required: true,
          schema: { type: 'string' },
        },
      },
      securitySchemes: {
        bearerAuth: { type: 'http', scheme: 'bearer', description: 'An API key as a bearer token.' },
        apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key', description: 'An API key in X-API-Key.' },
      },
    },
  };
}

/** docs/openapi.json as `npm run openapi` writes it; the unit test compares the checked-in file with this. */
export function renderOpenApiJson(): string {
  return `${JSON.stringify(buildOpenApiDocument(), null, 2)}\n`;
}
