import { createInbox, JSONCodec, type NatsConnection, type Subscription } from 'nats';
import { TASK_HEARTBEAT, taskHeartbeatSchema, type TaskHeartbeat } from '@argus/contracts';
import { MessagingError } from './messaging-error';

const codec = JSONCodec();
/** How long after a reconnect new requests are armed at once (see HeartbeatWatch.connectionRestored). */
const RECONNECT_GRACE_MS = 10_000;
/** A watch timer this late says the gateway's own event loop was held up, not that the worker went silent. */
const LATE_TIMER_MS = 100;

/**
 * Heartbeat subjects are inboxes the gateway made: anything else in the header (a task subject, a wildcard) is
 * ignored, so a forged header cannot make a worker publish where it pleases.
 */
const HEARTBEAT_SUBJECT = /^_INBOX\.[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

export type HeartbeatPublisher = Pick<NatsConnection, 'publish'>;

/**
 * Worker side: says "still working on it" to the caller's heartbeat subject at once and then every `intervalMs`, until
 * the returned function is called. No subject (a caller that does not watch), a subject that is not an inbox, or an
 * interval of 0 means no heartbeats.
 */
export function startTaskHeartbeat(
  publisher: HeartbeatPublisher,
  subject: string | undefined,
  intervalMs: number,
): () => void {
  if (!subject || !HEARTBEAT_SUBJECT.test(subject) || !(intervalMs > 0)) return () => undefined;
  const beat: TaskHeartbeat = { intervalMs: Math.floor(intervalMs) };
  const data = codec.encode(beat);
  const publish = (): void => {
    try {
      publisher.publish(subject, data);
    } catch {
      // A closed connection: the caller notices the silence, which is the point.
    }
  };
  publish();
  const timer = setInterval(publish, beat.intervalMs);
  timer.unref();
  return () => {
    clearInterval(timer);
  };
}

/** Why a watched request was given up: how long it had been silent, and the interval the worker announced. */
export interface HeartbeatLoss {
  silentMs: number;
  intervalMs: number;
}

export interface WatchedRequest {
  /** Hand this to the worker in the `TASK_HEARTBEAT.subjectHeader` header. */
  subject: string;
  /** Stops watching; call when the request ends, however it ends. */
  stop(): void;
}

/**
 * The worker that took a request stopped sending heartbeats. A `disconnected` failure (the request can be retried and
 * another replica will take it), told apart for metrics and logs.
 */
export class WorkerLostError extends MessagingError {
  constructor(
    subject: string,
    readonly loss: HeartbeatLoss,
  ) {
    super(
      'disconnected',
      `the worker handling ${subject} went silent: no heartbeat for ${loss.silentMs} ms ` +
        `(every ${loss.intervalMs} ms expected); it stopped or lost NATS`,
    );
    this.name = 'WorkerLostError';
  }
}

interface Watched {
  onLost: (loss: HeartbeatLoss) => void;
  timer?: ReturnType<typeof setTimeout>;
  lastBeatAt: number;
}

/**
 * Gateway side: one wildcard subscription for the heartbeats of every request in flight, one timer per request.
 * The watch is armed by the first heartbeat, so a worker that does not send any (an older release, a ping handler) is
 * held only to the request's deadline, as before. After that, `missedBeats` × the announced interval of silence
 * means the worker is gone: killed, wedged, or cut off from NATS.
 */
export class HeartbeatWatch {
  private readonly prefix = createInbox();
  private subscription: Subscription | undefined;
  private readonly watched = new Map<string, Watched>();
  private sequence = 0;
  /** Until when new requests are armed at once, without waiting for a first beat (just after a reconnect). */
  private armAtSendUntil = 0;

  constructor(
    private readonly connection: Pick<NatsConnection, 'subscribe'>,
    private readonly missedBeats: number = TASK_HEARTBEAT.missedBeats,
  ) {}

  /** Requests being watched now (tests and leak checks). */
  get size(): number {
    return this.watched.size;
  }

  watch(onLost: (loss: HeartbeatLoss) => void): WatchedRequest {
    this.subscription ??= this.connection.subscribe(`${this.prefix}.*`, {
      callback: (error, msg) => {
        if (!error) this.beat(msg.subject, msg.data);
      },
    });
    this.sequence += 1;
    const subject = `${this.prefix}.${this.sequence.toString(36)}`;
    const entry: Watched = { onLost, lastBeatAt: Date.now() };
    this.watched.set(subject, entry);
    if (Date.now() < this.armAtSendUntil) this.arm(subject, entry, TASK_HEARTBEAT.defaultIntervalMs);
    return {
      subject,
      stop: () => {
        const entry = this.watched.get(subject);
        if (entry?.timer !== undefined) clearTimeout(entry.timer);
        this.watched.delete(subject);
      },
    };
  }

  /** Called for every message on the heartbeat subscription. */
  beat(subject: string, data: Uint8Array): void {
    const entry = this.watched.get(subject);
    if (!entry) return;
    const parsed = taskHeartbeatSchema.safeParse(decode(data));
    const intervalMs = parsed.success ? parsed.data.intervalMs : TASK_HEARTBEAT.defaultIntervalMs;
    this.arm(subject, entry, intervalMs);
  }

  /**
   * The connection to NATS dropped: no heartbeat can arrive, and a request that was never armed (its worker had not
   * beaten yet, or the request was lost with the server) would otherwise wait out its whole deadline. Arm every such
   * request with the default interval; beats after the reconnect keep alive the ones whose worker carries on.
   */
  connectionLost(intervalMs: number = TASK_HEARTBEAT.defaultIntervalMs): void {
    for (const [subject, entry] of this.watched) {
      if (entry.timer === undefined) this.arm(subject, entry, intervalMs);
    }
  }

  /**
   * The connection is back. For a while, the server may route a request to a worker whose replies and beats cannot
   * reach us yet (subscriptions are still being restored on either side), so new requests are armed at once instead of
   * by their first beat; a request that hears nothing ends after the missed beats rather than at its deadline.
   */
  connectionRestored(graceMs: number = RECONNECT_GRACE_MS): void {
    this.armAtSendUntil = Date.now() + graceMs;
  }

  private arm(subject: string, entry: Watched, intervalMs: number): void {
    if (entry.timer !== undefined) clearTimeout(entry.timer);
    entry.lastBeatAt = Date.now();
    const dueAt = entry.lastBeatAt + intervalMs * this.missedBeats;
    const giveUp = () => {
      if (this.watched.get(subject) !== entry) return;
      this.watched.delete(subject);
      entry.onLost({ silentMs: Date.now() - entry.lastBeatAt, intervalMs });
    };
    entry.timer = setTimeout(() => {
      // Timers run before the loop reads its sockets. Fired late, this process was busy, and a beat that arrived
      // meanwhile is still unread: one more turn lets it in (it re-arms the watch and clears this timer).
      if (Date.now() - dueAt > LATE_TIMER_MS) entry.timer = setTimeout(giveUp, 0);
      else giveUp();
    }, dueAt - Date.now());
  }

  close(): void {
    this.subscription?.unsubscribe();
    this.subscription = undefined;
    for (const entry of this.watched.values()) if (entry.timer !== undefined) clearTimeout(entry.timer);
    this.watched.clear();
  }
}

function decode(data: Uint8Array): unknown {
  try {
    return codec.decode(data);
  } catch {
    return undefined;
  }
}
