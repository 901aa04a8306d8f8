import { reviewQuerySchema, type Review } from '@argus/contracts';
import { matches } from './review-store';

const NOW = Date.parse('2026-11-26T12:00:00.000Z');
const review: Review = {
  id: 'job.item',
  jobId: 'job',
  itemId: 'item',
  reason: 'policy',
  status: 'pending',
  policy: 'default',
  modelDecision: 'review',
  categories: ['alcohol.beverages', 'text.contact_info'],
  modelReason: 'r',
  confidence: 0.8,
  tier: 'small',
  model: 'm',
  createdAt: '2026-11-26T11:00:00.000Z',
  imageUrl: '/v1/reviews/job.item/image',
};
const query = (fields: Record<string, string>) => reviewQuerySchema.parse(fields);

describe('review queue filters', () => {
  it.each([
    [{}, true],
    [{ status: 'resolved' }, false],
    [{ status: 'all' }, true],
    [{ policy: 'default' }, true],
    [{ policy: 'strict' }, false],
    [{ category: 'alcohol' }, true],
    [{ category: 'alcohol.beverages' }, true],
    [{ category: 'alcoh' }, false],
    [{ category: 'violence' }, false],
    [{ reason: 'audit' }, false],
    [{ minAgeSeconds: '3000' }, true],
    [{ minAgeSeconds: '4000' }, false],
    [{ maxAgeSeconds: '4000' }, true],
    [{ maxAgeSeconds: '3000' }, false],
  ])('%j → %s', (fields, expected) => {
    expect(matches(review, query(fields), NOW)).toBe(expected);
  });
});
