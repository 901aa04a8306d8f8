import type { ModerationPolicy } from '@argus/config';
import type { JobUnitResult, Review } from '@argus/contracts';
import type { ArgusMetrics } from '@argus/telemetry';
import { thresholdsFor } from '@argus/config';
import { ReviewsService } from './reviews.service';

const POLICY: ModerationPolicy = {
  description: 'a shop',
  thresholds: {
    '*': { block: 0.85, review: 0.5 },
    alcohol: { review: 0.8 },
    'text.contact_info': { block: 0.6 },
  },
  allowed: ['gambling'],
  rules: [],
};

const REVIEW: Review = {
  id: 'job-1.item-1',
  jobId: 'job-1',
  itemId: 'item-1',
  tenant: 'shop-a',
  reason: 'policy',
  status: 'pending',
  policy: 'default',
  modelDecision: 'review',
  categories: ['alcohol.beverages'],
  modelReason: 'a bottle of wine',
  confidence: 0.9,
  tier: 'small',
  model: 'qwen2.5vl:3b',
  createdAt: '2026-01-01T00:00:00.000Z',
  imageUrl: '/v1/reviews/job-1.item-1/image',
};

const HIT = {
  id: 'alcohol.beverages' as const,
  confidence: 0.85,
  evidence: { rationale: 'a wine bottle', quote: 'WINE', box: { x: 1, y: 2, width: 3, height: 4 } },
};
const meta = {
  engine: 'ollama',
  tier: 'small',
  model: 'm',
  durationMs: 1,
  escalations: [],
  cached: false,
  needsGpuTier: [],
};
const results: Record<string, JobUnitResult> = {
  'job-1.item-1.moderation': {
    state: 'done',
    finishedAt: REVIEW.createdAt,
    reply: {
      ...meta,
      status: 'ok',
      decision: 'review',
      policy: 'default',
      triggeredBy: [HIT.id],
      categories: [HIT],
      reason: 'a bottle of wine',
      confidence: 0.9,
    },
  },
  'job-1.item-1.ocr': {
    state: 'done',
    finishedAt: REVIEW.createdAt,
    reply: {
      ...meta,
      status: 'ok',
      text: 'RED WINE',
      lines: [{ text: 'RED WINE', confidence: 0.9, box: { x: 5, y: 6, width: 7, height: 8 } }],
      confidence: 0.9,
      mode: 'label',
      language: { code: 'en', confidence: null },
      keyValues: [],
      tables: [],
    },
  },
};

function service(stored: Record<string, JobUnitResult>) {
  return new ReviewsService(
    { list: jest.fn(), get: jest.fn(() => Promise.resolve(REVIEW)), resolve: jest.fn() },
    { addReview: jest.fn(), getResult: jest.fn((key: string) => Promise.resolve(stored[key])) },
    { get: jest.fn() },
    {} as ArgusMetrics,
    { get: (name: string) => (name === 'default' ? POLICY : undefined) },
  );
}

describe('thresholdsFor', () => {
  it('takes the id, then the family, then *', () => {
    expect(thresholdsFor(POLICY, 'text.contact_info')).toEqual({ block: 0.6 });
    expect(thresholdsFor(POLICY, 'alcohol.beverages')).toEqual({ review: 0.8 });
    expect(thresholdsFor(POLICY, 'violence.graphic')).toEqual({ block: 0.85, review: 0.5 });
  });
});

describe('ReviewsService.detail', () => {
  it("adds the model's evidence, the policy's thresholds and the OCR lines", async () => {
    const detail = await service(results).detail(REVIEW.id, {
      keyId: 'k',
      tenant: 'shop-a',
      scopes: ['reviews'],
    });
    expect(detail.evidence).toEqual({
      categories: [HIT],
      signals: [],
      reason: 'a bottle of wine',
      policyDescription: 'a shop',
      thresholds: { 'alcohol.beverages': { review: 0.8 } },
      allowedByPolicy: ['gambling'],
      ocrLines: [{ text: 'RED WINE', confidence: 0.9, box: { x: 5, y: 6, width: 7, height: 8 } }],
    });
  });

  it('answers evidence null once the results have expired, and hides other tenants', async () => {
    expect((await service({}).detail(REVIEW.id)).evidence).toBeNull();
    await expect(
      service(results).detail(REVIEW.id, { keyId: 'k', tenant: 'shop-b', scopes: ['reviews'] }),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
