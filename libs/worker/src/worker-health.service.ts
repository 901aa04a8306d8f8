import { Inject, Injectable } from '@nestjs/common';
import type { ModelsReply, PingReply } from '@argus/contracts';
import type { WorkerConfig } from '@argus/config';
import { ImageStore, isConnected, NATS_CONNECTION, type NatsConnection } from '@argus/messaging';
import type { ReadinessProbe } from '@argus/telemetry';
import { WorkerInference } from './worker-inference';
import { WORKER_CONFIG } from './worker.tokens';

/** Ready means: NATS connected, the image store reachable, and at least one tier able to run the task. */
@Injectable()
export class WorkerHealth implements ReadinessProbe {
  constructor(
    @Inject(WORKER_CONFIG) private readonly config: WorkerConfig,
    @Inject(NATS_CONNECTION) private readonly connection: NatsConnection,
    @Inject(ImageStore) private readonly images: Pick<ImageStore, 'check'>,
    @Inject(WorkerInference)
    private readonly inference: Pick<WorkerInference, 'health' | 'report' | 'task' | 'router'>,
  ) {}

  async readiness(): Promise<PingReply> {
    const nats = isConnected(this.connection)
      ? { ok: true, detail: `connected to ${this.connection.getServer()}` }
      : { ok: false, detail: 'not connected to NATS' };
    const store = await this.images
      .check()
      .then(() => ({ ok: true, detail: 'image store reachable' }))
      .catch((error: unknown) => ({ ok: false, detail: `image store unavailable: ${String(error)}` }));
    const tiers = Object.fromEntries(
      this.inference.router.routes.map((route) => {
        const status = this.inference.health.status(route.tier);
        return [
          `tier.${route.tier}`,
          {
            ok: status.status === 'ready',
            detail: `${route.engine.model}: ${status.status} (${status.detail})`,
          },
        ];
      }),
    );
    const anyTier = this.inference.health.anyAvailable();
    return {
      service: this.config.service,
      ready: nats.ok && store.ok && anyTier,
      checks: {
        nats,
        imageStore: store,
        inference: {
          ok: anyTier,
          detail: anyTier ? 'at least one tier can run the task' : 'no tier can run the task',
        },
        ...tiers,
      },
    };
  }

  async models(): Promise<ModelsReply> {
    return { task: this.inference.task, tiers: await this.inference.report() };
  }
}
