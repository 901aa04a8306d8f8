import { lookup as systemLookup, type LookupAddress } from 'node:dns';
import type { LookupFunction } from 'node:net';
import { Agent, request } from 'undici';
import { ArgusError } from '@argus/contracts';
import { judgeAddress, literalAddress, parseCidrs, type AddressVerdict } from './address-policy';

export interface SafeFetchOptions {
  /** Bytes at most; a larger body is cut off and refused. */
  maxBytes: number;
  /** Whole fetch, all redirects included. */
  timeoutMs: number;
  maxRedirects: number;
  /** ARGUS_URL_ALLOW_PRIVATE: on-premise image stores on private addresses. Off by default. */
  allowPrivate: boolean;
  /** ARGUS_URL_ALLOW_CIDRS: narrower than allowPrivate, e.g. just the image store's subnet. */
  allowCidrs?: string[];
  /** Name resolution; the system resolver unless a test injects one. */
  resolve?: (hostname: string) => Promise<LookupAddress[]>;
}

export interface FetchedBody {
  bytes: Buffer;
  /** The URL the bytes came from, after redirects. */
  finalUrl: string;
  /** What the server said; informational only, the type is sniffed from the bytes. */
  contentType: string | undefined;
  redirects: number;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

function notAllowed(message: string): ArgusError {
  return new ArgusError('URL_NOT_ALLOWED', message);
}

function systemResolve(hostname: string): Promise<LookupAddress[]> {
  return new Promise((resolve, reject) => {
    systemLookup(hostname, { all: true, verbatim: true }, (error, addresses) => {
      if (error) reject(error);
      else resolve(addresses);
    });
  });
}

/**
 * Fetches a caller's URL without letting the caller reach inside the network (SSRF):
 * - http and https only, no credentials in the URL;
 * - every address the name resolves to is checked, on the first request and on every redirect, and the connection
 *   is made to an address that was checked (the check runs inside the socket's own DNS lookup, so a second,
 *   different DNS answer cannot slip in between check and connect);
 * - a limit on redirects, bytes and total time.
 */
export class SafeFetcher {
  private readonly resolve: (hostname: string) => Promise<LookupAddress[]>;
  private readonly agent: Agent;
  private readonly judge: (address: string) => AddressVerdict;

  constructor(private readonly options: SafeFetchOptions) {
    this.resolve = options.resolve ?? systemResolve;
    const allowed = parseCidrs(options.allowCidrs ?? []);
    this.judge = (address) =>
      allowed.some((contains) => contains(address)) ? { allowed: true } : judgeAddress(address);
    this.agent = new Agent({
      connect: { lookup: this.checkedLookup, timeout: Math.min(options.timeoutMs, 10_000) },
      // One image per connection; nothing is gained by keeping sockets to arbitrary hosts.
      pipelining: 0,
    });
  }

  /** Resolves, refuses the whole name if any address is not allowed, and hands the socket the checked addresses. */
  private readonly checkedLookup: LookupFunction = (hostname, lookupOptions, callback) => {
    this.resolve(hostname).then(
      (addresses) => {
        const refused = this.refusal(hostname, addresses);
        if (refused) {
          callback(refused, '', 0);
          return;
        }
        const wanted = addresses.filter(
          (entry) => !lookupOptions.family || entry.family === lookupOptions.family,
        );
        if (lookupOptions.all) callback(null, wanted);
        else {
          const first = wanted.at(0);
          if (first) callback(null, first.address, first.family);
          else callback(notAllowed(`${hostname} has no address of the requested family`), '', 0);
        }
      },
      (error: unknown) => {
        callback(error as NodeJS.ErrnoException, '', 0);
      },
    );
  };

  private refusal(hostname: string, addresses: LookupAddress[]): ArgusError | undefined {
    if (addresses.length === 0) return new ArgusError('URL_FETCH_FAILED', `${hostname} does not resolve`);
    if (this.options.allowPrivate) return undefined;
    for (const { address } of addresses) {
      const verdict = this.judge(address);
      if (!verdict.allowed) {
        return notAllowed(
          `${hostname} resolves to ${address} (${verdict.range}); only public addresses are fetched`,
        );
      }
    }
    return undefined;
  }

  /** Checks a URL's form and, for a literal IP host, its address; names are checked when they are resolved. */
  checkUrl(raw: string): URL {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new ArgusError('INVALID_REQUEST', `not a URL: ${raw.slice(0, 200)}`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw notAllowed(`only http and https URLs are fetched, not ${url.protocol}`);
    }
    if (url.username || url.password) throw notAllowed('URLs with credentials are not fetched');
    const literal = literalAddress(url.hostname);
    if (literal && !this.options.allowPrivate) {
      const verdict = judgeAddress(literal);
      if (!verdict.allowed)
        throw notAllowed(`${literal} is a ${verdict.range} address; only public addresses are fetched`);
    }
    return url;
  }

