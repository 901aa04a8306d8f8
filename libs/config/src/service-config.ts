import { z } from 'zod';
import { TASK_DEFAULT_PORTS, TASK_SERVICES, type Task } from '@argus/contracts';
import { loadApiKeys } from './api-keys';
import { commaList, ConfigError, flag, logLevel, parseEnv, port, positiveInt } from './env';

const natsUrls = commaList('nats://127.0.0.1:4222');

const optionalText = z
  .string()
  .optional()
  .transform((value) => (value === '' ? undefined : value));

const commonEnv = z.object({
  NATS_URL: natsUrls,
  // NATS authentication (at most one way) and TLS; files are read when the connection opens.
  NATS_USER: optionalText,
  NATS_PASSWORD: optionalText,
  NATS_TOKEN: optionalText,
  NATS_NKEY_SEED_FILE: optionalText,
  NATS_CREDS: optionalText,
  NATS_TLS_CA: optionalText,
  NATS_TLS_CERT: optionalText,
  NATS_TLS_KEY: optionalText,
  NATS_TLS: flag(false),
  LOG_LEVEL: logLevel,
  HOST: z.string().default('127.0.0.1'),
  ARGUS_IMAGE_TTL_SECONDS: positiveInt(3600),
  /** Lifetime of cached answers (workers) and of the gateway's memo of uploads it has normalised; 0 turns both off. */
  ARGUS_CACHE_TTL_SECONDS: z.coerce.number().int().min(0).default(86_400),
  /**
   * Seconds images may be kept, at most (caps ARGUS_IMAGE_TTL_SECONDS and the job image TTL). 0 deletes each image as
   * soon as every task answered. Unset: the TTLs alone decide.
   */
  ARGUS_RETENTION: z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined || value.trim() === '') return undefined;
      const seconds = Number(value);
      if (!Number.isInteger(seconds) || seconds < 0) {
        ctx.addIssue({ code: 'custom', message: 'must be a whole number of seconds, 0 or more' });
        return z.NEVER;
      }
      return seconds;
    }),
  // Async jobs: whoever starts first creates the JetStream layout with these settings (libs/messaging JobQueue).
  ARGUS_JOB_TTL_SECONDS: positiveInt(7 * 86_400),
  ARGUS_JOB_MAX_DELIVER: z.coerce.number().int().min(1).max(100).default(5),
  ARGUS_JOB_ACK_WAIT_MS: positiveInt(300_000),
  ARGUS_JOB_DUPLICATE_WINDOW_SECONDS: positiveInt(7200),
  /** Sync path: how often a worker tells the gateway it is still on a request; 0 turns heartbeats off. */
  ARGUS_HEARTBEAT_INTERVAL_MS: z.coerce.number().int().min(0).default(1_000),
});

/** How a process proves itself to NATS and checks the server: what libs/messaging's connectNats takes. */
export interface NatsSecurity {
  user?: string;
  password?: string;
  token?: string;
  nkeySeedFile?: string;
  credsFile?: string;
  /** Set when TLS is on (NATS_TLS, or any NATS_TLS_* file). */
  tls?: { caFile?: string; certFile?: string; keyFile?: string };
}

function natsSecurity(parsed: z.infer<typeof commonEnv>): NatsSecurity {
  const ways = [
    parsed.NATS_USER !== undefined || parsed.NATS_PASSWORD !== undefined ? 'NATS_USER/NATS_PASSWORD' : '',
    parsed.NATS_TOKEN !== undefined ? 'NATS_TOKEN' : '',
    parsed.NATS_NKEY_SEED_FILE !== undefined ? 'NATS_NKEY_SEED_FILE' : '',
    parsed.NATS_CREDS !== undefined ? 'NATS_CREDS' : '',
  ].filter(Boolean);
  if (ways.length > 1)
    throw new ConfigError(`Invalid configuration:\n  NATS: use one of ${ways.join(', ')}, not several`);
  if ((parsed.NATS_USER === undefined) !== (parsed.NATS_PASSWORD === undefined)) {
    throw new ConfigError('Invalid configuration:\n  NATS_USER and NATS_PASSWORD go together');
  }
  if ((parsed.NATS_TLS_CERT === undefined) !== (parsed.NATS_TLS_KEY === undefined)) {
    throw new ConfigError(
      'Invalid configuration:\n  NATS_TLS_CERT and NATS_TLS_KEY go together (a client certificate)',
    );
  }
  const tlsOn =
    parsed.NATS_TLS ||
    [parsed.NATS_TLS_CA, parsed.NATS_TLS_CERT, parsed.NATS_TLS_KEY].some((file) => file !== undefined);
  return {
    ...(parsed.NATS_USER !== undefined ? { user: parsed.NATS_USER, password: parsed.NATS_PASSWORD } : {}),
    ...(parsed.NATS_TOKEN !== undefined ? { token: parsed.NATS_TOKEN } : {}),
    ...(parsed.NATS_NKEY_SEED_FILE !== undefined ? { nkeySeedFile: parsed.NATS_NKEY_SEED_FILE } : {}),
    ...(parsed.NATS_CREDS !== undefined ? { credsFile: parsed.NATS_CREDS } : {}),
    ...(tlsOn
      ? {
          tls: {
            ...(parsed.NATS_TLS_CA !== undefined ? { caFile: parsed.NATS_TLS_CA } : {}),
            ...(parsed.NATS_TLS_CERT !== undefined ? { certFile: parsed.NATS_TLS_CERT } : {}),
            ...(parsed.NATS_TLS_KEY !== undefined ? { keyFile: parsed.NATS_TLS_KEY } : {}),
          },
        }
      : {}),
  };
}

