import type { FastifyRequest } from 'fastify';
import {
  ArgusError,
  assignItemIds,
  createJobBodySchema,
  jobFormFieldsSchema,
  MAX_JOB_ITEMS,
  type NotifyDecision,
} from '@argus/contracts';
import type { AnalyzeInput } from './analyze-input';
import { options, parseFields } from './analyze-input';
import { InvalidRequestError } from './problem';

/** Where one item's image comes from; decoding and fetching happen per item, so one bad item fails alone. */
export type JobItemSource =
  { kind: 'bytes'; bytes: Buffer } | { kind: 'base64'; data: string } | { kind: 'url'; url: string };

export interface JobItemInput {
  id: string;
  source: JobItemSource;
}

export interface JobInput {
  items: JobItemInput[];
  options: Omit<AnalyzeInput, 'bytes' | 'imageUrl'>;
  callbackUrl?: string;
  notify?: NotifyDecision[];
}

const IMAGES_FIELD = 'images';
/** Form fields besides the files; the option fields of analyze plus callbackUrl and notify. */
const MAX_FORM_FIELDS = 24;

/** A job arrives as JSON (`items` with imageUrl or imageBase64) or as a form with many files in field `images`. */
export async function readJobInput(request: FastifyRequest): Promise<JobInput> {
  if (request.isMultipart()) return readJobForm(request);
  const contentType = request.headers['content-type'] ?? '';
  if (!contentType.startsWith('application/json')) {
    throw new ArgusError(
      'UNSUPPORTED_MEDIA_TYPE',
      'send application/json ({"items": [...]}) or multipart/form-data with files in field "images"',
    );
  }
  const body = parseFields(createJobBodySchema, request.body);
  return {
    items: body.items.map((item) => ({
      id: item.id,
      source:
        item.imageUrl !== undefined
          ? { kind: 'url', url: item.imageUrl }
          : { kind: 'base64', data: item.imageBase64 ?? '' },
    })),
    options: options(body),
    ...(body.callbackUrl ? { callbackUrl: body.callbackUrl } : {}),
    ...(body.notify ? { notify: body.notify } : {}),
  };
}

async function readJobForm(request: FastifyRequest): Promise<JobInput> {
  const fields: Record<string, string> = {};
  const files: Array<{ name: string | undefined; bytes: Buffer }> = [];
  const parts = request.parts({
    limits: { files: MAX_JOB_ITEMS, fields: MAX_FORM_FIELDS, parts: MAX_JOB_ITEMS + MAX_FORM_FIELDS },
  });
  for await (const part of parts) {
    if (part.type === 'file') {
      if (part.fieldname !== IMAGES_FIELD) {
        part.file.resume();
        throw new InvalidRequestError([
          {
            field: part.fieldname,
            message: `unexpected file field; send the images in field "${IMAGES_FIELD}"`,
          },
        ]);
      }
      files.push({ name: itemIdFromFilename(part.filename), bytes: await part.toBuffer() });
    } else {
      fields[part.fieldname] = typeof part.value === 'string' ? part.value : String(part.value);
    }
  }
  if (files.length === 0) {
    throw new InvalidRequestError([
      { field: IMAGES_FIELD, message: `send at least one file in field "${IMAGES_FIELD}"` },
    ]);
  }
  const parsed = parseFields(jobFormFieldsSchema, fields);
  const ids = assignItemIds(uniqueNames(files.map((file) => file.name)));
  return {
    items: files.map((file, index) => ({
      id: ids[index],
      source: { kind: 'bytes', bytes: file.bytes },
    })),
    options: options(parsed),
    ...(parsed.callbackUrl ? { callbackUrl: parsed.callbackUrl } : {}),
    ...(parsed.notify ? { notify: parsed.notify } : {}),
  };
}

/** A filename as an item id: disallowed characters become `_`, dots may not lead, trail or repeat, 128 at most. */
export function itemIdFromFilename(filename: string | undefined): string | undefined {
  if (!filename) return undefined;
  const base = filename.split(/[\\/]/).pop() ?? '';
  const id = base
    .replace(/[^A-Za-z0-9._-]/g, '_')
    .replace(/\.{2,}/g, '.')
    .replace(/^\.+|\.+$/g, '')
    .slice(0, 128)
    .replace(/\.+$/g, '');
  return id === '' ? undefined : id;
}

/** The same filename twice becomes `name`, `name-2`, ...; ids stay unique. */
export function uniqueNames(names: ReadonlyArray<string | undefined>): Array<string | undefined> {
  const seen = new Set<string>();
  return names.map((name) => {
    if (name === undefined) return undefined;
    let candidate = name;
    for (let suffix = 2; seen.has(candidate); suffix++) candidate = `${name.slice(0, 120)}-${suffix}`;
    seen.add(candidate);
    return candidate;
  });
}
