import type { TierName, TierStatus } from '@argus/contracts';
import type { ModelStatus, OllamaClient } from './ollama-client';
import type { TierAvailability } from './tier-router';

export interface HealthEntry {
  tier: TierName;
  kind: 'cpu' | 'ollama';
  model: string;
  ollama?: Pick<OllamaClient, 'modelStatus'>;
}

export interface CpuReadiness {
  ready: boolean;
  detail: string;
}

interface Known {
  status: TierStatus;
  detail: string;
}

/**
 * Which tiers can serve this worker's task right now. Ollama tiers are asked in the background (tags for the model,
 * show for `vision`), so routing never waits on a health check; the CPU tier is ready once its engine is warm.
 */
export class TierHealth implements TierAvailability {
  private readonly known = new Map<TierName, Known>();
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly entries: HealthEntry[],
    private readonly cpuReadiness: () => CpuReadiness,
  ) {}

  async refresh(): Promise<void> {
    await Promise.all(
      this.entries.map(async (entry) => {
        // The CPU tier's state is read live from its engines; only Ollama tiers are polled.
        if (entry.kind === 'cpu') return;
        const status: ModelStatus = entry.ollama
          ? await entry.ollama.modelStatus(entry.model)
          : { status: 'unreachable', ok: false, detail: 'no Ollama client' };
        this.known.set(entry.tier, { status: status.status, detail: status.detail });
      }),
    );
  }

  start(intervalMs: number): void {
    this.stop();
    this.timer = setInterval(() => {
      void this.refresh();
    }, intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  isAvailable(tier: TierName): boolean {
    return this.status(tier).status === 'ready';
  }

  explain(tier: TierName): string {
    if (!this.isCpu(tier) && !this.known.has(tier)) return 'not checked yet';
    const { status, detail } = this.status(tier);
    return `${status}: ${detail}`;
  }

  private isCpu(tier: TierName): boolean {
    return this.entries.find((entry) => entry.tier === tier)?.kind === 'cpu';
  }

  status(tier: TierName): Known {
    if (this.isCpu(tier)) {
      const cpu = this.cpuReadiness();
      return { status: cpu.ready ? 'ready' : 'warming', detail: cpu.detail };
    }
    return this.known.get(tier) ?? { status: 'unreachable', detail: 'not checked yet' };
  }

  anyAvailable(): boolean {
    return this.entries.some((entry) => this.isAvailable(entry.tier));
  }
}