/** The JetStream layout settings every process that touches jobs agrees on. */
function jobLayout(parsed: z.infer<typeof commonEnv>) {
  return {
    ttlSeconds: parsed.ARGUS_JOB_TTL_SECONDS,
    maxDeliver: parsed.ARGUS_JOB_MAX_DELIVER,
    ackWaitMs: parsed.ARGUS_JOB_ACK_WAIT_MS,
    duplicateWindowSeconds: parsed.ARGUS_JOB_DUPLICATE_WINDOW_SECONDS,
  };
}

const gatewayEnv = commonEnv.extend({
  PORT: port(8080),
  ARGUS_MAX_IMAGE_BYTES: positiveInt(25 * 1024 * 1024),
  ARGUS_MAX_IMAGE_PIXELS: positiveInt(40_000_000),
  ARGUS_MAX_LONG_SIDE: positiveInt(2048),
  ARGUS_REQUEST_TIMEOUT_MS: positiveInt(120_000),
  /**
   * Longest time to receive one request, headers and body (slow uploads get 408 and the connection closed); 0 means
   * the request timeout plus 10 s.
   */
  ARGUS_UPLOAD_TIMEOUT_MS: z.coerce.number().int().min(0).default(0),
  ARGUS_READY_TIMEOUT_MS: positiveInt(2_000),
  ARGUS_URL_ALLOW_PRIVATE: flag(false),
  ARGUS_URL_ALLOW_CIDRS: commaList(),
  ARGUS_URL_TIMEOUT_MS: positiveInt(15_000),
  ARGUS_URL_MAX_REDIRECTS: z.coerce.number().int().min(0).max(20).default(5),
  ARGUS_JOB_INTAKE_CONCURRENCY: positiveInt(8),
  /** Signs every webhook (HMAC-SHA256); a job with a callbackUrl is refused while it is unset. */
  ARGUS_WEBHOOK_SECRET: z.string().default(''),
  ARGUS_WEBHOOK_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(6),
  ARGUS_WEBHOOK_RETRY_BASE_MS: positiveInt(1_000),
  ARGUS_WEBHOOK_RETRY_MAX_MS: positiveInt(60_000),
  ARGUS_WEBHOOK_CONCURRENCY: positiveInt(8),
  /** Share of allow and block moderation items also queued for review, to measure the model against people. */
  ARGUS_REVIEW_AUDIT_RATE: z.coerce.number().min(0).max(1).default(0),
  /** How long result events for one job gather before the gateway counts whether the job is complete. */
  ARGUS_JOB_COMPLETION_CHECK_MS: z.coerce.number().int().min(0).default(250),
  /** Result events handled at once by this gateway. */
  ARGUS_JOB_EVENTS_CONCURRENCY: positiveInt(64),
  /** `auto`: keys are required once ARGUS_API_KEYS(_FILE) names any; `required` refuses to start without them. */
  ARGUS_AUTH: z.enum(['auto', 'required', 'off']).default('auto'),
  /** `open`: /healthz, /readyz and /metrics answer anyone (the cluster's probes and Prometheus); `key`: the ops scope. */
  ARGUS_AUTH_OPS: z.enum(['open', 'key']).default('open'),
  /** Per key and gateway replica, unless the key sets its own rateLimit. */
  ARGUS_RATE_LIMIT_REQUESTS: positiveInt(600),
  ARGUS_RATE_LIMIT_PER_SECONDS: positiveInt(60),
  /** Prefix of links in webhooks and reviews (e.g. https://argus.example.com); relative links when unset. */
  ARGUS_PUBLIC_URL: z
    .string()
    .default('')
    .refine((value) => value === '' || URL.canParse(value), 'must be an absolute URL')
    .transform((value) => value.replace(/\/+$/, '')),
});

