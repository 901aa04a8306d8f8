import type { VramSpec } from './model-catalog.schema';

/**
 * 20 % on top of the weights covers what Ollama allocates besides them and the KV cache: the CUDA context,
 * compute-graph buffers and allocator slack. It is a rule of thumb, not a measurement.
 */
export const WEIGHTS_OVERHEAD_FACTOR = 1.2;

const KIB_PER_GIB = 1024 * 1024;

export interface RunnerShape {
  /** num_ctx of every slot. */
  contextLength: number;
  /** OLLAMA_NUM_PARALLEL: Ollama allocates a full context of KV cache for each slot when it loads the model. */
  parallel: number;
}

/** KV cache for every slot of a runner, in GiB. */
export function kvCacheGiB(kvCacheKiBPerToken: number, { contextLength, parallel }: RunnerShape): number {
  return (contextLength * parallel * kvCacheKiBPerToken) / KIB_PER_GIB;
}

/**
 * VRAM one loaded model needs: weights × 1.2 + KV cache (context × parallel) + vision projector, in GiB.
 * A measured `overrideGiB` wins, because a measurement beats the rule.
 *
 * Example (docs/models.md): qwen2.5vl:3b on the small tier, 1.73 GiB weights, 1.25 GiB projector, 36 KiB per
 * token, 8192 × 2 slots: 2.076 + 0.5625 + 1.25 = 3.89 GiB.
 */
export function estimateVramGiB(
  { weightsGiB, projectorGiB, kvCacheKiBPerToken, overrideGiB }: VramSpec,
  runner: RunnerShape,
): number {
  if (overrideGiB !== undefined) return overrideGiB;
  return weightsGiB * WEIGHTS_OVERHEAD_FACTOR + kvCacheGiB(kvCacheKiBPerToken, runner) + projectorGiB;
}

/** One decimal, as operators read it in errors and in the docs table. */
export function formatGiB(value: number): string {
  return (Math.round(value * 10) / 10).toFixed(1);
}
