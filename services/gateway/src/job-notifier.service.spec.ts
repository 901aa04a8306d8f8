import { loadGatewayConfig } from '@argus/config';
import type { JobMeta, JobUnitResult, Review, WebhookMessage } from '@argus/contracts';
import type { EventDelivery, ResultEvent } from '@argus/messaging';
import { JobNotifier, sampled, type NotifierJobStore } from './job-notifier.service';

const JOB = '6f1c2e1a-0000-4000-8000-000000000001';

function moderationReply(decision: 'allow' | 'review' | 'block', triggeredBy: string[] = []) {
  return {
    status: 'ok',
    engine: 'ollama',
    tier: 'small',
    model: 'qwen2.5vl:3b',
    durationMs: 12,
    escalations: [],
    cached: false,
    needsGpuTier: [],
    decision,
    policy: 'default',
    triggeredBy,
    categories: [],
    reason: 'because',
    confidence: 0.9,
  };
}

function harness(meta: Partial<JobMeta> = {}, env: NodeJS.ProcessEnv = {}) {
  const job: JobMeta = {
    jobId: JOB,
    createdAt: '2026-11-26T00:00:00.000Z',
    tasks: ['moderation'],
    itemIds: ['a', 'b'],
    ...meta,
  };
  const results = new Map<string, JobUnitResult>();
  let announced = false;
  const store: NotifierJobStore = {
    check: jest.fn(() => Promise.resolve(undefined)),
    getJob: jest.fn(() => Promise.resolve(job)),
    hasResult: jest.fn((key: string) => Promise.resolve(results.has(key.slice(JOB.length + 1)))),
    countResults: jest.fn(() => Promise.resolve(results.size)),
    listResults: jest.fn(() => Promise.resolve(results)),
    completionAnnounced: jest.fn(() => Promise.resolve(announced)),
    markCompletionAnnounced: jest.fn(() => {
      announced = true;
      return Promise.resolve();
    }),
  };
  const queued: Array<{ message: WebhookMessage; msgId: string }> = [];
  const events = {
    pullResults: jest.fn(),
    queueWebhook: jest.fn((message: WebhookMessage, msgId: string) => {
      queued.push({ message, msgId });
      return Promise.resolve();
    }),
  };
  const reviews: Review[] = [];
  const reviewStore = {
    check: jest.fn(() => Promise.resolve(undefined)),
    create: jest.fn((review: Review) => {
      if (reviews.some((existing) => existing.id === review.id)) return Promise.resolve(false);
      reviews.push(review);
      return Promise.resolve(true);
    }),
  };
  const config = loadGatewayConfig({ ARGUS_JOB_COMPLETION_CHECK_MS: '0', ...env });
  const deleted: string[] = [];
  const images = {
    delete: jest.fn((key: string) => {
      deleted.push(key);
      return Promise.resolve();
    }),
  };
  const notifier = new JobNotifier(config, events, store, reviewStore, images);
  const deliver = async (itemId: string, result: JobUnitResult) => {
    const key = `${JOB}.${itemId}.moderation`;
    results.set(`${itemId}.moderation`, result);
    const acked = jest.fn(() => Promise.resolve(undefined));
    const delivery: EventDelivery<ResultEvent | undefined> = {
      value: { jobId: JOB, itemId, task: 'moderation', key, result },
      deliveryCount: 1,
      ack: acked,
      nak: jest.fn(),
      working: jest.fn(),
    };
    await notifier.handle(delivery);
    expect(acked).toHaveBeenCalledTimes(1);
  };
  return { notifier, deliver, queued, reviews, store, deleted };
}

const done = (reply: unknown): JobUnitResult => ({
  state: 'done',
  reply,
  finishedAt: '2026-11-26T00:00:01.000Z',
});

