import { Controller, Get, Inject, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { WorkerHealth } from './worker-health.service';

@Controller()
export class WorkerHttpController {
  constructor(@Inject(WorkerHealth) private readonly health: WorkerHealth) {}

  @Get('healthz')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('readyz')
  async ready(@Res() reply: FastifyReply): Promise<void> {
    const readiness = await this.health.readiness();
    await reply.status(readiness.ready ? 200 : 503).send(readiness);
  }
}
