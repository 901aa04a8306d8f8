import { loadWorkerConfig } from '@argus/config';
import type { JobMeta, JobUnitResult, TaskReply } from '@argus/contracts';
import type { JobDelivery } from '@argus/messaging';
import { ArgusMetrics } from '@argus/telemetry';
import { JobConsumer, type JobQueuePort, type JobStorePort } from './job-consumer.service';
import type { WorkerInference } from './worker-inference';

const config = loadWorkerConfig('moderation', { ARGUS_JOB_RETRY_BASE_MS: '100', ARGUS_JOB_MAX_DELIVER: '3' });
const meta = {
  engine: 'ollama' as const,
  tier: 'small' as const,
  model: 'm',
  durationMs: 1,
  escalations: [],
};
const ok = { ...meta, status: 'ok', cached: false, needsGpuTier: [] } as unknown as TaskReply;
const busy: TaskReply = { ...meta, status: 'error', error: { code: 'UPSTREAM_BUSY', message: 'busy' } };
const message = {
  jobId: 'job-1',
  itemId: 'a',
  task: 'moderation',
  request: {
    requestId: 'job-1.a',
    image: {
      bucket: 'argus-job-images',
      key: 'job-1.a',
      sha256: 'a'.repeat(64),
      width: 10,
      height: 10,
      mime: 'image/jpeg',
    },
  },
};

function setup(options: { job?: Partial<JobMeta> | null; existing?: boolean; reply?: TaskReply } = {}) {
  const results = new Map<string, JobUnitResult>();
  if (options.existing) results.set('job-1.a.moderation', { state: 'done', finishedAt: 'x' });
  const store: JobStorePort = {
    check: jest.fn(() => Promise.resolve()),
    getJob: jest.fn(() =>
      Promise.resolve(
        options.job === null
          ? undefined
          : {
              jobId: 'job-1',
              createdAt: 'x',
              tasks: ['moderation' as const],
              itemIds: ['a'],
              ...options.job,
            },
      ),
    ),
    hasResult: jest.fn((key: string) => Promise.resolve(results.has(key))),
    createResult: jest.fn((key: string, result: JobUnitResult) => {
      if (results.has(key)) return Promise.resolve(false);
      results.set(key, result);
      return Promise.resolve(true);
    }),
  };
  const queue = { deadLetter: jest.fn(() => Promise.resolve()) } as unknown as JobQueuePort;
  const pipeline = { handle: jest.fn(() => Promise.resolve(options.reply ?? ok)) };
  const inference = {
    catalog: { forTask: () => [{ spec: { concurrency: 2 } }, { spec: { concurrency: 3 } }] },
  } as unknown as Pick<WorkerInference, 'catalog'>;
  const consumer = new JobConsumer(config, queue, store, pipeline, new ArgusMetrics('moderation'), inference);
  return { consumer, results, pipeline, queue, store };
}

function delivery(deliveryCount = 1, data: unknown = message) {
  return {
    data,
    headers: undefined,
    deliveryCount,
    maxDeliver: 3,
    ack: jest.fn(() => Promise.resolve()),
    nak: jest.fn(),
    term: jest.fn(),
    working: jest.fn(),
  } satisfies JobDelivery;
}

describe('JobConsumer', () => {
  it('runs the pipeline, stores the reply once and acks', async () => {
    const { consumer, results, pipeline } = setup();
    const d = delivery();
    await consumer.handle(d);
    expect(pipeline.handle).toHaveBeenCalledWith(
      { ...message.request, routing: { tier: 'auto', fallback: false }, options: {} },
      undefined,
      config.jobs.budgetMs,
      // A job item waits for a tier slot up to its budget, not the sync path's short wait.
      config.jobs.budgetMs,
    );
    expect(results.get('job-1.a.moderation')).toMatchObject({ state: 'done', reply: ok, deliveries: 1 });
    expect(d.ack).toHaveBeenCalled();
    expect(consumer.maxInFlight).toBe(5);
  });

  it('acks a unit that already has a result without any work', async () => {
    const { consumer, pipeline } = setup({ existing: true });
    const d = delivery(2);
    await consumer.handle(d);
    expect(pipeline.handle).not.toHaveBeenCalled();
    expect(d.ack).toHaveBeenCalled();
  });

  it('reads job metadata once a second per job, not once per item', async () => {
    const { consumer, store } = setup();
    await consumer.handle(delivery(1));
    await consumer.handle(delivery(1, { ...message, itemId: 'b' }));
    expect(store.getJob).toHaveBeenCalledTimes(1);
  });

  it('records units of a cancelled job as cancelled without work', async () => {
    const { consumer, results, pipeline } = setup({ job: { cancelledAt: 'now' } });
    const d = delivery();
    await consumer.handle(d);
    expect(pipeline.handle).not.toHaveBeenCalled();
    expect(results.get('job-1.a.moderation')?.state).toBe('cancelled');
    expect(d.ack).toHaveBeenCalled();
  });

  it('naks a retryable error with a delay, and dead-letters it at the last delivery', async () => {
    const { consumer, results, queue } = setup({ reply: busy });
    const first = delivery(1);
    await consumer.handle(first);
    expect(first.nak).toHaveBeenCalledWith(expect.any(Number));
    expect(first.ack).not.toHaveBeenCalled();
    expect(results.size).toBe(0);

    const last = delivery(3);
    await consumer.handle(last);
    expect(queue.deadLetter).toHaveBeenCalledWith(
      expect.objectContaining({
        itemId: 'a',
        deliveries: 3,
      }),
      'job-1.a.moderation',
      undefined,
    );
    expect(queue.deadLetter).toHaveBeenCalledWith(
      expect.objectContaining({
        reason: { code: 'UPSTREAM_BUSY', message: 'busy (gave up after 3 deliveries)' },
      }),
      'job-1.a.moderation',
      undefined,
    );
    expect(results.get('job-1.a.moderation')).toMatchObject({
      state: 'dead',
      error: { code: 'UPSTREAM_BUSY' },
    });
    expect(last.term).toHaveBeenCalled();
  });

  it('terminates a message that is not a job item of its task', async () => {
    const { consumer, pipeline } = setup();
    const d = delivery(1, { ...message, task: 'ocr' });
    await consumer.handle(d);
    expect(d.term).toHaveBeenCalled();
    expect(pipeline.handle).not.toHaveBeenCalled();
  });
});
