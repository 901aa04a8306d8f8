import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  JSONCodec,
  nanos,
  RetentionPolicy,
  StorageType,
  type JsMsg,
  type NatsConnection,
} from 'nats';
import {
  JOB_RESULT_BUCKET,
  jobUnitResultSchema,
  RESULT_EVENTS_CONSUMER,
  TASKS,
  WEBHOOK_CONSUMER,
  WEBHOOK_STREAM,
  WEBHOOK_SUBJECT,
  webhookMessageSchema,
  type JobUnitResult,
  type Task,
  type WebhookMessage,
} from '@argus/contracts';
import { pullDurable, type DurablePuller } from './durable-pull';
import { effectiveDuplicateWindowSeconds, upsertConsumer, upsertStream } from './jetstream-layout';

const codec = JSONCodec();
const RESULT_STREAM = `KV_${JOB_RESULT_BUCKET}`;
const RESULT_SUBJECT_PREFIX = `$KV.${JOB_RESULT_BUCKET}.`;

/** A result as it was written: the key's parts and the stored value. */
export interface ResultEvent {
  jobId: string;
  itemId: string;
  task: Task;
  key: string;
  result: JobUnitResult;
}

/** A settled-by-the-handler message: ack when done, nak to see it again. */
export interface EventDelivery<T> {
  readonly value: T;
  readonly deliveryCount: number;
  ack(): Promise<void>;
  nak(delayMs: number): void;
  /** Resets the ack timer while slow work (a webhook with retries) goes on. */
  working(): void;
}

export interface EventPullOptions<T> {
  maxInFlight: number;
  /** Runs before pulling, and again after a failed pull (see DurablePullOptions.prepare). */
  prepare?(): Promise<void>;
  handle(delivery: EventDelivery<T>): Promise<void>;
  onError?(error: unknown): void;
}

export interface JobEventSettings {
  duplicateWindowSeconds: number;
  ttlSeconds: number;
  /** How long a webhook message may be in one gateway before another may take it (covers every retry). */
  webhookAckWaitMs: number;
}

/**
 * What happens after a unit ends, for the gateways: a durable consumer on the job results bucket's stream (every KV
 * write is a message, so no result goes unnoticed, even one written while no gateway ran) and the webhook work queue.
 */
export class JobEvents {
  private resultsReady?: Promise<void>;
  private webhooksReady?: Promise<void>;

  constructor(
    private readonly connection: NatsConnection,
    private readonly settings: JobEventSettings,
  ) {}

  /** The durable consumer on the results bucket's stream; the bucket must exist (JobStore.check) first. */
  ensureResultEvents(): Promise<void> {
    this.resultsReady ??= this.createResultConsumer().catch((error: unknown) => {
      this.resultsReady = undefined;
      throw error;
    });
    return this.resultsReady;
  }

  /** The webhook work queue and its consumer. */
  ensureWebhooks(): Promise<void> {
    this.webhooksReady ??= this.createWebhookQueue().catch((error: unknown) => {
      this.webhooksReady = undefined;
      throw error;
    });
    return this.webhooksReady;
  }

  private async createResultConsumer(): Promise<void> {
    const jsm = await this.connection.jetstreamManager();
    await upsertConsumer(jsm, RESULT_STREAM, {
      durable_name: RESULT_EVENTS_CONSUMER,
      ack_policy: AckPolicy.Explicit,
      // Created with the first gateway, before any job: from then on it sees every write.
      deliver_policy: DeliverPolicy.New,
      filter_subject: `${RESULT_SUBJECT_PREFIX}>`,
      ack_wait: nanos(30_000),
      max_deliver: -1,
      max_ack_pending: 2000,
      description: 'Argus gateways: reviews, webhooks and completion on every job result',
    });
  }

