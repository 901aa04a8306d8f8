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
  DLQ_STREAM,
  DLQ_SUBJECTS,
  JOB_CONSUMERS,
  JOB_STREAMS,
  JOB_SUBJECTS,
  MESSAGE_HEADERS,
  TASKS,
  type DeadLetter,
  type JobMessage,
  type Task,
} from '@argus/contracts';
import { pullDurable } from './durable-pull';
import { effectiveDuplicateWindowSeconds, upsertConsumer, upsertStream } from './jetstream-layout';
import { createHeaders, asMessageHeaders, type MessageHeaders } from './nats-headers';

export { effectiveDuplicateWindowSeconds };

const codec = JSONCodec();
/** W3C trace context headers, carried from a unit's last delivery to its dead letter. */
const TRACE_HEADERS = ['traceparent', 'tracestate'] as const;

export interface JobQueueSettings {
  /** How long dead letters are kept (and the longest a job may live). */
  ttlSeconds: number;
  maxDeliver: number;
  ackWaitMs: number;
  duplicateWindowSeconds: number;
}

/** One delivery of a job message, as a worker sees it; the worker decides, the queue speaks JetStream. */
export interface JobDelivery {
  /** The decoded JSON body, or undefined when it is not JSON. */
  readonly data: unknown;
  readonly headers: MessageHeaders | undefined;
  /** 1 on the first delivery. */
  readonly deliveryCount: number;
  readonly maxDeliver: number;
  /** Acknowledges and waits for the server to confirm, so a crash after it cannot redeliver. */
  ack(): Promise<void>;
  nak(delayMs: number): void;
  /** Stops redelivery for good; the reason is for logs and the dead-letter record, not sent to the server. */
  term(reason: string): void;
  /** Resets the ack timer for slow work. */
  working(): void;
}

export interface JobConsumerStats {
  stream: string;
  consumer: string;
  pending: number;
  ackPending: number;
  redelivered: number;
}

export interface PullOptions {
  maxInFlight: number;
  handle(delivery: JobDelivery): Promise<void>;
  /** Pull failures (NATS down, consumer missing); the loop carries on after a pause. */
  onError?(error: unknown): void;
}

export interface JobPuller {
  /** Stops pulling, lets the last pull and the work in flight finish (each is acked or nakked), then resolves. */
  stop(): Promise<void>;
}

/**
 * The JetStream side of async jobs: per-task work-queue streams, their durable pull consumers and the dead-letter
 * stream. `ensure()` creates or updates the layout idempotently; every process that needs it calls it at start.
 */
export class JobQueue {
  private ensured?: Promise<void>;

  constructor(
    private readonly connection: NatsConnection,
    readonly settings: JobQueueSettings,
  ) {}

  ensure(): Promise<void> {
    this.ensured ??= this.createLayout().catch((error: unknown) => {
      this.ensured = undefined;
      throw error;
    });
    return this.ensured;
  }

  private async createLayout(): Promise<void> {
    const jsm = await this.connection.jetstreamManager();
    const { ttlSeconds, ackWaitMs, maxDeliver } = this.settings;
    const duplicateWindowSeconds = effectiveDuplicateWindowSeconds(this.settings);
    for (const task of TASKS) {
      await upsertStream(jsm, {
        name: JOB_STREAMS[task],
        subjects: [JOB_SUBJECTS[task]],
        retention: RetentionPolicy.Workqueue,
        storage: StorageType.File,
        discard: DiscardPolicy.Old,
        duplicate_window: nanos(duplicateWindowSeconds * 1000),
        max_age: nanos(ttlSeconds * 1000),
        description: `Argus ${task} job items (work queue)`,
      });
      await upsertConsumer(jsm, JOB_STREAMS[task], {
        durable_name: JOB_CONSUMERS[task],
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        filter_subject: JOB_SUBJECTS[task],
        ack_wait: nanos(ackWaitMs),
        max_deliver: maxDeliver,
        max_ack_pending: 1000,
        // No consumer backoff: nats-server measures a nak's delay against the backoff step instead of the ack wait,
        // so with a backoff of 1×/2×/4× ack wait a retry nakked for 400 ms came back after ack wait + 400 ms, then
        // 3 × ack wait + 400 ms (minutes with the defaults). Naks carry their own delay (job-retry.ts); a lost ack
        // (a worker that died) is redelivered after the ack wait. An empty list also clears the backoff of a
        // consumer created by an older version (an update that omits the field keeps it).
        backoff: [],
        description: `Argus ${task} workers`,
      });
    }
    await upsertStream(jsm, {
      name: DLQ_STREAM,
      subjects: TASKS.map((task) => DLQ_SUBJECTS[task]),
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      discard: DiscardPolicy.Old,
      duplicate_window: nanos(duplicateWindowSeconds * 1000),
      max_age: nanos(ttlSeconds * 1000),
      description: 'Argus job items that exhausted their deliveries, with the reason',
    });
  }

