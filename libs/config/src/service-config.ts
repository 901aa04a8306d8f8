import { z } from 'zod';
import { TASK_SERVICES, type Task } from '@argus/contracts';
import { logLevel, parseEnv, port, positiveInt, url } from './env';

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
  } as const;
}

/** Per-task defaults: the model's input long side follows ARCHITECTURE (OCR needs more pixels per glyph). */
export const TASK_DEFAULTS: Readonly<
  Record<Task, { httpPort: number; inputLongSide: number; model: string }>
> = {
  moderation: { httpPort: 9101, inputLongSide: 1024, model: 'qwen2.5vl:7b' },
  tagging: { httpPort: 9102, inputLongSide: 1024, model: 'qwen2.5vl:7b' },
  ocr: { httpPort: 9103, inputLongSide: 1568, model: 'qwen2.5vl:7b' },
};

/** Environment variable prefix per task, e.g. ARGUS_TAGGING_MODEL. */
export const TASK_ENV_PREFIX: Readonly<Record<Task, string>> = {
  moderation: 'ARGUS_MODERATION',
  tagging: 'ARGUS_TAGGING',
  ocr: 'ARGUS_OCR',
};

export type WorkerConfig = ReturnType<typeof loadWorkerConfig>;

export function loadWorkerConfig(task: Task, env: NodeJS.ProcessEnv = process.env) {
  const defaults = TASK_DEFAULTS[task];
  const prefix = TASK_ENV_PREFIX[task];
  const workerEnv = commonEnv.extend({
    HTTP_PORT: port(defaults.httpPort),
    OLLAMA_HOST: url('http://127.0.0.1:11434'),
    OLLAMA_KEEP_ALIVE: z.string().default('30m'),
    ARGUS_OLLAMA_NUM_CTX: z.coerce.number().int().positive().optional(),
    [`${prefix}_MODEL`]: z.string().min(1).default(defaults.model),
    [`${prefix}_INPUT_SIZE`]: z.coerce.number().int().min(28).max(8192).default(defaults.inputLongSide),
  });
  const parsed = parseEnv(workerEnv, env) as z.infer<typeof commonEnv> & {
    HTTP_PORT: number;
    OLLAMA_HOST: string;
    OLLAMA_KEEP_ALIVE: string;
    ARGUS_OLLAMA_NUM_CTX?: number;
  } & Record<string, unknown>;
  return {
    service: TASK_SERVICES[task],
    task,
    host: parsed.HOST,
    httpPort: parsed.HTTP_PORT,
    logLevel: parsed.LOG_LEVEL,
    natsServers: parsed.NATS_URL,
    imageTtlSeconds: parsed.ARGUS_IMAGE_TTL_SECONDS,
    ollama: {
      host: parsed.OLLAMA_HOST,
      keepAlive: parsed.OLLAMA_KEEP_ALIVE,
      numCtx: parsed.ARGUS_OLLAMA_NUM_CTX,
    },
    model: parsed[`${prefix}_MODEL`] as string,
    inputLongSide: parsed[`${prefix}_INPUT_SIZE`] as number,
  } as const;
}
