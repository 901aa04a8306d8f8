import { randomUUID } from 'node:crypto';
import { ErrorCode as NatsErrorCode, JSONCodec, NatsError, type NatsConnection } from 'nats';
import { context, SpanKind } from '@opentelemetry/api';
import { MESSAGE_HEADERS } from '@argus/contracts';
import { inSpan, injectTraceHeaders } from '@argus/telemetry';
import { asMessageHeaders, createHeaders } from './nats-headers';
import { MessagingError, type MessagingFailure } from './messaging-error';

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

/** Round trips for the request-latency metric; `outcome` is `ok` or the messaging failure. */
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
 */
export class NatsTaskClient {
  constructor(
    private readonly connection: NatsConnection,
    private readonly observer?: RequestObserver,
  ) {}

  async request(subject: string, payload: unknown, options: TaskRequestOptions): Promise<unknown> {
    const started = performance.now();
    let outcome = 'ok';
    try {
      return await this.traced(subject, payload, options);
    } catch (error) {
      outcome = error instanceof MessagingError ? error.failure : 'error';
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
    try {
      const msg = await this.connection.request(subject, data, {
        timeout: timeoutMs,
        headers: hdrs,
        noMux: false,
      });
      return codec.decode(msg.data);
    } catch (error) {
      throw toMessagingError(error, subject, timeoutMs);
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
