import type { DescribeOptions } from '@argus/contracts';
import { describeOptionsSchema } from '@argus/contracts';
import { optionsDigest } from '@argus/inference';
import type { TaskDefinition } from '@argus/worker';
import { cpuDescribeEngine, ollamaDescribeEngine } from './engines';
import { DESCRIBE_PROMPT } from './prompt';

/**
 * Describe: a one-sentence caption, alt text for shop listings (at most 125 characters, no "image of"), keywords,
 * and with a `question`, an answer from what is visible only ("unknown" allowed), in the requested language.
 */
export const describeTask: TaskDefinition<DescribeOptions> = {
  id: 'describe',
  promptVersion: DESCRIBE_PROMPT.version,
  // Colours and quality come from sharp; text from PaddleOCR; people from BlazeFace.
  cpuRuntimes: ['faces', 'paddle'],
  cpuEngineDescription: 'sharp measurements, PaddleOCR (onnxruntime) and BlazeFace (tfjs wasm)',
  boot({ runtimes }) {
    return {
      engine: (spec) =>
        spec.kind === 'cpu' ? cpuDescribeEngine(spec, runtimes) : ollamaDescribeEngine(spec, runtimes),
      resolve: (options) => describeOptionsSchema.parse(options.describe ?? {}),
      fingerprint: ({ question, language }) => optionsDigest({ question, language }),
      warmUpOptions: () => ({ language: 'en' }),
    };
  },
};