describe('JobNotifier', () => {
  it('queues a review item once, with its categories, even when the event comes twice', async () => {
    const { deliver, reviews } = harness();
    await deliver('a', done(moderationReply('review', ['alcohol.beverages'])));
    await deliver('a', done(moderationReply('review', ['alcohol.beverages'])));
    expect(reviews).toHaveLength(1);
    expect(reviews[0]).toMatchObject({
      id: `${JOB}.a`,
      reason: 'policy',
      categories: ['alcohol.beverages'],
      modelDecision: 'review',
      tier: 'small',
      imageUrl: `/v1/reviews/${JOB}.a/image`,
    });
  });

  it('does not queue allow or block items unless they are sampled for audit', async () => {
    const plain = harness();
    await plain.deliver('a', done(moderationReply('block', ['violence.graphic'])));
    expect(plain.reviews).toHaveLength(0);
    const audited = harness({}, { ARGUS_REVIEW_AUDIT_RATE: '1' });
    await audited.deliver('a', done(moderationReply('block', ['violence.graphic'])));
    expect(audited.reviews[0]).toMatchObject({ reason: 'audit', modelDecision: 'block' });
  });

  it('notifies only the decisions the job asked for, and only with a callbackUrl', async () => {
    const { deliver, queued } = harness({ callbackUrl: 'https://hooks.example.com/x', notify: ['block'] });
    await deliver('a', done(moderationReply('review')));
    expect(queued.filter(({ message }) => message.event.type === 'item.decided')).toHaveLength(0);
    await deliver('b', done(moderationReply('block', ['weapons.firearms'])));
    const decided = queued.filter(({ message }) => message.event.type === 'item.decided');
    expect(decided).toHaveLength(1);
    expect(decided[0]).toMatchObject({
      msgId: `${JOB}.b.moderation.decided`,
      message: {
        url: 'https://hooks.example.com/x',
        event: { itemId: 'b', categories: ['weapons.firearms'] },
      },
    });
  });

  it('announces completion once, when the last unit ends, with the counts', async () => {
    const { deliver, queued, store } = harness({ callbackUrl: 'https://hooks.example.com/x' });
    await deliver('a', done(moderationReply('allow')));
    expect(queued).toHaveLength(0);
    await deliver('b', {
      state: 'failed',
      error: { code: 'IMAGE_DECODE_FAILED', message: 'x' },
      finishedAt: 'now',
    });
    await deliver('b', {
      state: 'failed',
      error: { code: 'IMAGE_DECODE_FAILED', message: 'x' },
      finishedAt: 'now',
    });
    const completed = queued.filter(({ message }) => message.event.type === 'job.completed');
    expect(completed).toHaveLength(1);
    expect(completed[0]).toMatchObject({
      msgId: `${JOB}.completed`,
      message: {
        event: { status: 'completed', counts: { total: 2, done: 1, failed: 1, dead: 0, cancelled: 0 } },
      },
    });
    expect(store.markCompletionAnnounced).toHaveBeenCalledTimes(1);
  });

  it('with ARGUS_RETENTION=0 deletes an item image once all its tasks ended, and keeps it otherwise', async () => {
    const eager = harness({ tasks: ['moderation', 'ocr'] }, { ARGUS_RETENTION: '0' });
    await eager.deliver('a', done(moderationReply('allow')));
    expect(eager.deleted).toEqual([]);
    const kept = harness();
    await kept.deliver('a', done(moderationReply('allow')));
    expect(kept.deleted).toEqual([]);
    const single = harness({}, { ARGUS_RETENTION: '0' });
    await single.deliver('a', done(moderationReply('allow')));
    expect(single.deleted).toEqual([`${JOB}.a`]);
  });

  it('ignores the write that adds a review to a result', async () => {
    const { deliver, reviews, store } = harness();
    await deliver('a', {
      ...done(moderationReply('review')),
      review: { decision: 'allow', reviewer: 'ana', resolvedAt: 'now' },
    });
    expect(reviews).toHaveLength(0);
    expect(store.getJob).not.toHaveBeenCalled();
  });
});

describe('sampled', () => {
  it('is deterministic per key and close to the rate over many keys', () => {
    expect(sampled('k', 0)).toBe(false);
    expect(sampled('k', 1)).toBe(true);
    expect(sampled('job.item.moderation', 0.3)).toBe(sampled('job.item.moderation', 0.3));
    const hits = Array.from({ length: 2000 }, (_, index) =>
      sampled(`job.item-${index}.moderation`, 0.25),
    ).filter(Boolean).length;
    expect(hits / 2000).toBeGreaterThan(0.2);
    expect(hits / 2000).toBeLessThan(0.3);
  });
});