  private async createWebhookQueue(): Promise<void> {
    const jsm = await this.connection.jetstreamManager();
    await upsertStream(jsm, {
      name: WEBHOOK_STREAM,
      subjects: [WEBHOOK_SUBJECT],
      retention: RetentionPolicy.Workqueue,
      storage: StorageType.File,
      discard: DiscardPolicy.Old,
      duplicate_window: nanos(effectiveDuplicateWindowSeconds(this.settings) * 1000),
      max_age: nanos(this.settings.ttlSeconds * 1000),
      description: 'Argus webhooks waiting for delivery',
    });
    await upsertConsumer(jsm, WEBHOOK_STREAM, {
      durable_name: WEBHOOK_CONSUMER,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      filter_subject: WEBHOOK_SUBJECT,
      ack_wait: nanos(this.settings.webhookAckWaitMs),
      max_deliver: 3,
      description: 'Argus gateways delivering webhooks',
    });
  }

  /** Queues a webhook; the same `msgId` within the duplicate window is queued once. */
  async queueWebhook(message: WebhookMessage, msgId: string): Promise<void> {
    await this.ensureWebhooks();
    await this.connection.jetstream().publish(WEBHOOK_SUBJECT, codec.encode(message), { msgID: msgId });
  }

  pullResults(options: EventPullOptions<ResultEvent | undefined>): DurablePuller {
    return pullDurable(this.connection, {
      stream: RESULT_STREAM,
      consumer: RESULT_EVENTS_CONSUMER,
      maxInFlight: options.maxInFlight,
      prepare: async () => {
        await options.prepare?.();
        await this.ensureResultEvents();
      },
      handle: (msg) => options.handle(toDelivery(msg, parseResultEvent(msg))),
      onError: (error) => options.onError?.(error),
    });
  }

  pullWebhooks(options: EventPullOptions<WebhookMessage | undefined>): DurablePuller {
    return pullDurable(this.connection, {
      stream: WEBHOOK_STREAM,
      consumer: WEBHOOK_CONSUMER,
      maxInFlight: options.maxInFlight,
      prepare: async () => {
        await options.prepare?.();
        await this.ensureWebhooks();
      },
      handle: (msg) => {
        const parsed = webhookMessageSchema.safeParse(decode(msg));
        return options.handle(toDelivery(msg, parsed.success ? parsed.data : undefined));
      },
      onError: (error) => options.onError?.(error),
    });
  }
}

/** A result write, or undefined for deletes, purges and anything that is not a unit result. */
export function parseResultEvent(msg: Pick<JsMsg, 'subject' | 'headers' | 'data'>): ResultEvent | undefined {
  const operation = msg.headers?.get('KV-Operation');
  if (operation === 'DEL' || operation === 'PURGE') return undefined;
  if (!msg.subject.startsWith(RESULT_SUBJECT_PREFIX)) return undefined;
  const key = msg.subject.slice(RESULT_SUBJECT_PREFIX.length);
  // `<jobId>.<itemId>.<task>`: the job id is a UUID and the task has no dots; the item id may have some.
  const first = key.indexOf('.');
  const last = key.lastIndexOf('.');
  if (first <= 0 || last <= first + 1) return undefined;
  const task = key.slice(last + 1) as Task;
  if (!TASKS.includes(task)) return undefined;
  const parsed = jobUnitResultSchema.safeParse(decode(msg));
  if (!parsed.success) return undefined;
  return { jobId: key.slice(0, first), itemId: key.slice(first + 1, last), task, key, result: parsed.data };
}

function decode(msg: Pick<JsMsg, 'data'>): unknown {
  try {
    return codec.decode(msg.data);
  } catch {
    return undefined;
  }
}

function toDelivery<T>(msg: JsMsg, value: T): EventDelivery<T> {
  return {
    value,
    deliveryCount: msg.info.deliveryCount,
    async ack() {
      await msg.ackAck();
    },
    nak: (delayMs) => {
      msg.nak(Math.max(0, Math.round(delayMs)));
    },
    working: () => {
      msg.working();
    },
  };
}
