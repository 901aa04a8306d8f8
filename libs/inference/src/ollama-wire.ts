import * as http from 'node:http';
import * as https from 'node:https';
import type { Readable } from 'node:stream';

/**
 * Base64 is written in slices of this many input bytes (a multiple of 3, so no slice needs padding): each slice's
 * string is 64 KiB, under V8's large-object size, and dies young. One string for the whole image (~130 KB for a
 * 640×480 photo, ~1 MB for a large model input) lands in large-object space and, in a worker that also holds the CPU
 * tier's models, brought a full mark-compact every ~10 images (bench P1c, issue 18).
 */
const BASE64_SLICE_BYTES = 3 * 16_384;

/** A request body as a list of buffers, sent one after another without being joined. */
export interface WireBody {
  parts: Buffer[];
  length: number;
}

/** The image's base64, as ASCII bytes, made without one string the size of the image. */
export function base64Bytes(image: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(Math.ceil(image.length / 3) * 4);
  const source = Buffer.from(image.buffer, image.byteOffset, image.byteLength);
  let written = 0;
  for (let offset = 0; offset < source.length; offset += BASE64_SLICE_BYTES) {
    const slice = source.subarray(offset, offset + BASE64_SLICE_BYTES);
    written += out.write(slice.toString('base64'), written, 'latin1');
  }
  return out.subarray(0, written);
}

/**
 * `JSON.stringify({...fields, messages})`, except that `messages[imageAt]` also carries `images: [<image as base64>]`,
 * spliced in as bytes. The same JSON ollama-js would send (`images` is a list of base64 strings, api/types.go
 * Message.Images), without building it as one string.
 */
export function chatBodyWithImage(
  fields: Record<string, unknown>,
  messages: ReadonlyArray<Record<string, unknown>>,
  imageAt: number,
  image: Uint8Array,
): WireBody {
  if (!(imageAt >= 0 && imageAt < messages.length))
    throw new RangeError(`no message ${imageAt} for the image`);
  const head = JSON.stringify(fields);
  const parts: Buffer[] = [Buffer.from(`${head.slice(0, -1)}${head === '{}' ? '' : ','}"messages":[`)];
  messages.forEach((message, index) => {
    const withoutImages = Object.fromEntries(Object.entries(message).filter(([key]) => key !== 'images'));
    const json = `${index > 0 ? ',' : ''}${JSON.stringify(withoutImages)}`;
    if (index !== imageAt) {
      parts.push(Buffer.from(json));
      return;
    }
    const open = json.endsWith('{}') ? '"images":["' : ',"images":["';
    parts.push(Buffer.from(`${json.slice(0, -1)}${open}`), base64Bytes(image), Buffer.from('"]}'));
  });
  parts.push(Buffer.from(']}'));
  return { parts, length: parts.reduce((sum, part) => sum + part.length, 0) };
}

/** Ollama answered with an HTTP error; the same shape as ollama-js's ResponseError (`error`, `status_code`). */
export class OllamaResponseError extends Error {
  override readonly name = 'ResponseError';
  constructor(
    readonly error: string,
    readonly status_code: number,
  ) {
    super(error);
  }
}

/** A connection-level failure (refused, reset, no such host): Ollama could not be reached at all. */
export class OllamaUnreachableError extends Error {
  override readonly name = 'OllamaUnreachableError';
}

/** Codes node:net and node:dns give for a server that is not there or went away. */
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EPIPE',
]);

function connectionError(error: unknown): Error {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string' && UNREACHABLE_CODES.has(code)) {
    return new OllamaUnreachableError((error as Error).message, { cause: error });
  }
  return error instanceof Error ? error : new Error(String(error));
}

/** Keep-alive, so every chat after the first reuses a connection (Ollama's server keeps them; Go's net/http). */
export function keepAliveAgent(url: URL): http.Agent {
  return new (url.protocol === 'https:' ? https.Agent : http.Agent)({ keepAlive: true });
}

