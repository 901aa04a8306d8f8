import { z } from 'zod';
import { TASK_SERVICES, type Task } from '@argus/contracts';
import { logLevel, parseEnv, port, positiveInt } from './env';

const natsUrls = z
  .string()
  .default('nats://127.0.0.1:4222')
  .transform((value) =>
    value
      .split(',')
      .map((server) => server.trim())
      .filter(Boolean),
  );

const commonEnv = z.object({
  NATS_URL: natsUrls,
  LOG_LEVEL: logLevel,
  HOST: z.string().default('127.0.0.1'),
  ARGUS_IMAGE_TTL_SECONDS: positiveInt(3600),
});

const gatewayEnv = commonEnv.extend({
  PORT: port(8080),
  ARGUS_MAX_IMAGE_BYTES: positiveInt(25 * 1024 * 1024),
  ARGUS_MAX_IMAGE_PIXELS: positiveInt(40_000_000),
  ARGUS_MAX_LONG_SIDE: positiveInt(2048),
  ARGUS_REQUEST_TIMEOUT_MS: positiveInt(120_000),
  ARGUS_READY_TIMEOUT_MS: positiveInt(2_000),
  ARGUS_URL_ALLOW_PRIVATE: z
    .enum(['true', 'false', '1', '0', ''])
    .default('false')
    .transform((value) => value === 'true' || value === '1'),
  ARGUS_URL_ALLOW_CIDRS: z
    .string()
    .default('')
    .transform((value) =>
      value
        .split(',')
        .map((cidr) => cidr.trim())
        .filter(Boolean),
    ),
  ARGUS_URL_TIMEOUT_MS: positiveInt(15_000),
  ARGUS_URL_MAX_REDIRECTS: z.coerce.number().int().min(0).max(20).default(5),
});

export type GatewayConfig = ReturnType<typeof loadGatewayConfig>;

export function loadGatewayConfig(env: NodeJS.ProcessEnv = process.env) {
  const parsed = parseEnv(gatewayEnv, env);
  return {
    service: 'gateway',
    host: parsed.HOST,
    port: parsed.PORT,
    logLevel: parsed.LOG_LEVEL,
    natsServers: parsed.NATS_URL,
    imageTtlSeconds: parsed.ARGUS_IMAGE_TTL_SECONDS,
    limits: {
      maxBytes: parsed.ARGUS_MAX_IMAGE_BYTES,
      maxPixels: parsed.ARGUS_MAX_IMAGE_PIXELS,
      maxLongSide: parsed.ARGUS_MAX_LONG_SIDE,
    },
    requestTimeoutMs: parsed.ARGUS_REQUEST_TIMEOUT_MS,
    readyTimeoutMs: parsed.ARGUS_READY_TIMEOUT_MS,
    /** Fetching images by URL: only public addresses unless the operator opens private ones. */
    urlFetch: {
      allowPrivate: parsed.ARGUS_URL_ALLOW_PRIVATE,
      allowCidrs: parsed.ARGUS_URL_ALLOW_CIDRS,
      timeoutMs: parsed.ARGUS_URL_TIMEOUT_MS,
      maxRedirects: parsed.ARGUS_URL_MAX_REDIRECTS,
    },
  } as const;
}

/** Per-task default HTTP port for probes and metrics. Models, tiers and input sizes live in the model catalog. */
export const TASK_DEFAULT_PORTS: Readonly<Record<Task, number>> = {
  moderation: 9101,
  tagging: 9102,
  ocr: 9103,
};

const booleanFlag = z
  .enum(['true', 'false', '1', '0', ''])
  .default('false')
  .transform((value) => value === 'true' || value === '1');

export type WorkerConfig = ReturnType<typeof loadWorkerConfig>;

export function loadWorkerConfig(task: Task, env: NodeJS.ProcessEnv = process.env) {
  const workerEnv = commonEnv.extend({
    HTTP_PORT: port(TASK_DEFAULT_PORTS[task]),
    ARGUS_CACHE_TTL_SECONDS: z.coerce.number().int().min(0).default(86_400),
    ARGUS_PULL_MODELS: booleanFlag,
    ARGUS_TIER_CHECK_INTERVAL_MS: positiveInt(15_000),
  });
  const parsed = parseEnv(workerEnv, env);
  return {
    service: TASK_SERVICES[task],
    task,
    host: parsed.HOST,
    httpPort: parsed.HTTP_PORT,
    logLevel: parsed.LOG_LEVEL,
    natsServers: parsed.NATS_URL,
    imageTtlSeconds: parsed.ARGUS_IMAGE_TTL_SECONDS,
    /** 0 turns the result cache off. */
    cacheTtlSeconds: parsed.ARGUS_CACHE_TTL_SECONDS,
    pullModels: parsed.ARGUS_PULL_MODELS,
    tierCheckIntervalMs: parsed.ARGUS_TIER_CHECK_INTERVAL_MS,
  } as const;
}
