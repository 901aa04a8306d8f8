import { JSONCodec, type KV, type NatsConnection } from 'nats';
import {
  ArgusError,
  REVIEW_BUCKET,
  reviewSchema,
  type Review,
  type ReviewList,
  type ReviewQuery,
  type ReviewResolution,
} from '@argus/contracts';
import { KvBucket } from './kv-bucket';

const codec = JSONCodec();
/** Review reads in flight at once while a list request reads the queue. */
const LIST_BATCH = 200;

/**
 * The human review queue in JetStream KV `argus-reviews`, one key per job item. Entries are created once (KV create)
 * and resolved once (compare-and-set on the revision read), so two reviewers cannot both decide the same item.
 */
export class ReviewStore {
  private readonly bucket: KvBucket;

  constructor(connection: NatsConnection, ttlSeconds: number) {
    this.bucket = new KvBucket(connection, REVIEW_BUCKET, {
      ttlSeconds,
      description: 'Argus human review queue',
    });
  }

  private open(): Promise<KV> {
    return this.bucket.open();
  }

  async check(): Promise<void> {
    await this.open();
  }

  /** Queues the review unless the item is already queued. True when this call queued it. */
  async create(review: Review): Promise<boolean> {
    const kv = await this.open();
    try {
      await kv.create(review.id, codec.encode(review));
      return true;
    } catch (error) {
      if (await this.get(review.id)) return false;
      throw error;
    }
  }

  async get(id: string): Promise<Review | undefined> {
    if (!isKey(id)) return undefined;
    const entry = await (await this.open()).get(id);
    if (!entry || entry.operation !== 'PUT' || entry.value.length === 0) return undefined;
    return reviewSchema.parse(codec.decode(entry.value));
  }

  /** Resolves a pending review; CONFLICT when someone resolved it first, NOT_FOUND when there is none. */
  async resolve(id: string, resolution: ReviewResolution): Promise<Review> {
    const kv = await this.open();
    for (let attempt = 0; attempt < 5; attempt++) {
      const entry = isKey(id) ? await kv.get(id) : null;
      if (!entry || entry.operation !== 'PUT' || entry.value.length === 0) {
        throw new ArgusError('NOT_FOUND', `no review ${id.slice(0, 200)} (unknown, or expired)`);
      }
      const review = reviewSchema.parse(codec.decode(entry.value));
      if (review.resolution) {
        throw new ArgusError(
          'CONFLICT',
          `review ${id} was already resolved (${review.resolution.decision} by ${review.resolution.reviewer})`,
          { resolution: review.resolution },
        );
      }
      const resolved: Review = { ...review, status: 'resolved', resolution };
      try {
        await kv.update(id, codec.encode(resolved), entry.revision);
        return resolved;
      } catch {
        // Changed since we read it; read again and decide again.
      }
    }
    throw new ArgusError('CONFLICT', `review ${id} kept changing; try again`);
  }

  /** The queue filtered as asked, oldest first (the longest wait on top), one page. */
  async list(query: ReviewQuery, tenant?: string, now = Date.now()): Promise<ReviewList> {
    const kv = await this.open();
    const keys: string[] = [];
    const pattern = query.jobId && isKey(query.jobId) ? `${query.jobId}.>` : '>';
    for await (const key of await kv.keys(pattern)) keys.push(key);
    const reviews: Review[] = [];
    for (let start = 0; start < keys.length; start += LIST_BATCH) {
      const batch = await Promise.all(keys.slice(start, start + LIST_BATCH).map((key) => this.get(key)));
      for (const review of batch) {
        if (review && (tenant === undefined || review.tenant === tenant) && matches(review, query, now)) {
          reviews.push(review);
        }
      }
    }
    reviews.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
    const offset = (query.page - 1) * query.pageSize;
    return {
      reviews: reviews.slice(offset, offset + query.pageSize),
      page: { number: query.page, size: query.pageSize, total: reviews.length },
    };
  }
}

export function matches(review: Review, query: ReviewQuery, now: number): boolean {
  if (query.status !== 'all' && review.status !== query.status) return false;
  if (query.policy !== undefined && review.policy !== query.policy) return false;
  if (query.reason !== undefined && review.reason !== query.reason) return false;
  if (query.jobId !== undefined && review.jobId !== query.jobId) return false;
  const { category } = query;
  if (
    category !== undefined &&
    !review.categories.some((id) => id === category || id.startsWith(`${category}.`))
  )
    return false;
  const ageSeconds = (now - Date.parse(review.createdAt)) / 1000;
  if (query.minAgeSeconds !== undefined && ageSeconds < query.minAgeSeconds) return false;
  if (query.maxAgeSeconds !== undefined && ageSeconds > query.maxAgeSeconds) return false;
  return true;
}

/** Review ids are `<jobId>.<itemId>`: KV key characters only. */
function isKey(value: string): boolean {
  return /^[A-Za-z0-9_.-]{1,300}$/.test(value) && !value.startsWith('.') && !value.endsWith('.');
}
