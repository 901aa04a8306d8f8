import { randomUUID } from 'node:crypto';
import { ErrorCode as NatsErrorCode, Events, JSONCodec, NatsError, type NatsConnection } from 'nats';
import { context, SpanKind } from '@opentelemetry/api';
import { MESSAGE_HEADERS, TASK_HEARTBEAT } from '@argus/contracts';
import { inSpan, injectTraceHeaders } from '@argus/telemetry';
import { asMessageHeaders, createHeaders } from './nats-headers';
import { MessagingError, type MessagingFailure } from './messaging-error';
import { HeartbeatWatch, WorkerLostError } from './task-heartbeat';

const codec = JSONCodec();

/** The wire shape NestJS' NATS transport speaks; workers are Nest microservices, so the client mirrors it. */
interface NestRequestPacket {
  pattern: string;
  data: unknown;
  id: string;
}
interface NestReplyPacket {
  id?: string;
  response?: unknown;
  err?: unknown;
  isDisposed?: boolean;
}

/** The parts of a NATS connection the client uses; tests fake these. */
export type TaskClientConnection = Pick<NatsConnection, 'request' | 'subscribe' | 'isClosed' | 'status'>;

/** Round trips for the request-latency metric; `outcome` is `ok`, the messaging failure, or `worker_lost`. */
export interface RequestObserver {
  requestDone(subject: string, outcome: string, seconds: number): void;
}

export interface TaskRequestOptions {
  timeoutMs: number;
  requestId?: string;
}

/**
 * Request/reply to Argus workers. It uses the NATS client directly rather than Nest's ClientProxy so that every
 * call has a deadline, a missing worker fails at once (no-responders) instead of waiting out the timeout, and the
 * W3C trace context plus the remaining time budget travel in message headers.
 *
 * Two more ways to fail fast instead of waiting out the deadline:
 * - while the connection to NATS is down (between a disconnect and the reconnect), requests fail at once as
 *   `disconnected`: nothing could carry them;
 * - every request names a heartbeat subject; a worker that took it and then goes silent for
 *   `TASK_HEARTBEAT.missedBeats` intervals (killed, wedged, cut off) fails it as `disconnected` (a WorkerLostError).
 */
export class NatsTaskClient {
  private readonly heartbeats: HeartbeatWatch;
  private connected = true;

  constructor(
    private readonly connection: TaskClientConnection,
    private readonly observer?: RequestObserver,
  ) {
    this.heartbeats = new HeartbeatWatch(connection);
    void this.followConnection();
  }

  /** Tracks whether the connection is up; nats.js buffers publishes while it reconnects, which would hang callers. */
  private async followConnection(): Promise<void> {
    try {
      for await (const status of this.connection.status()) {
        if (status.type === Events.Disconnect) {
          this.connected = false;
          this.heartbeats.connectionLost();
        }
        if (status.type === Events.Reconnect) {
          this.connected = true;
          this.heartbeats.connectionRestored();
        }
      }
    } catch {
      // The status stream ends with the connection; isClosed() covers that.
    }
  }

  async request(subject: string, payload: unknown, options: TaskRequestOptions): Promise<unknown> {
    const started = performance.now();
    let outcome = 'ok';
    try {
      return await this.traced(subject, payload, options);
    } catch (error) {
      outcome =
        error instanceof WorkerLostError
          ? 'worker_lost'
          : error instanceof MessagingError
            ? error.failure
            : 'error';
      throw error;
    } finally {
      this.observer?.requestDone(subject, outcome, (performance.now() - started) / 1000);
    }
  }

  private async traced(subject: string, payload: unknown, options: TaskRequestOptions): Promise<unknown> {
    const timeoutMs = Math.max(1, Math.floor(options.timeoutMs));
    return inSpan(
      `${subject} publish`,
      {
        kind: SpanKind.PRODUCER,
        attributes: {
          'messaging.system': 'nats',
          'messaging.destination.name': subject,
          'messaging.operation.type': 'send',
        },
      },
      async () => {
        const hdrs = createHeaders();
        const carrier = asMessageHeaders(hdrs);
        if (carrier) injectTraceHeaders(carrier, context.active());
        hdrs.set(MESSAGE_HEADERS.timeoutMs, String(timeoutMs));
        if (options.requestId) hdrs.set(MESSAGE_HEADERS.requestId, options.requestId);
        const packet: NestRequestPacket = { pattern: subject, data: payload, id: randomUUID() };
        const reply = await this.send(subject, codec.encode(packet), hdrs, timeoutMs);
        return unwrapNestReply(reply, subject);
      },
    );
  }

  private async send(
    subject: string,
    data: Uint8Array,
    hdrs: ReturnType<typeof createHeaders>,
    timeoutMs: number,
  ) {
    if (this.connection.isClosed()) throw new MessagingError('disconnected', 'the NATS connection is closed');
    if (!this.connected) {
      throw new MessagingError('disconnected', `NATS is unreachable (reconnecting); ${subject} was not sent`);
    }
    let lost: (error: WorkerLostError) => void = () => undefined;
    const silence = new Promise<never>((_, reject) => {
      lost = reject;
    });
    const watch = this.heartbeats.watch((loss) => {
      lost(new WorkerLostError(subject, loss));
    });
    hdrs.set(TASK_HEARTBEAT.subjectHeader, watch.subject);
    try {
      const reply = this.connection.request(subject, data, {
        timeout: timeoutMs,
        headers: hdrs,
        noMux: false,
      });
      // When the heartbeat loss wins, the request itself still ends later, at its timeout: nobody is listening then.
      reply.catch(() => undefined);
      const msg = await Promise.race([reply, silence]);
      return codec.decode(msg.data);
    } catch (error) {
      throw toMessagingError(error, subject, timeoutMs);
    } finally {
      watch.stop();
    }
  }
}

function unwrapNestReply(reply: unknown, subject: string): unknown {
  if (typeof reply !== 'object' || reply === null) {
    throw new MessagingError('bad_reply', `reply on ${subject} is not an object`);
  }
  const packet = reply as NestReplyPacket;
  if (packet.err !== undefined && packet.err !== null) {
    const detail = typeof packet.err === 'string' ? packet.err : JSON.stringify(packet.err);
    throw new MessagingError('remote_error', `worker on ${subject} failed: ${detail}`);
  }
  return packet.response;
}

const NATS_FAILURES: Partial<Record<string, MessagingFailure>> = {
  [NatsErrorCode.NoResponders]: 'no_responders',
  [NatsErrorCode.Timeout]: 'timeout',
};

function toMessagingError(error: unknown, subject: string, timeoutMs: number): MessagingError {
  if (error instanceof MessagingError) return error;
  if (!(error instanceof NatsError)) {
    return new MessagingError('bad_reply', error instanceof Error ? error.message : String(error));
  }
  const failure = NATS_FAILURES[error.code] ?? 'disconnected';
  const message = {
    no_responders: `no worker is subscribed to ${subject}`,
    timeout: `no reply on ${subject} within ${timeoutMs} ms`,
  }[failure as 'no_responders' | 'timeout'] as string | undefined;
  return new MessagingError(
    failure,
    message ?? `NATS request on ${subject} failed: ${error.message} (${error.code})`,
  );
}