export type GatewayConfig = ReturnType<typeof loadGatewayConfig>;

/**
 * An image TTL capped by ARGUS_RETENTION. 0 keeps the TTL as a backstop: images are deleted once answered, and a
 * queued item must still find its image however long it waited.
 */
function retained(ttlSeconds: number, retention: number | undefined): number {
  return retention === undefined || retention === 0 ? ttlSeconds : Math.min(ttlSeconds, retention);
}

export function loadGatewayConfig(env: NodeJS.ProcessEnv = process.env) {
  const parsed = parseEnv(gatewayEnv, env);
  const keys = loadApiKeys(env);
  if (parsed.ARGUS_AUTH === 'required' && !keys?.length) {
    throw new ConfigError(
      'Invalid configuration:\n  ARGUS_AUTH=required needs API keys in ARGUS_API_KEYS or ARGUS_API_KEYS_FILE (npx argus keys create)',
    );
  }
  return {
    service: 'gateway',
    host: parsed.HOST,
    port: parsed.PORT,
    logLevel: parsed.LOG_LEVEL,
    natsServers: parsed.NATS_URL,
    natsSecurity: natsSecurity(parsed),
    imageTtlSeconds: retained(parsed.ARGUS_IMAGE_TTL_SECONDS, parsed.ARGUS_RETENTION),
    /** 0: images are deleted as soon as every task answered; otherwise the TTLs apply. */
    retentionSeconds: parsed.ARGUS_RETENTION,
    limits: {
      maxBytes: parsed.ARGUS_MAX_IMAGE_BYTES,
      maxPixels: parsed.ARGUS_MAX_IMAGE_PIXELS,
      maxLongSide: parsed.ARGUS_MAX_LONG_SIDE,
    },
    requestTimeoutMs: parsed.ARGUS_REQUEST_TIMEOUT_MS,
    uploadTimeoutMs:
      parsed.ARGUS_UPLOAD_TIMEOUT_MS > 0
        ? parsed.ARGUS_UPLOAD_TIMEOUT_MS
        : parsed.ARGUS_REQUEST_TIMEOUT_MS + 10_000,
    /** 0: every upload is normalised and sent in full, since no worker would have a cached answer. */
    cacheTtlSeconds: parsed.ARGUS_CACHE_TTL_SECONDS,
    readyTimeoutMs: parsed.ARGUS_READY_TIMEOUT_MS,
    /** Fetching images by URL: only public addresses unless the operator opens private ones. */
    urlFetch: {
      allowPrivate: parsed.ARGUS_URL_ALLOW_PRIVATE,
      allowCidrs: parsed.ARGUS_URL_ALLOW_CIDRS,
      timeoutMs: parsed.ARGUS_URL_TIMEOUT_MS,
      maxRedirects: parsed.ARGUS_URL_MAX_REDIRECTS,
    },
    jobs: {
      ...jobLayout(parsed),
      imageTtlSeconds: retained(parsed.ARGUS_JOB_TTL_SECONDS, parsed.ARGUS_RETENTION),
      intakeConcurrency: parsed.ARGUS_JOB_INTAKE_CONCURRENCY,
      completionCheckMs: parsed.ARGUS_JOB_COMPLETION_CHECK_MS,
      eventsConcurrency: parsed.ARGUS_JOB_EVENTS_CONCURRENCY,
    },
    webhooks: {
      secret: parsed.ARGUS_WEBHOOK_SECRET,
      attempts: parsed.ARGUS_WEBHOOK_ATTEMPTS,
      initialDelayMs: parsed.ARGUS_WEBHOOK_RETRY_BASE_MS,
      maxDelayMs: parsed.ARGUS_WEBHOOK_RETRY_MAX_MS,
      concurrency: parsed.ARGUS_WEBHOOK_CONCURRENCY,
    },
    reviews: { auditRate: parsed.ARGUS_REVIEW_AUDIT_RATE },
    auth: {
      /** Off only when nothing asks for keys: a local stack without ARGUS_API_KEYS, or ARGUS_AUTH=off. */
      enabled: parsed.ARGUS_AUTH !== 'off' && (keys?.length ?? 0) > 0,
      keys: keys ?? [],
      opsOpen: parsed.ARGUS_AUTH_OPS === 'open',
      defaultRateLimit: {
        requests: parsed.ARGUS_RATE_LIMIT_REQUESTS,
        perSeconds: parsed.ARGUS_RATE_LIMIT_PER_SECONDS,
      },
    },
    publicUrl: parsed.ARGUS_PUBLIC_URL,
  } as const;
}

