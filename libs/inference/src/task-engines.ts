import type { TaskEngine } from './task-engine';
import type { EngineDependencies, EngineSpec } from './engines/engine-kit';
import { cpuModerationEngine, ollamaModerationEngine } from './engines/moderation-engines';
import { cpuOcrEngine, ollamaOcrEngine } from './engines/ocr-engines';
import { cpuTaggingEngine, ollamaTaggingEngine } from './engines/tagging-engines';

export * from './engines/engine-kit';
export * from './engines/cpu-ocr';
export * from './engines/moderation-engines';
export * from './engines/tagging-engines';
export * from './engines/ocr-engines';

/** The engine for one task on one tier: an embedded CPU engine or a vision model behind Ollama. */
export function createTaskEngine(spec: EngineSpec, deps: EngineDependencies): TaskEngine {
  switch (spec.task) {
    case 'moderation':
      return spec.kind === 'cpu' ? cpuModerationEngine(spec, deps) : ollamaModerationEngine(spec, deps);
    case 'tagging':
      return spec.kind === 'cpu' ? cpuTaggingEngine(spec, deps) : ollamaTaggingEngine(spec, deps);
    case 'ocr':
      return spec.kind === 'cpu' ? cpuOcrEngine(spec, deps) : ollamaOcrEngine(spec, deps);
  }
}
