import { maxImageTokens, type VisionFamily } from '@argus/imaging';
import type { ModelInputSpec } from './model-catalog.schema';

/**
 * Ollama tags whose name says which image processor runs them (the folder under Ollama's model/models/): the part
 * after any registry or namespace, e.g. `qwen2.5vl:7b`, `library/gemma3:12b`, `llama3.2-vision:11b-instruct-q4_K_M`.
 * gemma3n is another architecture, so `gemma3` must not be followed by `n`.
 */
const FAMILY_TAGS: ReadonlyArray<{ family: VisionFamily; name: RegExp }> = [
  { family: 'qwen2.5vl', name: /^qwen2\.?5-?vl(?![a-z0-9])/ },
  { family: 'qwen3-vl', name: /^qwen3-?vl(?![a-z0-9])/ },
  { family: 'gemma3', name: /^gemma3(?![a-z0-9])/ },
  { family: 'mllama', name: /^llama3\.2-vision(?![a-z0-9])/ },
];

/** The vision family an Ollama tag names, or undefined for a model Argus knows no image rule for. */
export function familyOfModel(model: string): VisionFamily | undefined {
  const name = model.trim().toLowerCase().split('/').at(-1) ?? '';
  return FAMILY_TAGS.find((entry) => entry.name.test(name))?.family;
}

/** A catalog input rule as operators write it, for messages: `{ family: qwen2.5vl, maxPixels: 1003520 }`. */
export function describeInput(input: ModelInputSpec): string {
  const fields = Object.entries(input).map(([key, value]) => `${key}: ${String(value)}`);
  return `{ ${fields.join(', ')} }`;
}

/** The most image tokens an input rule can put into the context; undefined where Argus cannot tell. */
export function imageTokenCeiling(input: ModelInputSpec): number | undefined {
  return 'family' in input ? maxImageTokens(input) : undefined;
}
