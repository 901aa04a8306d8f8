import { Inject, Injectable } from '@nestjs/common';
import { PING_SUBJECTS, pingReplySchema, TASKS } from '@argus/contracts';
import type { GatewayConfig } from '@argus/config';
import { isConnected, NATS_CONNECTION, NatsTaskClient, type NatsConnection } from '@argus/messaging';
import type { ReadinessProbe, ReadinessReport } from '@argus/telemetry';
import { GATEWAY_CONFIG } from './gateway.tokens';

type Check = ReadinessReport['checks'][string];

/** Ready means NATS is connected and every worker answers a ping saying it can do its task. */
@Injectable()
export class ReadinessService implements ReadinessProbe {
  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    @Inject(NATS_CONNECTION) private readonly connection: NatsConnection,
    @Inject(NatsTaskClient) private readonly client: Pick<NatsTaskClient, 'request'>,
  ) {}

  async readiness(): Promise<ReadinessReport> {
    if (!isConnected(this.connection)) {
      return { ready: false, checks: { nats: { ok: false, detail: 'not connected to NATS' } } };
    }
    const checks: Record<string, Check> = {
      nats: { ok: true, detail: `connected to ${this.connection.getServer()}` },
    };
    await Promise.all(
      TASKS.map(async (task) => {
        checks[task] = await this.ping(task);
      }),
    );
    return { ready: Object.values(checks).every((check) => check.ok), checks };
  }

  private async ping(task: (typeof TASKS)[number]): Promise<Check> {
    try {
      const reply = pingReplySchema.parse(
        await this.client.request(PING_SUBJECTS[task], {}, { timeoutMs: this.config.readyTimeoutMs }),
      );
      const failing = Object.entries(reply.checks)
        .filter(([, check]) => !check.ok)
        .map(([name, check]) => `${name}: ${check.detail}`);
      return reply.ready
        ? { ok: true, detail: `${reply.service} ready` }
        : { ok: false, detail: `${reply.service} not ready: ${failing.join('; ')}` };
    } catch (error) {
      return {
        ok: false,
        detail: `${task} worker did not answer: ${error instanceof Error ? error.message : String(error)}`,
      };
    }
  }
}
