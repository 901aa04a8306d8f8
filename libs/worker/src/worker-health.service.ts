import { Inject, Injectable } from '@nestjs/common';
import type { PingReply } from '@argus/contracts';
import type { WorkerConfig } from '@argus/config';
import { OllamaEngine, type ModelStatus } from '@argus/inference';
import { ImageStore, isConnected, NATS_CONNECTION, type NatsConnection } from '@argus/messaging';
import type { ReadinessProbe } from '@argus/telemetry';
import { WORKER_CONFIG } from './worker.tokens';

/** Ollama is asked at most this often, so probes and pings never pile requests onto a busy GPU host. */
const MODEL_CHECK_TTL_MS = 5_000;

@Injectable()
export class WorkerHealth implements ReadinessProbe {
  private modelCheck?: { at: number; status: Promise<ModelStatus> };

  constructor(
    @Inject(WORKER_CONFIG) private readonly config: WorkerConfig,
    @Inject(NATS_CONNECTION) private readonly connection: NatsConnection,
    @Inject(ImageStore) private readonly images: Pick<ImageStore, 'check'>,
    @Inject(OllamaEngine) private readonly engine: Pick<OllamaEngine, 'modelStatus'>,
  ) {}

  async readiness(): Promise<PingReply> {
    const nats = isConnected(this.connection)
      ? { ok: true, detail: `connected to ${this.connection.getServer()}` }
      : { ok: false, detail: 'not connected to NATS' };
    const store = await this.images
      .check()
      .then(() => ({ ok: true, detail: 'image store reachable' }))
      .catch((error: unknown) => ({ ok: false, detail: `image store unavailable: ${String(error)}` }));
    const model = await this.model();
    return {
      service: this.config.service,
      ready: nats.ok && store.ok && model.ok,
      checks: { nats, imageStore: store, model },
    };
  }

  private model(): Promise<ModelStatus> {
    const now = Date.now();
    if (!this.modelCheck || now - this.modelCheck.at > MODEL_CHECK_TTL_MS) {
      this.modelCheck = { at: now, status: this.engine.modelStatus(this.config.model) };
    }
    return this.modelCheck.status;
  }
}
