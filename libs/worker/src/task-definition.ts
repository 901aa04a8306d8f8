import type { Task, TaskReply, TaskRequest } from '@argus/contracts';
import type { ImageProcessor } from '@argus/imaging';
import type {
  CpuRuntimes,
  EngineDependencies,
  EngineSpec,
  ImageContext,
  TaskEngine,
  TaskResult,
} from '@argus/inference';
import type { ArgusMetrics } from '@argus/telemetry';

/** The CPU runtimes a task's CPU engine (and its side reads) use; the worker loads only these. */
export type CpuRuntimeName = keyof CpuRuntimes;

/** What a task gets at boot to build what it runs per request. All of its own I/O (files it reads) happens here. */
export interface TaskBootContext {
  processor: ImageProcessor;
  /** The CPU runtimes, created on first use; the engines and after-routing steps share them. */
  runtimes: EngineDependencies;
  metrics: ArgusMetrics;
}

/** Deterministic work added to a task's answer after routing, whichever tier answered; never cached. */
export interface TaskPostprocessor<Resolved = unknown> {
  /** True when run() reads the pixels, so the task cannot answer a cache-only request. */
  readonly readsImage: boolean;
  /**
   * Returns fields that are added to (or replace fields of) the routed answer. `needsGpuTier` is the answering
   * engine's list: a postprocessor that returns its own `needsGpuTier` replaces the reply's, so it merges.
   */
  run(
    /** The request's image; a postprocessor that needs no pixels never reads it. */
    image: ImageContext,
    options: Resolved,
    result: TaskResult,
    needsGpuTier?: readonly string[],
  ): Promise<Record<string, unknown>>;
}

/** A task as one worker runs it, built at boot from its definition. */
export interface TaskRuntime<Resolved = unknown> {
  /** The task's engine on one tier of the catalog. */
  engine(spec: EngineSpec): TaskEngine<TaskResult, Resolved>;
  /**
   * The request's options (`request.options[task]`, validated by the contract, defaults applied) as the engines take
   * them; a name the task does not know (a policy, a profile) is an INVALID_REQUEST.
   */
  resolve(options: TaskRequest['options']): Resolved;
  /** The part of the resolved options that changes an engine's answer, for the cache key ('' for none). */
  fingerprint(options: Resolved): string;
  /**
   * A digest of what the task loaded at boot that changes its answers for the same request (policy or profile files,
   * a taxonomy); part of the worker's fingerprint, so the reply cache forgets replies made under an older file.
   */
  configDigest?: string;
  /** Options for the warm-up run of the CPU engine at boot; its answer is thrown away. */
  warmUpOptions(): Resolved;
  postprocess?: TaskPostprocessor<Resolved>;
  /** The task's own business counters, from each successful reply. */
  observe?(reply: Extract<TaskReply, { status: 'ok' }>): void;
}

/**
 * Everything that makes a task what it is, kept in its own service folder (services/<task>/src/task.ts). The worker
 * runtime in this library runs any definition and knows no task by name.
 */
export interface TaskDefinition<Resolved = unknown> {
  readonly id: Task;
  /**
   * The version of the prompt the task's Ollama engines send (its prompt.ts). Every Ollama tier's catalog entry for
   * the task must name it; the worker checks them at boot and refuses to start on a mismatch.
   */
  readonly promptVersion: string;
  /** The CPU runtimes to load at boot (warming them is part of readiness). */
  readonly cpuRuntimes: readonly CpuRuntimeName[];
  /** How readiness names the CPU engine, e.g. "nsfwjs MobileNetV2 (tfjs wasm) and PaddleOCR (onnxruntime)". */
  readonly cpuEngineDescription: string;
  boot(context: TaskBootContext): TaskRuntime<Resolved>;
}