/**
 * POSTs the body and resolves with the response once its headers are in; a non-2xx status rejects with
 * {@link OllamaResponseError} carrying Ollama's `{"error": "..."}` text (server/routes.go answers errors so), or the
 * body itself when it is not JSON, as ollama-js's checkOk does. node:http with a keep-alive agent rather than fetch:
 * fetch's web streams, request clone and WASM parser cost ~1 CPU ms per call (bench P1c, issue 18), and it has no
 * 300 s headers timeout to work around.
 */
export function postForStream(
  url: URL,
  body: WireBody,
  options: { agent: http.Agent; signal: AbortSignal; userAgent: string },
): Promise<http.IncomingMessage> {
  const transport = url.protocol === 'https:' ? https : http;
  const send = (retryOnStaleSocket: boolean): Promise<http.IncomingMessage> =>
    new Promise((resolve, reject) => {
      let answered = false;
      const request = transport.request(
        url,
        {
          method: 'POST',
          agent: options.agent,
          signal: options.signal,
          headers: {
            'content-type': 'application/json',
            accept: 'application/x-ndjson, application/json',
            'content-length': body.length,
            'user-agent': options.userAgent,
          },
        },
        (response) => {
          answered = true;
          const status = response.statusCode ?? 0;
          if (status >= 200 && status < 300) {
            resolve(response);
            return;
          }
          readAll(response).then(
            (text) => {
              reject(new OllamaResponseError(errorText(text, response, status), status));
            },
            (error: unknown) => {
              reject(connectionError(error));
            },
          );
        },
      );
      request.on('error', (error: NodeJS.ErrnoException) => {
        // A kept-alive connection the server closed while it sat idle fails at once with ECONNRESET: nothing reached
        // Ollama, so the call is sent again once on a new connection (what Node's http docs advise for reusedSocket).
        if (
          retryOnStaleSocket &&
          !answered &&
          request.reusedSocket &&
          error.code === 'ECONNRESET' &&
          !options.signal.aborted
        ) {
          send(false).then(resolve, reject);
          return;
        }
        reject(connectionError(error));
      });
      for (const part of body.parts) request.write(part);
      request.end();
    });
  return send(true);
}

function errorText(text: string, response: http.IncomingMessage, status: number): string {
  if (response.headers['content-type']?.includes('application/json')) {
    try {
      const parsed = JSON.parse(text) as { error?: unknown };
      if (typeof parsed.error === 'string' && parsed.error !== '') return parsed.error;
    } catch {
      // Not the JSON it claimed to be: the text itself says more than nothing.
    }
  }
  return text.trim() || `Error ${status}: ${response.statusMessage ?? ''}`.trim();
}

/** Ollama's error bodies are one short JSON object; a proxy's HTML page is cut here. */
const MAX_ERROR_BODY_CHARS = 16_384;

async function readAll(stream: Readable): Promise<string> {
  stream.setEncoding('utf8');
  let text = '';
  for await (const chunk of stream) {
    text += chunk as string;
    if (text.length >= MAX_ERROR_BODY_CHARS) {
      stream.destroy();
      return text.slice(0, MAX_ERROR_BODY_CHARS);
    }
  }
  return text;
}

/**
 * The lines of an NDJSON stream (server/routes.go streamResponse writes one JSON object and `\n` per part), parsed. A
 * line that is not JSON ends the stream with an error: a broken stream is not an answer.
 */
export async function* ndjsonLines(stream: Readable): AsyncGenerator<Record<string, unknown>> {
  stream.setEncoding('utf8');
  let pending = '';
  try {
    for await (const chunk of stream) {
      pending += chunk as string;
      let newline = pending.indexOf('\n');
      while (newline >= 0) {
        const line = pending.slice(0, newline).trim();
        pending = pending.slice(newline + 1);
        if (line !== '') yield parseLine(line);
        newline = pending.indexOf('\n');
      }
    }
  } catch (error) {
    throw connectionError(error);
  }
  const last = pending.trim();
  if (last !== '') yield parseLine(last);
}

function parseLine(line: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    throw new Error(`Ollama sent a line that is not JSON: ${line.slice(0, 120)}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new Error(`Ollama sent a line that is not a JSON object: ${line.slice(0, 120)}`);
  return parsed as Record<string, unknown>;
}
