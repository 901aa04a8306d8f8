import { moderationDecisionSamples } from '@argus/contracts';
import {
  loadModerationPolicies,
  namedEntriesDigest,
  resolveNamed,
  type ModerationPolicies,
} from '@argus/config';
import type { TaskDefinition } from '@argus/worker';
import {
  cpuModerationEngine,
  ollamaModerationEngine,
  type ModerationEngineOptions,
} from './moderation-engines';
import { policyFingerprint } from './moderation-policy';
import { MODERATION_PROMPT } from './prompt';

/** The warm-up's answer is thrown away, so a policy with no rules does. */
const WARM_UP_POLICY: ModerationEngineOptions = {
  policy: {
    name: 'warm-up',
    policy: { description: 'used only to warm the CPU engine', thresholds: {}, allowed: [], rules: [] },
  },
};

/**
 * Moderation: is this image safe to publish, and why. Answers under a policy (the request's, or the policy file's
 * default), which turns the categories found into allow, review or block and adds the house rules to the prompt.
 */
export function moderationTask(
  policies: () => ModerationPolicies = loadModerationPolicies,
): TaskDefinition<ModerationEngineOptions> {
  return {
    id: 'moderation',
    promptVersion: MODERATION_PROMPT.version,
    cpuRuntimes: ['nsfw', 'paddle'],
    cpuEngineDescription: 'nsfwjs MobileNetV2 (tfjs wasm) and PaddleOCR (onnxruntime)',
    boot({ runtimes, metrics }) {
      const loaded = policies();
      return {
        engine: (spec) =>
          spec.kind === 'cpu' ? cpuModerationEngine(spec, runtimes) : ollamaModerationEngine(spec, runtimes),
        resolve(options) {
          const { name, entry } = resolveNamed(loaded, options.moderation?.policy, 'moderation policy');
          return { policy: { name, policy: entry } };
        },
        // Another policy gives another decision for the same image.
        fingerprint: ({ policy }) => policyFingerprint(policy),
        configDigest: namedEntriesDigest(loaded),
        warmUpOptions: () => WARM_UP_POLICY,
        observe(reply) {
          if (!('decision' in reply)) return;
          // The business counter behind the decisions panel.
          for (const sample of moderationDecisionSamples(reply)) metrics.moderationDecisions.inc(sample);
        },
      };
    },
  };
}