  async fetch(raw: string, signal?: AbortSignal): Promise<FetchedBody> {
    const deadline = AbortSignal.timeout(this.options.timeoutMs);
    const abort = signal ? AbortSignal.any([signal, deadline]) : deadline;
    let url = this.checkUrl(raw);
    for (let redirects = 0; ; redirects += 1) {
      const response = await this.send(url, abort, deadline);
      if (REDIRECTS.has(response.statusCode)) {
        await response.body.dump();
        const location = response.headers.location;
        if (typeof location !== 'string') {
          throw new ArgusError(
            'URL_FETCH_FAILED',
            `${url.host} answered ${response.statusCode} with no Location`,
          );
        }
        if (redirects >= this.options.maxRedirects) {
          throw notAllowed(`more than ${this.options.maxRedirects} redirects`);
        }
        url = this.checkUrl(new URL(location, url).toString());
        continue;
      }
      if (response.statusCode < 200 || response.statusCode >= 300) {
        await response.body.dump();
        throw new ArgusError('URL_FETCH_FAILED', `${url.host} answered HTTP ${response.statusCode}`);
      }
      const declared = Number(response.headers['content-length']);
      if (Number.isFinite(declared) && declared > this.options.maxBytes) {
        await response.body.dump();
        throw tooLarge(this.options.maxBytes);
      }
      const bytes = await this.readCapped(response.body, deadline);
      const contentType = response.headers['content-type'];
      return {
        bytes,
        finalUrl: url.toString(),
        contentType: typeof contentType === 'string' ? contentType : undefined,
        redirects,
      };
    }
  }

  /**
   * POSTs a body to a caller's URL under the same address checks, without following redirects (a webhook that
   * moved must be reconfigured, not chased). Answers the HTTP status; the response body is discarded.
   */
  async post(
    raw: string,
    body: string,
    headers: Record<string, string>,
    signal?: AbortSignal,
  ): Promise<number> {
    const deadline = AbortSignal.timeout(this.options.timeoutMs);
    const url = this.checkUrl(raw);
    try {
      const response = await request(url, {
        method: 'POST',
        dispatcher: this.agent,
        signal: signal ? AbortSignal.any([signal, deadline]) : deadline,
        headers: { 'user-agent': 'argus-webhook/1', ...headers },
        body,
      });
      await response.body.dump();
      return response.statusCode;
    } catch (error) {
      throw fetchFailure(error, url, deadline, this.options.timeoutMs);
    }
  }

  private async send(url: URL, signal: AbortSignal, deadline: AbortSignal) {
    try {
      return await request(url, {
        method: 'GET',
        dispatcher: this.agent,
        signal,
        headers: { accept: 'image/*', 'user-agent': 'argus-image-fetch/1' },
      });
    } catch (error) {
      throw fetchFailure(error, url, deadline, this.options.timeoutMs);
    }
  }

  private async readCapped(body: AsyncIterable<Buffer>, deadline: AbortSignal): Promise<Buffer> {
    const chunks: Buffer[] = [];
    let total = 0;
    try {
      for await (const chunk of body) {
        total += chunk.length;
        if (total > this.options.maxBytes) throw tooLarge(this.options.maxBytes);
        chunks.push(chunk);
      }
    } catch (error) {
      if (error instanceof ArgusError) throw error;
      throw fetchFailure(error, undefined, deadline, this.options.timeoutMs);
    }
    return Buffer.concat(chunks, total);
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}

function tooLarge(maxBytes: number): ArgusError {
  return new ArgusError('IMAGE_TOO_LARGE', `the image at the URL is larger than ${maxBytes} bytes`);
}

/** The refusal raised inside the DNS lookup keeps its code; everything else is the remote side failing. */
function fetchFailure(
  error: unknown,
  url: URL | undefined,
  deadline: AbortSignal,
  timeoutMs: number,
): ArgusError {
  const cause = findArgusError(error);
  if (cause) return cause;
  if (deadline.aborted)
    return new ArgusError('URL_FETCH_FAILED', `fetching the image took longer than ${timeoutMs} ms`);
  const reason = error instanceof Error ? error.message : String(error);
  return new ArgusError('URL_FETCH_FAILED', `fetching ${url ? url.host : 'the image'} failed: ${reason}`);
}

function findArgusError(error: unknown): ArgusError | undefined {
  for (let current = error, depth = 0; current && depth < 5; depth += 1) {
    if (current instanceof ArgusError) return current;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}
