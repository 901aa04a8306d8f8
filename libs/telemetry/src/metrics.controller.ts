import { Controller, Get, Header, Inject, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { ArgusMetrics } from './argus-metrics';

@Controller()
export class MetricsController {
  constructor(@Inject(ArgusMetrics) private readonly metrics: ArgusMetrics) {}

  @Get('metrics')
  @Header('Cache-Control', 'no-store')
  async scrape(@Res() reply: FastifyReply): Promise<void> {
    const { contentType, body } = await this.metrics.exposition();
    await reply.header('Content-Type', contentType).send(body);
  }
}
