import type { IncomingHttpHeaders } from 'node:http';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { ArgusError, WHOAMI_PATH } from '@argus/contracts';
import { hashApiKey, type ApiKeyEntry, type ApiScope, type GatewayConfig } from '@argus/config';
import { isProbePath } from '@argus/telemetry';
import { OPENAPI_PATHS } from './openapi';

/** Who is calling, once their key checked out. Jobs and reviews belong to the caller's tenant. */
export interface Caller {
  keyId: string;
  tenant: string;
  policy?: string;
  scopes: readonly ApiScope[];
}

export interface Admission {
  caller?: Caller;
  /** RateLimit-* headers for the answer (IETF draft names, as most gateways send them). */
  headers: Record<string, string>;
}

/** The scope a route needs; `ops` covers the probes and /metrics. */
export function scopeFor(path: string): ApiScope {
  const route = path.split('?')[0] ?? '';
  if (isProbePath(route)) return 'ops';
  if (route === '/v1/jobs' || route.startsWith('/v1/jobs/')) return 'jobs';
  if (route === '/v1/reviews' || route.startsWith('/v1/reviews/')) return 'reviews';
  return 'analyze';
}

/** The API's description and its reference (docs.controller.ts): public, as they hold no data. */
export function isDocsPath(path: string): boolean {
  const route = path.split('?')[0] ?? '';
  return (
    route === OPENAPI_PATHS.json ||
    route === OPENAPI_PATHS.yaml ||
    route === OPENAPI_PATHS.docs ||
    route.startsWith(`${OPENAPI_PATHS.docs}/`)
  );
}

/** The web console's shell and assets (console.controller.ts): public like the docs, as they hold no data. */
export const CONSOLE_PATH = '/console';

export function isConsolePath(path: string): boolean {
  const route = path.split('?')[0] ?? '';
  return route === CONSOLE_PATH || route.startsWith(`${CONSOLE_PATH}/`);
}

/** Routes any valid key may call whatever its scopes: who am I, so a client can tell what it may do. */
export function needsAnyScope(path: string): boolean {
  return (path.split('?')[0] ?? '') === WHOAMI_PATH;
}

/** `Authorization: Bearer <key>`, or `X-API-Key: <key>` for clients that cannot set Authorization. */
export function presentedKey(headers: IncomingHttpHeaders): string | undefined {
  const authorization = headers.authorization;
  if (authorization) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    return match?.[1];
  }
  const header = headers['x-api-key'];
  return typeof header === 'string' && header.trim() ? header.trim() : undefined;
}

/**
 * API keys, scopes and per-key rate limits, checked before a body is read. Keys are looked up by their SHA-256, so
 * the gateway never holds one in the clear. Limits count per gateway replica (rate-limiter-flexible, in memory).
 */
export class AccessControl {
  private readonly byHash = new Map<string, ApiKeyEntry>();
  private readonly limiters = new Map<string, RateLimiterMemory>();

  constructor(private readonly auth: GatewayConfig['auth']) {
    for (const key of auth.keys) {
      this.byHash.set(key.hash, key);
      const limit = key.rateLimit ?? auth.defaultRateLimit;
      this.limiters.set(
        key.id,
        new RateLimiterMemory({ points: limit.requests, duration: limit.perSeconds }),
      );
    }
  }

  get enabled(): boolean {
    return this.auth.enabled;
  }

  async admit(headers: IncomingHttpHeaders, path: string): Promise<Admission> {
    const scope = scopeFor(path);
    if (
      !this.auth.enabled ||
      isDocsPath(path) ||
      isConsolePath(path) ||
      (scope === 'ops' && this.auth.opsOpen)
    ) {
      return { headers: {} };
    }
    const key = presentedKey(headers);
    if (!key) {
      throw new ArgusError(
        'UNAUTHORIZED',
        'send an API key as "Authorization: Bearer <key>" or "X-API-Key: <key>"',
      );
    }
    const entry = this.byHash.get(hashApiKey(key));
    if (!entry) throw new ArgusError('UNAUTHORIZED', 'the API key is not known (revoked, or mistyped)');
    if (!entry.scopes.includes(scope) && !needsAnyScope(path)) {
      throw new ArgusError(
        'FORBIDDEN',
        `API key ${entry.id} may not use ${scope} routes; its scopes are ${entry.scopes.join(', ')}`,
      );
    }
    const limiter = this.limiters.get(entry.id);
    const caller: Caller = {
      keyId: entry.id,
      tenant: entry.tenant,
      ...(entry.policy ? { policy: entry.policy } : {}),
      scopes: entry.scopes,
    };
    if (!limiter) return { caller, headers: {} };
    try {
      const state = await limiter.consume(entry.id);
      return { caller, headers: rateHeaders(limiter.points, state) };
    } catch (error) {
      if (!(error instanceof RateLimiterRes)) throw error;
      const retryAfterSeconds = Math.max(1, Math.ceil(error.msBeforeNext / 1000));
      throw new ArgusError(
        'RATE_LIMITED',
        `API key ${entry.id} sent more than ${limiter.points} requests in ${limiter.duration} s; retry in ${retryAfterSeconds} s`,
        { retryAfterSeconds },
      );
    }
  }
}

function rateHeaders(limit: number, state: RateLimiterRes): Record<string, string> {
  return {
    'ratelimit-limit': String(limit),
    'ratelimit-remaining': String(Math.max(0, state.remainingPoints)),
    'ratelimit-reset': String(Math.ceil(state.msBeforeNext / 1000)),
  };
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the access-control hook when keys are on. */
    argusCaller?: Caller;
  }
}
