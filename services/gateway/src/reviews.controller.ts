import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  resolveReviewBodySchema,
  reviewQuerySchema,
  type Review,
  type ReviewDetail,
  type ReviewList,
} from '@argus/contracts';
import { parseFields } from './analyze-input';
import { ReviewsService } from './reviews.service';

@Controller('v1/reviews')
export class ReviewsController {
  constructor(@Inject(ReviewsService) private readonly service: ReviewsService) {}

  /** The queue, oldest first: `status` (pending by default), `policy`, `category`, `reason`, `jobId`, age bounds. */
  @Get()
  list(@Query() query: unknown, @Req() request: FastifyRequest): Promise<ReviewList> {
    return this.service.list(parseFields(reviewQuerySchema, query ?? {}), request.argusCaller);
  }

  /** The entry with its evidence (boxes, quotes, thresholds) for the reviewer. */
  @Get(':id')
  get(@Param('id') id: string, @Req() request: FastifyRequest): Promise<ReviewDetail> {
    return this.service.detail(id, request.argusCaller);
  }

  /** The stored (normalised) image, for the reviewer's screen; private, never cached by shared caches. */
  @Get(':id/image')
  async image(
    @Param('id') id: string,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const { bytes, mime } = await this.service.image(id, request.argusCaller);
    await reply
      .header('content-type', mime)
      .header('cache-control', 'private, max-age=300')
      .header('x-content-type-options', 'nosniff')
      .send(Buffer.from(bytes));
  }

  /** `{ decision: allow | block, reviewer, note? }`; 409 CONFLICT when the review was already resolved. */
  @Post(':id')
  @HttpCode(200)
  resolve(@Param('id') id: string, @Body() body: unknown, @Req() request: FastifyRequest): Promise<Review> {
    return this.service.resolve(id, parseFields(resolveReviewBodySchema, body ?? {}), request.argusCaller);
  }
}
