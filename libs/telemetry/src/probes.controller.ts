import { Controller, Get, Inject, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';

/** What a service reports on /readyz: overall readiness and each check behind it. */
export interface ReadinessReport {
  ready: boolean;
  checks: Record<string, { ok: boolean; detail: string }>;
}

export interface ReadinessProbe {
  readiness(): Promise<ReadinessReport>;
}

export const READINESS_PROBE = Symbol('READINESS_PROBE');

@Controller()
export class ProbesController {
  constructor(@Inject(READINESS_PROBE) private readonly probe: ReadinessProbe) {}

  @Get('healthz')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('readyz')
  async ready(@Res() reply: FastifyReply): Promise<void> {
    const report = await this.probe.readiness();
    await reply.status(report.ready ? 200 : 503).send(report);
  }
}
