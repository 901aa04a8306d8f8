import { loadModerationPolicies } from '@argus/config';
import { ArgusMetrics } from '@argus/telemetry';
import { moderationTask } from './task';

describe('the moderation definition', () => {
  const policies = loadModerationPolicies({});
  const boot = (metrics = new ArgusMetrics('moderation')) =>
    moderationTask(() => policies).boot({ processor: {} as never, runtimes: {} as never, metrics });

  it("answers under the request's policy, or the file's default, and refuses an unknown one", () => {
    const task = boot();
    expect(task.resolve({}).policy.name).toBe(policies.defaultName);
    const other = policies.names.find((name) => name !== policies.defaultName) ?? policies.defaultName;
    expect(task.resolve({ moderation: { policy: other } }).policy.name).toBe(other);
    expect(() => task.resolve({ moderation: { policy: 'nope' } })).toThrow(/unknown/);
  });

  it('gives each policy its own cache fingerprint', () => {
    const task = boot();
    const fingerprints = policies.names.map((name) =>
      task.fingerprint(task.resolve({ moderation: { policy: name } })),
    );
    expect(new Set(fingerprints).size).toBe(policies.names.length);
  });

  it('counts each decision by the categories found, or category="none"', async () => {
    const metrics = new ArgusMetrics('moderation');
    const task = boot(metrics);
    const reply = {
      status: 'ok' as const,
      engine: 'cpu' as const,
      tier: 'cpu' as const,
      model: 'nsfwjs',
      durationMs: 10,
      cached: false,
      escalations: [],
      needsGpuTier: [],
      decision: 'allow' as const,
      policy: policies.defaultName,
      triggeredBy: [],
      categories: [],
      reason: 'nothing found',
      confidence: 0.9,
    };
    task.observe?.(reply);
    task.observe?.({
      ...reply,
      decision: 'block',
      categories: [{ id: 'violence.graphic', confidence: 0.95, evidence: { rationale: 'blood' } }],
    });
    const exposition = (await metrics.exposition()).body;
    expect(exposition).toContain('argus_moderation_decisions_total{decision="allow",category="none"} 1');
    expect(exposition).toContain(
      'argus_moderation_decisions_total{decision="block",category="violence.graphic"} 1',
    );
  });
});
