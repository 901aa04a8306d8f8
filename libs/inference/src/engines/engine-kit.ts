import { ArgusError, type Task, type TierName } from '@argus/contracts';
import type { ImageProcessor, ModelInputTarget } from '@argus/imaging';
import type { FaceDetector, NsfwClassifier, PaddleOcr, TesseractOcr } from '../cpu';
import type { OllamaClient } from '../ollama-client';
import type { EngineAnswer, EngineRequest, TaskEngine, TaskResult } from '../task-engine';

/** What the engines of every task are built from; tests pass fakes. */
export interface EngineDependencies {
  processor: Pick<
    ImageProcessor,
    'resizeForModel' | 'toRawRgb' | 'toUprightRgb' | 'prepareForOcr' | 'measure' | 'decodeForMeasurement'
  >;
  nsfw: () => Pick<NsfwClassifier, 'classify'>;
  tesseract: () => Pick<TesseractOcr, 'recognize'>;
  /** PaddleOCR, the CPU tier's main reader; without it (tests, models not installed) tesseract reads alone. */
  paddle?: () => Pick<PaddleOcr, 'read'>;
  /** Faces in the photo, for the people side read (engines/cpu-people.ts). */
  faces: () => Pick<FaceDetector, 'detect'>;
  ollama: (tier: TierName) => Pick<OllamaClient, 'chat'>;
}

export interface EngineSpec {
  task: Task;
  tier: TierName;
  kind: 'cpu' | 'ollama';
  model: string;
  input: ModelInputTarget;
  /** Ollama: the catalog's `numPredict`; absent, derived from the output schema of each request. */
  numPredict?: number;
  /** Ollama: the tier's num_ctx, which caps a derived numPredict. */
  contextLength?: number;
  /** Ollama: the catalog's `think` (false when absent). */
  think?: boolean;
}

/** The output bounds of an Ollama engine, as the OllamaTaskSpec takes them. */
export function ollamaOutputOptions(
  spec: EngineSpec,
): Pick<EngineSpec, 'numPredict' | 'contextLength' | 'think'> {
  return { numPredict: spec.numPredict, contextLength: spec.contextLength, think: spec.think };
}

/**
 * Part of every CPU answer's cache key. The CPU tier has no prompt to version, so bump this when what a CPU engine
 * answers changes (new fields, better reading), or cached answers of the old code keep being served until they expire.
 */
export const CPU_ANSWER_REVISION = 4;

/** An embedded engine: a function of the image, behind the same interface as a model. */
export class CpuEngine<Options = unknown> implements TaskEngine<TaskResult, Options> {
  readonly kind = 'cpu' as const;
  readonly promptVersion = 'cpu-v1';
  readonly fingerprint: string;

  constructor(
    private readonly spec: EngineSpec,
    private readonly runner: (request: EngineRequest<Options>) => Promise<EngineAnswer>,
  ) {
    this.fingerprint = JSON.stringify([spec.model, this.promptVersion, CPU_ANSWER_REVISION, spec.input]);
  }

  get task(): Task {
    return this.spec.task;
  }
  get tier(): TierName {
    return this.spec.tier;
  }
  get model(): string {
    return this.spec.model;
  }

  async run(request: EngineRequest<Options>): Promise<EngineAnswer> {
    if (request.signal.aborted)
      throw new ArgusError('INFERENCE_TIMEOUT', 'the deadline passed before the CPU engine ran');
    return this.runner(request);
  }
}

/** The long side (or square side) the catalog gives a CPU engine's input. */
export function inputSide(spec: EngineSpec): number {
  const { input } = spec;
  // The catalog check refuses a vision family's rule on the cpu tier, so this only guards a hand-built spec.
  if ('family' in input)
    throw new Error(`a CPU engine takes a long side or a square, not the ${input.family} rule`);
  return 'square' in input ? input.square : input.longSide;
}

export function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}

export function pct(value: number): string {
  return `${Math.round(value * 100)}%`;
}
