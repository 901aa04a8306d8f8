import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  ArgusError,
  JOB_IMAGE_BUCKET,
  jobImageKey,
  jobUnitKey,
  moderationReplySchema,
  ocrReplySchema,
  type ResolveReviewBody,
  type Review,
  type ReviewDetail,
  type ReviewEvidence,
  type ReviewList,
  type ReviewQuery,
} from '@argus/contracts';
import { sniffImageFormat } from '@argus/imaging';
import { JobStore, ReviewStore } from '@argus/messaging';
import { ArgusMetrics } from '@argus/telemetry';
import type { Caller } from './access-control';
import { thresholdsFor, type ModerationPolicies } from '@argus/config';
import { JOB_IMAGE_STORE, MODERATION_POLICIES } from './gateway.tokens';
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
    @Inject(JobStore) private readonly results: Pick<JobStore, 'addReview' | 'getResult'>,
    @Inject(JOB_IMAGE_STORE) private readonly images: JobImageReader,
    @Inject(ArgusMetrics) private readonly metrics: ArgusMetrics,
    @Inject(MODERATION_POLICIES) private readonly policies: Pick<ModerationPolicies, 'get'>,
  ) {}

  list(query: ReviewQuery, caller?: Caller): Promise<ReviewList> {
    return this.reviews.list(query, caller?.tenant);
  }

  async get(id: string, caller?: Caller): Promise<Review> {
    const review = await this.reviews.get(id);
    if (!review || !visibleTo(review.tenant, caller)) throw notFound(id);
    return review;
  }

  /** The entry with what a reviewer needs to judge it: the model's evidence, the policy's thresholds, the OCR lines. */
  async detail(id: string, caller?: Caller): Promise<ReviewDetail> {
    const review = await this.get(id, caller);
    return { ...review, evidence: await this.evidence(review) };
  }

  private async evidence(review: Review): Promise<ReviewEvidence | null> {
    const [moderation, ocr] = await Promise.all([
      this.results.getResult(jobUnitKey(review.jobId, review.itemId, 'moderation')),
      this.results.getResult(jobUnitKey(review.jobId, review.itemId, 'ocr')),
    ]);
    const reply = moderationReplySchema.safeParse(moderation?.reply);
    if (!reply.success || reply.data.status !== 'ok') return null;
    const policy = this.policies.get(review.policy);
    const ocrReply = ocrReplySchema.safeParse(ocr?.reply);
    const ocrLines =
      ocrReply.success && ocrReply.data.status === 'ok'
        ? ocrReply.data.lines.map(({ text, confidence, box }) => ({
            text,
            ...(confidence !== undefined ? { confidence } : {}),
            ...(box ? { box } : {}),
          }))
        : undefined;
    const found = reply.data.categories;
    return {
      categories: found,
      signals: reply.data.signals ?? [],
      reason: reply.data.reason,
      ...(policy ? { policyDescription: policy.description } : {}),
      thresholds: Object.fromEntries(
        found.map((hit) => [hit.id, policy ? thresholdsFor(policy, hit.id) : {}]),
      ),
      allowedByPolicy: policy?.allowed ?? [],
      ...(ocrLines ? { ocrLines } : {}),
    };
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

/**
 * The most specific thresholds of a policy for a category: its id, then its family, then `*` (the moderation
 * service applies the same rule when it decides; this copy only shows them to the reviewer).
 */
function notFound(id: string): ArgusError {
  return new ArgusError('NOT_FOUND', `no review ${id.slice(0, 200)} (unknown, or expired)`);
}
