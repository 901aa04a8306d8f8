import { MODEL_OUTPUT_SCHEMAS, modelOutputJsonSchema, type OcrResult } from '@argus/contracts';
import { OllamaTaskEngine } from '../ollama-task-engine';
import { PROMPTS } from '../prompts';
import type { TaskEngine } from '../task-engine';
import { CpuEngine, round, type EngineDependencies, type EngineSpec } from './engine-kit';
import { cpuOcr } from './cpu-ocr';

export function ollamaOcrEngine(spec: EngineSpec, deps: EngineDependencies): TaskEngine {
  return new OllamaTaskEngine(deps.ollama(spec.tier), deps.processor, {
    task: 'ocr',
    tier: spec.tier,
    model: spec.model,
    input: spec.input,
    format: modelOutputJsonSchema('ocr'),
    prompt: PROMPTS.ocr,
    outputSchema: MODEL_OUTPUT_SCHEMAS.ocr,
    interpret: (output, request) => {
      const result: OcrResult = {
        text: output.text,
        lines: output.lines,
        confidence: null,
        mode: request.ocr?.mode ?? 'document',
        language: { code: output.language, confidence: null },
        keyValues: [],
        tables: [],
      };
      return Promise.resolve({ result, confidence: null, wantsReview: false, needsGpuTier: [] });
    },
  });
}

export function cpuOcrEngine(spec: EngineSpec, deps: EngineDependencies): TaskEngine {
  return new CpuEngine(spec, async ({ image, ocr }) => {
    const { page, lines } = await cpuOcr(image, deps);
    const result: OcrResult = {
      text: lines.map((line) => line.text).join('\n'),
      lines,
      // The page's own confidence, dropped words included, so a noisy page still reads as unsure and escalates.
      confidence: page.lines.length > 0 ? round(page.confidence) : 0,
      mode: ocr?.mode ?? 'document',
      language: { code: 'und', confidence: null },
      keyValues: [],
      tables: [],
    };
    return { result, confidence: result.confidence, wantsReview: false, needsGpuTier: [] };
  });
}
