import { z } from 'zod';
import { perTask, TIERS, type TierName } from '@argus/contracts';
import { QWEN25VL_RULE, QWEN3VL_RULE, VISION_FAMILIES, type PixelBudgetRule } from '@argus/imaging';

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

const pixelBudget = (rule: PixelBudgetRule) =>
  z
    .int()
    .min(4 * rule.minPixels, `must be at least ${4 * rule.minPixels} px (4 × the family's minimum)`)
    .max(
      rule.maxPixels,
      `must be at most ${rule.maxPixels} px, Ollama's cap for the family; omit it for the cap`,
    )
    .optional();

/**
 * A vision model's own input rule, ported from Ollama's image processor for the family (libs/imaging
 * model-input.ts): the worker sends exactly the size Ollama would make of the image, so Ollama never resizes again.
 * qwen2.5vl and qwen3-vl take an optional pixel budget below Ollama's cap of 2,097,152.
 */
const familyInputSchema = z.discriminatedUnion('family', [
  z.strictObject({ family: z.literal('qwen2.5vl'), maxPixels: pixelBudget(QWEN25VL_RULE) }),
  z.strictObject({ family: z.literal('qwen3-vl'), maxPixels: pixelBudget(QWEN3VL_RULE) }),
  z.strictObject({ family: z.literal('gemma3') }),
  z.strictObject({ family: z.literal('mllama') }),
]);

/**
 * How a worker resizes the image for the model: a vision-model family's rule (Ollama tiers), or for engines that
 * take any size (the CPU tier, an Ollama model of no known family) keep the aspect ratio and cap the long side, or
 * fit a fixed square (nsfwjs).
 */
export const modelInputSchema = z.union(
  [familyInputSchema, z.strictObject({ longSide: inputPx }), z.strictObject({ square: inputPx })],
  {
    error: (issue) =>
      typeof issue.input === 'object' && issue.input !== null && 'family' in issue.input
        ? `family must be one of ${VISION_FAMILIES.join(', ')}`
        : `must be { family: ${VISION_FAMILIES.join(' | ')} }, { longSide: N } or { square: N }`,
  },
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
export const ollamaTaskModelSchema = z.strictObject({
  ...taskModelFields,
  vram: vramSpecSchema,
  /**
   * Ollama's `num_predict`: the most tokens one answer may take before Ollama stops it with done_reason `length`.
   * Absent: derived from the task's output schema (output-budget.ts, docs/inference.md). Changing it reloads nothing.
   */
  numPredict: z.int().min(64, 'must be at least 64 tokens').optional(),
  /**
   * Sent as `think` on every chat. Thinking-capable models think unless told `false`, which costs tokens and time
   * before the JSON starts; Ollama answers 400 to `true` for a model without the `thinking` capability.
   */
  think: z.boolean().default(false),
});
export type CpuTaskModelSpec = z.infer<typeof cpuTaskModelSchema>;
export type OllamaTaskModelSpec = z.infer<typeof ollamaTaskModelSchema>;
export type TaskModelSpec = CpuTaskModelSpec | OllamaTaskModelSpec;

// Every tier answers every task, so `auto` never finds a hole in the cascade.
const tasksOf = <Model extends z.ZodType>(model: Model) => z.strictObject(perTask(() => model));

const capacityFields = {
  description: z.string().trim().min(1),
  /** OLLAMA_NUM_PARALLEL of the deployment (or in-process slots for cpu): KV cache is allocated for each slot. */
  parallel: z.int().positive(),
  /** Identical endpoints behind the tier's URL; each has its own GPU, so the VRAM budget is per replica. */
  replicas: z.int().positive().default(1),
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
  /** Calls a worker lets wait for one of its CPU slots before answering UPSTREAM_BUSY; defaults to 2 × parallel. */
  queueLimit: z.int().nonnegative().optional(),
  tasks: tasksOf(cpuTaskModelSchema),
});

export const ollamaTierSchema = z.strictObject({
  engine: z.literal('ollama', { error: 'the small, medium and large tiers must use engine "ollama"' }),
  ...capacityFields,
  /**
   * Calls in flight beyond parallel × replicas, for all workers and pods together (default: one per replica). One
   * call waiting inside Ollama per server lets a slot that finishes start the next image without a round trip.
   */
  spare: z.int().nonnegative().optional(),
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
