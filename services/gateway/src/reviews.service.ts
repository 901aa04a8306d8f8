import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  ArgusError,
  JOB_IMAGE_BUCKET,
  jobImageKey,
  jobUnitKey,
  type ResolveReviewBody,
  type Review,
  type ReviewList,
  type ReviewQuery,
} from '@argus/contracts';
import { sniffImageFormat } from '@argus/imaging';
import { JobStore, ReviewStore } from '@argus/messaging';
import { ArgusMetrics } from '@argus/telemetry';
import type { Caller } from './access-control';
import { JOB_IMAGE_STORE } from './gateway.tokens';
import { visibleTo } from './jobs.service';

export type JobImageReader = { get(key: string, bucket?: string): Promise<Uint8Array | null> };

const MIME_BY_FORMAT: Readonly<Record<string, string>> = {
  jpeg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  gif: 'image/gif',
};

/**
 * The human review queue: list and read entries, show the stored image, and record a person's decision. The
 * decision is written to the review, to the item's moderation result (next to the model's reply, which is kept) and
 * to `argus_review_outcomes_total`, where model and human decisions meet.
 */
@Injectable()
export class ReviewsService {
  private readonly logger = new Logger(ReviewsService.name);

  constructor(
    @Inject(ReviewStore) private readonly reviews: Pick<ReviewStore, 'list' | 'get' | 'resolve'>,
    @Inject(JobStore) private readonly results: Pick<JobStore, 'addReview'>,
    @Inject(JOB_IMAGE_STORE) private readonly images: JobImageReader,
    @Inject(ArgusMetrics) private readonly metrics: ArgusMetrics,
  ) {}

  list(query: ReviewQuery, caller?: Caller): Promise<ReviewList> {
    return this.reviews.list(query, caller?.tenant);
  }

  async get(id: string, caller?: Caller): Promise<Review> {
    const review = await this.reviews.get(id);
    if (!review || !visibleTo(review.tenant, caller)) throw notFound(id);
    return review;
  }

  async image(id: string, caller?: Caller): Promise<{ bytes: Uint8Array; mime: string }> {
    const review = await this.get(id, caller);
    const bytes = await this.images.get(jobImageKey(review.jobId, review.itemId), JOB_IMAGE_BUCKET);
    if (!bytes) throw new ArgusError('NOT_FOUND', `the image of review ${id} has expired`);
    const format = sniffImageFormat(bytes);
    return { bytes, mime: (format && MIME_BY_FORMAT[format]) ?? 'application/octet-stream' };
  }

  async resolve(id: string, body: ResolveReviewBody, caller?: Caller): Promise<Review> {
    await this.get(id, caller);
    const review = await this.reviews.resolve(id, {
      decision: body.decision,
      reviewer: body.reviewer,
      ...(body.note ? { note: body.note } : {}),
      resolvedAt: new Date().toISOString(),
    });
    const resolution = review.resolution;
    if (!resolution) throw new Error(`review ${id} resolved without a resolution`);
    const recorded = await this.results.addReview(
      jobUnitKey(review.jobId, review.itemId, 'moderation'),
      resolution,
    );
    if (!recorded) this.logger.warn(`review ${id}: the item's result has expired; only the review holds it`);
    for (const category of review.categories.length ? review.categories : ['none']) {
      this.metrics.reviewOutcomes.inc({
        category,
        model_decision: review.modelDecision,
        human_decision: resolution.decision,
        tier: review.tier,
      });
    }
    return review;
  }
}

function notFound(id: string): ArgusError {
  return new ArgusError('NOT_FOUND', `no review ${id.slice(0, 200)} (unknown, or expired)`);
}
