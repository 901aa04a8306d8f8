import type { EngineAnswer, TierRoute } from '@argus/inference';
import { ArgusMetrics } from '@argus/telemetry';
import { WorkerMetricsObserver } from './worker-metrics.observer';

const route = {
  tier: 'small',
  engine: { task: 'moderation', kind: 'ollama', model: 'qwen2.5vl:3b' },
} as unknown as TierRoute;

const usage = { inputTokens: 2500, outputTokens: 140, seconds: { load: 0, prompt: 1.5, eval: 2 } };

async function metric(metrics: ArgusMetrics, name: string): Promise<string> {
  return metrics.registry.getSingleMetricAsString(name);
}

describe('WorkerMetricsObserver', () => {
  it('counts each normalised model-output value by task, tier, model and field', async () => {
    const metrics = new ArgusMetrics('moderation');
    const answer: EngineAnswer = {
      result: {} as EngineAnswer['result'],
      confidence: 0.9,
      wantsReview: false,
      needsGpuTier: [],
      usage,
      normalised: ['categories[].confidence', 'categories[].confidence', 'confidence'],
    };
    new WorkerMetricsObserver(metrics).engineCall(route, 'ok', 3.5, 0, answer);
    const body = await metric(metrics, 'argus_model_output_normalisations_total');
    const labels = 'task="moderation",tier="small",model="qwen2.5vl:3b"';
    expect(body).toContain(
      `argus_model_output_normalisations_total{${labels},field="categories[].confidence"} 2`,
    );
    expect(body).toContain(`argus_model_output_normalisations_total{${labels},field="confidence"} 1`);
    expect(await metric(metrics, 'argus_inference_tokens_total')).toContain(
      'argus_inference_tokens_total{tier="small",model="qwen2.5vl:3b",kind="input"} 2500',
    );
  });

  it('counts the tokens a failed answer spent (the first call and its repair)', async () => {
    const metrics = new ArgusMetrics('moderation');
    new WorkerMetricsObserver(metrics).engineCall(route, 'invalid_model_output', 9, 0, undefined, usage);
    const tokens = await metric(metrics, 'argus_inference_tokens_total');
    expect(tokens).toContain(
      'argus_inference_tokens_total{tier="small",model="qwen2.5vl:3b",kind="input"} 2500',
    );
    expect(tokens).toContain(
      'argus_inference_tokens_total{tier="small",model="qwen2.5vl:3b",kind="output"} 140',
    );
    expect(await metric(metrics, 'argus_inference_duration_seconds')).toContain(
      'outcome="invalid_model_output"',
    );
  });
});
