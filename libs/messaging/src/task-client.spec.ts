import {
  Events,
  JSONCodec,
  type Msg,
  type MsgHdrs,
  type RequestOptions,
  type Status,
  type Subscription,
  type SubscriptionOptions,
} from 'nats';
import { MESSAGE_HEADERS, TASK_HEARTBEAT } from '@argus/contracts';
import { MessagingError } from './messaging-error';
import { NatsTaskClient, type RequestObserver, type TaskClientConnection } from './task-client';
import { startTaskHeartbeat, WorkerLostError } from './task-heartbeat';

const codec = JSONCodec();

/** A push-driven async iterable of connection status events. */
function statusStream() {
  const queued: Status[] = [];
  let wake: (() => void) | undefined;
  const iterable: AsyncIterable<Status> = {
    async *[Symbol.asyncIterator]() {
      for (;;) {
        while (queued.length > 0) yield queued.shift()!;
        await new Promise<void>((resolve) => (wake = resolve));
      }
    },
  };
  return {
    iterable,
    emit(type: Events) {
      queued.push({ type, data: '' });
      wake?.();
    },
  };
}

/**
 * A NATS connection whose request() is answered by `worker`, which gets the request's headers and a heartbeat
 * publisher bound to the client's heartbeat subscription.
 */
function fakeConnection(
  worker: (headers: MsgHdrs, beat: (subject: string, data: Uint8Array) => void) => Promise<unknown>,
) {
  const status = statusStream();
  let heartbeatCallback: ((error: null, msg: Msg) => void) | undefined;
  const beat = (subject: string, data: Uint8Array) => {
    heartbeatCallback?.(null, { subject, data } as unknown as Msg);
  };
  const sent: Array<{ subject: string; headers: MsgHdrs }> = [];
  const connection: TaskClientConnection = {
    isClosed: () => false,
    status: () => status.iterable,
    subscribe: (_subject: string, options?: SubscriptionOptions) => {
      heartbeatCallback = options?.callback;
      return { unsubscribe: () => undefined } as unknown as Subscription;
    },
    request: async (subject: string, _data?: Uint8Array, options?: RequestOptions) => {
      const headers = options!.headers!;
      sent.push({ subject, headers });
      const reply = await worker(headers, beat);
      return { data: codec.encode({ id: 'x', response: reply }) } as unknown as Msg;
    },
  };
  return { connection, status, sent };
}

/** A heartbeat publisher that hands every beat to the client's subscription. */
function beatingTo(beat: (subject: string, data: Uint8Array) => void) {
  return {
    publish: (subject: string, data?: unknown) => {
      beat(subject, data instanceof Uint8Array ? data : new Uint8Array());
    },
  };
}

const never = () => new Promise<never>(() => undefined);

beforeEach(() => {
  jest.useFakeTimers();
});
afterEach(() => {
  jest.useRealTimers();
});

describe('NatsTaskClient', () => {
  it('sends the budget, the request id and a heartbeat subject, and unwraps the reply', async () => {
    const { connection, sent } = fakeConnection(() => Promise.resolve({ ok: true }));
    const client = new NatsTaskClient(connection);
    await expect(
      client.request('argus.v1.ocr.extract', {}, { timeoutMs: 1234.7, requestId: 'r1' }),
    ).resolves.toEqual({ ok: true });
    const headers = sent[0].headers;
    expect(headers.get(MESSAGE_HEADERS.timeoutMs)).toBe('1234');
    expect(headers.get(MESSAGE_HEADERS.requestId)).toBe('r1');
    expect(headers.get(TASK_HEARTBEAT.subjectHeader)).toMatch(/^_INBOX\./);
  });

  it('fails a request whose worker stops beating after missedBeats intervals, long before the deadline', async () => {
    let stopBeating: () => void = () => undefined;
    const { connection } = fakeConnection((headers, beat) => {
      stopBeating = startTaskHeartbeat(beatingTo(beat), headers.get(TASK_HEARTBEAT.subjectHeader), 1_000);
      return never();
    });
    const outcomes: string[] = [];
    const observer: RequestObserver = { requestDone: (_subject, outcome) => outcomes.push(outcome) };
    const client = new NatsTaskClient(connection, observer);
    const pending = client.request('argus.v1.ocr.extract', {}, { timeoutMs: 120_000 });
    const settled = pending.catch((error: unknown) => error);
    await jest.advanceTimersByTimeAsync(10_000);
    // Alive: still waiting after 10 s of heartbeats.
    expect(outcomes).toEqual([]);
    stopBeating(); // kill -9
    await jest.advanceTimersByTimeAsync(1_000 * TASK_HEARTBEAT.missedBeats + 1_000);
    const error = await settled;
    expect(error).toBeInstanceOf(WorkerLostError);
    expect(error).toMatchObject({ failure: 'disconnected' });
    expect(outcomes).toEqual(['worker_lost']);
  });

  it('keeps a slow worker that keeps beating until it answers', async () => {
    const { connection } = fakeConnection(async (headers, beat) => {
      const stop = startTaskHeartbeat(beatingTo(beat), headers.get(TASK_HEARTBEAT.subjectHeader), 1_000);
      await new Promise((resolve) => setTimeout(resolve, 20_000));
      stop();
      return 'done';
    });
    const client = new NatsTaskClient(connection);
    const pending = client.request('argus.v1.ocr.extract', {}, { timeoutMs: 60_000 });
    await jest.advanceTimersByTimeAsync(20_000);
    await expect(pending).resolves.toBe('done');
  });

  it('fails at once while the connection is down, and sends again after the reconnect', async () => {
    const { connection, status, sent } = fakeConnection(() => Promise.resolve('ok'));
    const client = new NatsTaskClient(connection);
    status.emit(Events.Disconnect);
    await jest.advanceTimersByTimeAsync(0);
    const down = await client.request('s', {}, { timeoutMs: 5_000 }).catch((error: unknown) => error);
    expect(down).toBeInstanceOf(MessagingError);
    expect(down).toMatchObject({ failure: 'disconnected' });
    expect(sent).toEqual([]);
    status.emit(Events.Reconnect);
    await jest.advanceTimersByTimeAsync(0);
    await expect(client.request('s', {}, { timeoutMs: 5_000 })).resolves.toBe('ok');
  });
});