export type WorkerConfig = ReturnType<typeof loadWorkerConfig>;

export function loadWorkerConfig(task: Task, env: NodeJS.ProcessEnv = process.env) {
  const workerEnv = commonEnv.extend({
    HTTP_PORT: port(TASK_DEFAULT_PORTS[task]),
    ARGUS_PULL_MODELS: flag(false),
    ARGUS_TIER_CHECK_INTERVAL_MS: positiveInt(15_000),
    /** How long a sync request waits for a free slot of an Ollama tier before 503 UPSTREAM_BUSY; job items wait longer. */
    ARGUS_SLOT_WAIT_MS: z.coerce.number().int().min(0).max(60_000).default(250),
    /** A tier slot whose holder stopped renewing it (a crashed worker) is free again after this long. */
    ARGUS_SLOT_LEASE_TTL_MS: z.coerce.number().int().min(1_000).max(600_000).default(15_000),
    /** Job items processed at once by this worker; 0 means the sum of the task's tier concurrencies. */
    ARGUS_JOB_CONCURRENCY: z.coerce.number().int().min(0).default(0),
    /** Time budget of one job item; defaults to the ack wait less 30 s so an answer is acked before redelivery. */
    ARGUS_JOB_BUDGET_MS: z.coerce.number().int().min(0).default(0),
    ARGUS_JOB_RETRY_BASE_MS: positiveInt(2_000),
    ARGUS_JOB_RETRY_MAX_MS: positiveInt(60_000),
    ARGUS_JOB_METRICS_INTERVAL_MS: positiveInt(5_000),
    /** Off: the worker answers only the sync path (request/reply) and does not pull job messages. */
    ARGUS_JOBS_ENABLED: flag(true),
  });
  const parsed = parseEnv(workerEnv, env);
  return {
    service: TASK_SERVICES[task],
    task,
    host: parsed.HOST,
    httpPort: parsed.HTTP_PORT,
    logLevel: parsed.LOG_LEVEL,
    natsServers: parsed.NATS_URL,
    natsSecurity: natsSecurity(parsed),
    imageTtlSeconds: retained(parsed.ARGUS_IMAGE_TTL_SECONDS, parsed.ARGUS_RETENTION),
    /** 0 turns the result cache off. */
    cacheTtlSeconds: parsed.ARGUS_CACHE_TTL_SECONDS,
    pullModels: parsed.ARGUS_PULL_MODELS,
    tierCheckIntervalMs: parsed.ARGUS_TIER_CHECK_INTERVAL_MS,
    slots: { waitMs: parsed.ARGUS_SLOT_WAIT_MS, leaseTtlMs: parsed.ARGUS_SLOT_LEASE_TTL_MS },
    jobs: {
      ...jobLayout(parsed),
      imageTtlSeconds: retained(parsed.ARGUS_JOB_TTL_SECONDS, parsed.ARGUS_RETENTION),
      enabled: parsed.ARGUS_JOBS_ENABLED,
      concurrency: parsed.ARGUS_JOB_CONCURRENCY,
      budgetMs:
        parsed.ARGUS_JOB_BUDGET_MS > 0
          ? parsed.ARGUS_JOB_BUDGET_MS
          : Math.max(1_000, parsed.ARGUS_JOB_ACK_WAIT_MS - 30_000),
      retryBaseMs: parsed.ARGUS_JOB_RETRY_BASE_MS,
      retryMaxMs: parsed.ARGUS_JOB_RETRY_MAX_MS,
      metricsIntervalMs: parsed.ARGUS_JOB_METRICS_INTERVAL_MS,
    },
    heartbeatIntervalMs: parsed.ARGUS_HEARTBEAT_INTERVAL_MS,
  } as const;
}
