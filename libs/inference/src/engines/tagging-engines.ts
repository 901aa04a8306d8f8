import { MODEL_OUTPUT_SCHEMAS, modelOutputJsonSchema, type TaggingResult } from '@argus/contracts';
import type { ImageMeasurements } from '@argus/imaging';
import { OllamaTaskEngine } from '../ollama-task-engine';
import { PROMPTS } from '../prompts';
import type { TaskEngine } from '../task-engine';
import { CpuEngine, type EngineDependencies, type EngineSpec } from './engine-kit';

/** What a vision model adds to product tagging that measurements cannot. */
export const CPU_UNJUDGED_TAGGING = [
  'category',
  'condition',
  'defects',
  'attributes.material',
  'attributes.pattern',
];

export function taggingFromMeasurements(measured: ImageMeasurements): TaggingResult {
  const top = measured.dominantColours.at(0);
  return {
    category: null,
    attributes: top ? { colour: top.name } : {},
    attributeSources: top ? { colour: 'measured' } : {},
    customAttributes: null,
    colours: measured.dominantColours,
    quality: {
      width: measured.width,
      height: measured.height,
      exposure: measured.exposure,
      sharpness: measured.sharpness,
    },
    condition: null,
    defects: [],
    photo: null,
    confidence: null,
  };
}

export function ollamaTaggingEngine(spec: EngineSpec, deps: EngineDependencies): TaskEngine {
  return new OllamaTaskEngine(deps.ollama(spec.tier), deps.processor, {
    task: 'tagging',
    tier: spec.tier,
    model: spec.model,
    input: spec.input,
    format: modelOutputJsonSchema('tagging'),
    prompt: PROMPTS.tagging,
    outputSchema: MODEL_OUTPUT_SCHEMAS.tagging,
    interpret: async (output, request) => {
      const measured = taggingFromMeasurements(await deps.processor.measure(request.image));
      const modelSources = Object.fromEntries(
        Object.keys(output.attributes).map((name) => [name, 'model' as const]),
      );
      // Measured colours are exact; the model's words for material, brand and the like are not measurable.
      const result: TaggingResult = {
        ...measured,
        category: output.category,
        attributes: { ...output.attributes, ...measured.attributes },
        attributeSources: { ...modelSources, ...measured.attributeSources },
        condition: output.condition,
        defects: output.defects,
        photo: output.photo,
        confidence: output.confidence,
      };
      return { result, confidence: output.confidence, wantsReview: false, needsGpuTier: [] };
    },
  });
}

export function cpuTaggingEngine(spec: EngineSpec, deps: EngineDependencies): TaskEngine {
  return new CpuEngine(spec, async ({ image }) => ({
    result: taggingFromMeasurements(await deps.processor.measure(image)),
    confidence: null,
    wantsReview: false,
    needsGpuTier: [...CPU_UNJUDGED_TAGGING],
  }));
}