  /** Publishes one unit of work; `msgId` dedupes within the duplicate window. True when it was a duplicate. */
  async publish(
    message: JobMessage,
    msgId: string,
    trace?: (headers: MessageHeaders) => void,
  ): Promise<boolean> {
    const headers = createHeaders();
    const carrier = asMessageHeaders(headers);
    if (carrier && trace) trace(carrier);
    const ack = await this.connection
      .jetstream()
      .publish(JOB_SUBJECTS[message.task], codec.encode(message), { msgID: msgId, headers });
    return ack.duplicate;
  }

  /** Copies a unit to the dead-letter stream with its request id and the trace context of its last delivery. */
  async deadLetter(letter: DeadLetter, msgId: string, from?: MessageHeaders): Promise<void> {
    const headers = createHeaders();
    headers.set(MESSAGE_HEADERS.requestId, letter.original.request.requestId);
    for (const key of TRACE_HEADERS) {
      const value = from?.get(key);
      if (value) headers.set(key, value);
    }
    await this.connection
      .jetstream()
      .publish(DLQ_SUBJECTS[letter.task], codec.encode(letter), { msgID: `dlq.${msgId}`, headers });
  }

  /** Dead letters held for a task now. */
  async deadLetterCount(task: Task): Promise<number> {
    const jsm = await this.connection.jetstreamManager();
    const info = await jsm.streams.info(DLQ_STREAM, { subjects_filter: DLQ_SUBJECTS[task] });
    return info.state.subjects?.[DLQ_SUBJECTS[task]] ?? 0;
  }

  /** Reads the dead letters of a task (for inspection and tests), oldest first. */
  async readDeadLetters(task: Task, limit = 1000): Promise<DeadLetter[]> {
    const jsm = await this.connection.jetstreamManager();
    const info = await jsm.streams.info(DLQ_STREAM);
    const letters: DeadLetter[] = [];
    for (let seq = info.state.first_seq; seq <= info.state.last_seq && letters.length < limit; seq++) {
      try {
        const msg = await jsm.streams.getMessage(DLQ_STREAM, { seq });
        if (msg.subject === DLQ_SUBJECTS[task]) letters.push(codec.decode(msg.data) as DeadLetter);
      } catch {
        // Deleted or expired sequence.
      }
    }
    return letters;
  }

  async consumerStats(task: Task): Promise<JobConsumerStats> {
    const jsm = await this.connection.jetstreamManager();
    const info = await jsm.consumers.info(JOB_STREAMS[task], JOB_CONSUMERS[task]);
    return {
      stream: JOB_STREAMS[task],
      consumer: JOB_CONSUMERS[task],
      pending: info.num_pending,
      ackPending: info.num_ack_pending,
      redelivered: info.num_redelivered,
    };
  }

  /**
   * Pulls the task's messages with at most `maxInFlight` in the worker at once: each pull asks only for as many
   * messages as there are free slots, so nothing waits in a client buffer while its ack timer runs.
   */
  pull(task: Task, options: PullOptions): JobPuller {
    const maxDeliver = this.settings.maxDeliver;
    return pullDurable(this.connection, {
      stream: JOB_STREAMS[task],
      consumer: JOB_CONSUMERS[task],
      maxInFlight: options.maxInFlight,
      // The handler decides; if it threw, the message is left for redelivery after a short pause.
      handle: (msg) => options.handle(toDelivery(msg, maxDeliver)),
      onError: (error) => options.onError?.(error),
    });
  }
}

function toDelivery(msg: JsMsg, maxDeliver: number): JobDelivery {
  let data: unknown;
  try {
    data = codec.decode(msg.data);
  } catch {
    data = undefined;
  }
  return {
    data,
    headers: asMessageHeaders(msg.headers),
    deliveryCount: msg.info.deliveryCount,
    maxDeliver,
    async ack() {
      await msg.ackAck();
    },
    nak: (delayMs) => {
      msg.nak(Math.max(0, Math.round(delayMs)));
    },
    // The reason goes to the dead-letter record: servers before 2.10.4 do not parse `+TERM <reason>` as a term at
    // all and would leave the message pending.
    term: () => {
      msg.term();
    },
    working: () => {
      msg.working();
    },
  };
}
