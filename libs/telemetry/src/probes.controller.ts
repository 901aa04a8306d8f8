import { Controller, Get, Inject, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { z } from 'zod';

/** What a service answers on /healthz while its process runs. */
export const livenessSchema = z.object({ status: z.literal('ok') });
export type Liveness = z.infer<typeof livenessSchema>;

/** What a service reports on /readyz: overall readiness and each check behind it. */
export const readinessReportSchema = z.object({
  ready: z.boolean(),
  checks: z.record(z.string(), z.object({ ok: z.boolean(), detail: z.string() })),
});
export type ReadinessReport = z.infer<typeof readinessReportSchema>;

export interface ReadinessProbe {
  readiness(): Promise<ReadinessReport>;
}

export const READINESS_PROBE = Symbol('READINESS_PROBE');

@Controller()
export class ProbesController {
  constructor(@Inject(READINESS_PROBE) private readonly probe: ReadinessProbe) {}

  @Get('healthz')
  live(): Liveness {
    return { status: 'ok' };
  }

  @Get('readyz')
  async ready(@Res() reply: FastifyReply): Promise<void> {
    const report = await this.probe.readiness();
    await reply.status(report.ready ? 200 : 503).send(report);
  }
}
