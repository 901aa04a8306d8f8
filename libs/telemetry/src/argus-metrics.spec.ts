import { ArgusMetrics } from './argus-metrics';

describe('ArgusMetrics', () => {
  it('exposes the per-image and stage histograms with buckets that reach minutes', async () => {
    const metrics = new ArgusMetrics('ocr');
    metrics.imageDuration.observe(
      { service: 'ocr', task: 'ocr', tier: 'default', model: 'm', outcome: 'ok' },
      42,
    );
    await metrics.timeStage('resize', () => Promise.resolve());
    const { body } = await metrics.exposition();
    expect(body).toContain(
      'argus_image_duration_seconds_bucket{le="60",service="ocr",task="ocr",tier="default",model="m",outcome="ok"} 1',
    );
    expect(body).toContain('argus_image_duration_seconds_bucket{le="300"');
    expect(body).toMatch(/argus_stage_duration_seconds_count\{service="ocr",stage="resize"\} 1/);
    expect(body).toContain('process_cpu_user_seconds_total');
  });

  it('records a stage even when the work throws', async () => {
    const metrics = new ArgusMetrics('gateway');
    await expect(metrics.timeStage('store', () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await metrics.registry.getSingleMetricAsString('argus_stage_duration_seconds')).toContain(
      'argus_stage_duration_seconds_count{service="gateway",stage="store"} 1',
    );
  });

  it('keeps registries apart per instance', async () => {
    const a = new ArgusMetrics('a');
    const b = new ArgusMetrics('b');
    a.imageInputBytes.observe(10);
    expect(await b.registry.getSingleMetricAsString('argus_image_input_bytes')).toContain(
      'argus_image_input_bytes_count 0',
    );
  });
});
