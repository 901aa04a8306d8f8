import type { FastifyRequest } from 'fastify';
import type { MultipartFile } from '@fastify/multipart';
import { z } from 'zod';
import {
  ArgusError,
  analysisOptionFields,
  analyzeFormFieldsSchema,
  analyzeJsonBodySchema,
  taskOptionsFromFields,
  type RoutingOptions,
  type Task,
  type TaskOptionFields,
  type TaskOptions,
} from '@argus/contracts';
import { InvalidRequestError } from './problem';

export interface AnalyzeInput {
  /** The image, or `imageUrl` to fetch it from; exactly one is set. */
  bytes?: Buffer;
  imageUrl?: string;
  tasks: Task[];
  routing: RoutingOptions;
  /** Each task's options, keyed by task, passed to the workers untouched. */
  options: TaskOptions;
}

const IMAGE_FIELD = 'image';
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const DATA_URL_PREFIX = /^data:[\w.+-]+\/[\w.+-]+;base64,/;

/** Reads the image and options from multipart, JSON or a raw image body, validating fields by the contracts. */
export async function readAnalyzeInput(request: FastifyRequest): Promise<AnalyzeInput> {
  if (request.isMultipart()) return readMultipart(request);
  const contentType = request.headers['content-type'] ?? '';
  if (contentType.startsWith('application/json')) return readJson(request.body);
  if (Buffer.isBuffer(request.body)) {
    return {
      bytes: request.body,
      ...options(parseFields(analyzeFormFieldsSchema, pickQueryFields(request.query))),
    };
  }
  throw new ArgusError(
    'UNSUPPORTED_MEDIA_TYPE',
    'send multipart/form-data (field "image"), application/json or a raw image/* body',
  );
}

async function readMultipart(request: FastifyRequest): Promise<AnalyzeInput> {
  const fields: Record<string, string> = {};
  let bytes: Buffer | undefined;
  for await (const part of request.parts()) {
    if (part.type === 'file') {
      bytes = await readFilePart(part, bytes);
    } else {
      fields[part.fieldname] = typeof part.value === 'string' ? part.value : String(part.value);
    }
  }
  const parsed = parseFields(analyzeFormFieldsSchema, fields);
  if (bytes && parsed.imageUrl) {
    throw new InvalidRequestError([
      { field: 'imageUrl', message: 'send a file in "image" or an imageUrl, not both' },
    ]);
  }
  if (parsed.imageUrl) return { imageUrl: parsed.imageUrl, ...options(parsed) };
  if (!bytes) {
    throw new InvalidRequestError([
      { field: IMAGE_FIELD, message: 'a file in field "image" (or an imageUrl field) is required' },
    ]);
  }
  return { bytes, ...options(parsed) };
}

async function readFilePart(part: MultipartFile, already: Buffer | undefined): Promise<Buffer> {
  if (part.fieldname !== IMAGE_FIELD) {
    part.file.resume();
    throw new InvalidRequestError([
      { field: part.fieldname, message: 'unexpected file field; send the image in field "image"' },
    ]);
  }
  if (already) {
    part.file.resume();
    throw new InvalidRequestError([{ field: IMAGE_FIELD, message: 'send exactly one image per request' }]);
  }
  return part.toBuffer();
}

function readJson(body: unknown): AnalyzeInput {
  const parsed = parseFields(analyzeJsonBodySchema, body);
  if (parsed.imageUrl !== undefined) return { imageUrl: parsed.imageUrl, ...options(parsed) };
  return { bytes: decodeBase64(parsed.imageBase64 ?? ''), ...options(parsed) };
}

export function decodeBase64(value: string): Buffer {
  const compact = value.replace(DATA_URL_PREFIX, '').replace(/\s+/g, '');
  if (compact.length === 0 || compact.length % 4 === 1 || !BASE64.test(compact)) {
    throw new InvalidRequestError([{ field: 'imageBase64', message: 'is not valid base64' }]);
  }
  return Buffer.from(compact, 'base64');
}

const QUERY_FIELDS = Object.keys(analysisOptionFields);

/** A raw image body carries its options in the query string; anything else there is ignored, as URLs get tracking noise. */
function pickQueryFields(query: unknown): Record<string, unknown> {
  const source = (query ?? {}) as Record<string, unknown>;
  return Object.fromEntries(
    QUERY_FIELDS.filter((field) => source[field] !== undefined).map((field) => [field, source[field]]),
  );
}

export function options(
  fields: TaskOptionFields & { tasks: Task[]; tier: RoutingOptions['tier']; fallback: boolean },
): Omit<AnalyzeInput, 'bytes' | 'imageUrl'> {
  return {
    tasks: fields.tasks,
    routing: { tier: fields.tier, fallback: fields.fallback },
    options: taskOptionsFromFields(fields),
  };
}

export function parseFields<Schema extends z.ZodType>(schema: Schema, value: unknown): z.infer<Schema> {
  if (typeof value !== 'object' || value === null) {
    throw new InvalidRequestError([{ field: '(body)', message: 'expected a JSON object' }]);
  }
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new InvalidRequestError(
    parsed.error.issues.map((issue) => ({
      field: issue.path.join('.') || (issue.code === 'unrecognized_keys' ? issue.keys.join(', ') : '(body)'),
      message: issue.code === 'unrecognized_keys' ? 'unknown field' : issue.message,
    })),
  );
}
