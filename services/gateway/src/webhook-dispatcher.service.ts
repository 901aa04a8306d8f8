import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import type { WebhookMessage } from '@argus/contracts';
import type { GatewayConfig } from '@argus/config';
import { JobEvents, JobStore, type DurablePuller, type EventDelivery } from '@argus/messaging';
import { ArgusMetrics } from '@argus/telemetry';
import { SafeFetcher, WebhookSender } from '@argus/url-intake';
import { GATEWAY_CONFIG } from './gateway.tokens';

/** How often a delivery still retrying tells JetStream it is alive, well inside the consumer's ack wait. */
const HEARTBEAT_MS = 10_000;

/**
 * Delivers queued webhooks: signed, through the SSRF-safe fetcher, retried with backoff (WebhookSender), then logged
 * in the job whatever happened, and acked. A gateway that dies mid-delivery leaves the message for another one.
 */
@Injectable()
export class WebhookDispatcher implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(WebhookDispatcher.name);
  private puller?: DurablePuller;
  private readonly sender: Pick<WebhookSender, 'deliver'>;

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    @Inject(JobEvents) private readonly events: Pick<JobEvents, 'pullWebhooks'>,
    @Inject(JobStore) private readonly store: Pick<JobStore, 'appendWebhookDelivery'>,
    @Inject(ArgusMetrics) private readonly metrics: ArgusMetrics,
    @Inject(SafeFetcher) fetcher: Pick<SafeFetcher, 'post'>,
  ) {
    this.sender = new WebhookSender(fetcher, config.webhooks);
    for (const type of ['job.completed', 'item.decided']) {
      for (const outcome of ['delivered', 'failed']) this.metrics.webhookDeliveries.inc({ type, outcome }, 0);
    }
  }

  /** Does not wait for JetStream: the pull sets up the webhook queue itself, and retries until it can. */
  onApplicationBootstrap(): void {
    // Without a secret no job can carry a callbackUrl, so there is nothing to deliver.
    if (!this.config.webhooks.secret) return;
    this.puller = this.events.pullWebhooks({
      maxInFlight: this.config.webhooks.concurrency,
      handle: (delivery) => this.handle(delivery),
      onError: (error) => {
        this.logger.warn(`webhooks: ${error instanceof Error ? error.message : String(error)}`);
      },
    });
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.puller?.stop();
    this.puller = undefined;
  }

  async handle(delivery: EventDelivery<WebhookMessage | undefined>): Promise<void> {
    const message = delivery.value;
    if (!message) {
      this.logger.error('dropping a webhook message that does not parse');
      await delivery.ack();
      return;
    }
    const heartbeat = setInterval(() => {
      delivery.working();
    }, HEARTBEAT_MS);
    try {
      const { event } = message;
      const outcome = await this.sender.deliver(message.url, event);
      await this.store.appendWebhookDelivery(event.jobId, {
        eventId: event.id,
        type: event.type,
        ...(event.type === 'item.decided' ? { itemId: event.itemId } : {}),
        delivered: outcome.delivered,
        attempts: outcome.attempts,
      });
      this.metrics.webhookDeliveries.inc({
        type: event.type,
        outcome: outcome.delivered ? 'delivered' : 'failed',
      });
      const last = outcome.attempts.at(-1);
      if (!outcome.delivered) {
        this.logger.warn(
          `webhook ${event.id} to ${new URL(message.url).host} failed after ${outcome.attempts.length} attempts: ${last?.error ?? 'unknown'}`,
        );
      }
      await delivery.ack();
    } finally {
      clearInterval(heartbeat);
    }
  }
}
