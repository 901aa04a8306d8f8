import { context, trace, TraceFlags } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
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

describe('ArgusMetrics exposition formats', () => {
  const contextManager = new AsyncLocalStorageContextManager();
  beforeAll(() => context.setGlobalContextManager(contextManager.enable()));
  afterAll(() => {
    contextManager.disable();
    context.disable();
  });

  const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
  const inTrace = (work: () => void) => {
    context.with(
      trace.setSpan(
        context.active(),
        trace.wrapSpanContext({ traceId, spanId: '00f067aa0ba902b7', traceFlags: TraceFlags.SAMPLED }),
      ),
      work,
    );
  };
  const OPENMETRICS_ACCEPT =
    'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';

  it('serves OpenMetrics with the trace id as exemplar to a scraper that asks for it', async () => {
    const metrics = new ArgusMetrics('gateway');
    inTrace(() => {
      metrics.imageDuration.observe(
        { service: 'gateway', task: 'all', tier: 'none', model: 'none', outcome: 'ok' },
        0.3,
      );
    });
    const { contentType, body } = await metrics.exposition(OPENMETRICS_ACCEPT);
    expect(contentType).toContain('application/openmetrics-text');
    expect(body).toMatch(
      new RegExp(
        `argus_image_duration_seconds_bucket\\{le="0.5",[^}]*\\} 1 # \\{trace_id="${traceId}"\\} 0.3 `,
      ),
    );
    expect(body.trimEnd().endsWith('# EOF')).toBe(true);
  });

  it('serves the classic text format, without exemplars and with counter names intact, to everyone else', async () => {
    const metrics = new ArgusMetrics('gateway');
    inTrace(() => {
      metrics.imageDuration.observe(
        { service: 'gateway', task: 'all', tier: 'none', model: 'none', outcome: 'ok' },
        0.3,
      );
    });
    metrics.cacheLookups.inc({ task: 'ocr', result: 'hit' });
    await metrics.exposition(OPENMETRICS_ACCEPT);
    const { contentType, body } = await metrics.exposition('text/plain');
    expect(contentType).toContain('text/plain; version=0.0.4');
    expect(body).not.toContain('trace_id');
    expect(body).toContain('argus_cache_lookups_total{task="ocr",result="hit"} 1');
    expect(body).toContain('# TYPE argus_cache_lookups_total counter');
  });

  it('keeps no exemplar when there is no trace', async () => {
    const metrics = new ArgusMetrics('ocr');
    metrics.imageDuration.observe(
      { service: 'ocr', task: 'ocr', tier: 'cpu', model: 'm', outcome: 'ok' },
      0.3,
    );
    const { body } = await metrics.exposition(OPENMETRICS_ACCEPT);
    expect(body).not.toContain('trace_id');
    expect(body).toContain(
      'argus_image_duration_seconds_count{service="ocr",task="ocr",tier="cpu",model="m",outcome="ok"} 1',
    );
  });
});
