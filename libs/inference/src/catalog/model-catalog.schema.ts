import { z } from 'zod';
import { TIERS, type TierName } from '@argus/contracts';

export type { TierName };

/** Cheapest first: `auto` starts at the front and escalates towards the back. */
export const TIER_ORDER: readonly TierName[] = TIERS;

/** Tiers served by Ollama; `cpu` is the embedded engines and has no URL, GPU budget or context. */
export const OLLAMA_TIERS = ['small', 'medium', 'large'] as const satisfies readonly TierName[];
export type OllamaTierName = (typeof OLLAMA_TIERS)[number];

/** The CPU engines have no prompt; one version covers their fixed behaviour so cache keys still change with it. */
export const CPU_PROMPT_VERSION = 'cpu-v1';

// 28 px is the smallest side qwen2.5vl accepts; beyond 4096 px no shipped model sees more detail, only more cost.
const MIN_INPUT_PX = 28;
const MAX_INPUT_PX = 4096;
const inputPx = z
  .int()
  .min(MIN_INPUT_PX, `must be at least ${MIN_INPUT_PX} px`)
  .max(MAX_INPUT_PX, `must be at most ${MAX_INPUT_PX} px`);

/**
 * How a worker resizes the image for the model: keep the aspect ratio and cap the long side (qwen2.5vl,
 * llama3.2-vision, the CPU engines), or fill a fixed square (gemma3, nsfwjs).
 */
export const modelInputSchema = z.union(
  [z.strictObject({ longSide: inputPx }), z.strictObject({ square: inputPx })],
  { error: 'must be either { longSide: N } or { square: N }' },
);
export type ModelInputSpec = z.infer<typeof modelInputSchema>;

const gib = z.number().nonnegative();

/** Sizes that feed the VRAM rule; see docs/models.md for where each number comes from. */
export const vramSpecSchema = z.strictObject({
  /** Language-model weights as Ollama stores them (quantised), in GiB. */
  weightsGiB: gib,
  /** Vision encoder and projector (usually f16), in GiB. */
  projectorGiB: gib,
  /** fp16 KV cache per token: 2 × layers × kv_heads × head_dim × 2 bytes, in KiB. */
  kvCacheKiBPerToken: gib,
  /** A measured figure (from `ollama ps`) that replaces the rule's estimate. */
  overrideGiB: z.number().positive().optional(),
});
export type VramSpec = z.infer<typeof vramSpecSchema>;

const taskModelFields = {
  /** Ollama tag, or for the cpu tier the id of an embedded engine. */
  model: z.string().trim().min(1),
  input: modelInputSchema,
  /** Pins the prompt the threshold was tuned with; checked against the task when the catalog loads. */
  promptVersion: z.string().min(1),
  /** Below this confidence `auto` escalates to the next enabled tier. */
  confidenceThreshold: z.number().min(0).max(1),
};

export const cpuTaskModelSchema = z.strictObject(taskModelFields);
export const ollamaTaskModelSchema = z.strictObject({ ...taskModelFields, vram: vramSpecSchema });
export type CpuTaskModelSpec = z.infer<typeof cpuTaskModelSchema>;
export type OllamaTaskModelSpec = z.infer<typeof ollamaTaskModelSchema>;
export type TaskModelSpec = CpuTaskModelSpec | OllamaTaskModelSpec;

// Every tier answers every task, so `auto` never finds a hole in the cascade.
const tasksOf = <Model extends z.ZodType>(model: Model) =>
  z.strictObject({ moderation: model, tagging: model, ocr: model });

const capacityFields = {
  description: z.string().trim().min(1),
  /** OLLAMA_NUM_PARALLEL of the deployment (or in-process slots for cpu): KV cache is allocated for each slot. */
  parallel: z.int().positive(),
  /** Identical endpoints behind the tier's URL; each has its own GPU, so the VRAM budget is per replica. */
  replicas: z.int().positive().default(1),
  /** Calls a worker lets wait for a slot before answering UPSTREAM_BUSY; defaults to 2 × concurrency. */
  queueLimit: z.int().nonnegative().optional(),
};

// Go duration as Ollama parses keep_alive ("30m", "1h30m"), or 0 (unload at once) / -1 (never unload).
const keepAlive = z
  .string()
  .regex(
    /^(-1|0|(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+)$/,
    'must be a duration such as "30m" or "1h", or "0" / "-1"',
  );

export const cpuTierSchema = z.strictObject({
  engine: z.literal('cpu', { error: 'the cpu tier must use engine "cpu"' }),
  ...capacityFields,
  tasks: tasksOf(cpuTaskModelSchema),
});

export const ollamaTierSchema = z.strictObject({
  engine: z.literal('ollama', { error: 'the small, medium and large tiers must use engine "ollama"' }),
  ...capacityFields,
  /** Null means OLLAMA_HOST; ARGUS_TIER_<NAME>_URL overrides either. */
  url: z
    .string()
    .refine(
      (value) => /^https?:\/\//i.test(value) && URL.canParse(value),
      'must be a URL such as http://ollama-small:11434',
    )
    .nullable()
    .default(null),
  /** Memory of one GPU (or the GPUs one replica spans) in GiB. */
  vramBudgetGiB: z.number().positive(),
  /** num_ctx, fixed per tier because changing it per request makes Ollama reload the model. */
  contextLength: z.int().min(2048).max(131_072),
  keepAlive,
  tasks: tasksOf(ollamaTaskModelSchema),
});

export type CpuTierSpec = z.infer<typeof cpuTierSchema>;
export type OllamaTierSpec = z.infer<typeof ollamaTierSchema>;
export type TierSpec = CpuTierSpec | OllamaTierSpec;

export const modelCatalogSchema = z.strictObject({
  /** Format version of this file, so a future layout can be told apart instead of half-parsed. */
  version: z.literal(1),
  tiers: z.strictObject({
    cpu: cpuTierSchema,
    small: ollamaTierSchema,
    medium: ollamaTierSchema,
    large: ollamaTierSchema,
  }),
});
export type ModelCatalog = z.infer<typeof modelCatalogSchema>;
