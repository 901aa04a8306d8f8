import { Controller, Get, Header, Inject, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ArgusMetrics } from './argus-metrics';

@Controller()
export class MetricsController {
  constructor(@Inject(ArgusMetrics) private readonly metrics: ArgusMetrics) {}

  @Get('metrics')
  @Header('Cache-Control', 'no-store')
  async scrape(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const { contentType, body } = await this.metrics.exposition(request.headers.accept);
    await reply.header('Content-Type', contentType).send(body);
  }
}
