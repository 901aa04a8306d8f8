import { Inject, Injectable } from '@nestjs/common';
import {
  MODELS_SUBJECTS,
  modelsReplySchema,
  TASKS,
  TIERS,
  type ModelsView,
  type Task,
  type TierModelReport,
  type TierName,
  type TierView,
} from '@argus/contracts';
import type { GatewayConfig } from '@argus/config';
import { NatsTaskClient } from '@argus/messaging';
import { GATEWAY_CONFIG } from './gateway.tokens';

export type { ModelsView, TierView } from '@argus/contracts';

/**
 * GET /v1/models. Only workers talk to Ollama, so the gateway asks each worker for its view of every tier (status,
 * loaded state and VRAM from /api/ps, the catalog's estimate) and regroups the answers by tier.
 */
@Injectable()
export class ModelsService {
  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    @Inject(NatsTaskClient) private readonly client: Pick<NatsTaskClient, 'request'>,
  ) {}

  async list(): Promise<ModelsView> {
    const unreachable: ModelsView['unreachable'] = [];
    const byTier = new Map<TierName, TierView>();
    await Promise.all(
      TASKS.map(async (task) => {
        try {
          const raw = await this.client.request(
            MODELS_SUBJECTS[task],
            {},
            { timeoutMs: this.config.readyTimeoutMs * 2 },
          );
          for (const report of modelsReplySchema.parse(raw).tiers) this.add(byTier, task, report);
        } catch (error) {
          unreachable.push({ task, detail: error instanceof Error ? error.message : String(error) });
        }
      }),
    );
    const tiers = TIERS.map((tier) => byTier.get(tier)).filter(
      (view): view is TierView => view !== undefined,
    );
    for (const view of tiers) view.models.sort((a, b) => TASKS.indexOf(a.task) - TASKS.indexOf(b.task));
    return { tiers, unreachable };
  }

  private add(byTier: Map<TierName, TierView>, task: Task, report: TierModelReport): void {
    const { tier, engine, url, vramBudgetGiB, concurrency, ...model } = report;
    const view = byTier.get(tier) ?? { tier, engine, url, vramBudgetGiB, concurrency, models: [] };
    view.models.push({ task, ...model });
    byTier.set(tier, view);
  }
}
