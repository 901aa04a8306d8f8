import { JSONCodec, type Msg, type NatsConnection, type Subscription, type SubscriptionOptions } from 'nats';
import { TASK_HEARTBEAT } from '@argus/contracts';
import {
  HeartbeatWatch,
  startTaskHeartbeat,
  WorkerLostError,
  type HeartbeatLoss,
  type HeartbeatPublisher,
} from './task-heartbeat';

const codec = JSONCodec();

function recordingPublisher() {
  const published: Array<{ subject: string; data: unknown }> = [];
  const publisher: HeartbeatPublisher = {
    publish: (subject, data) => {
      published.push({ subject, data: data instanceof Uint8Array ? codec.decode(data) : data });
    },
  };
  return { publisher, published };
}

/** A subscribe() that hands the test the callback, so it can deliver heartbeats by hand. */
function fakeSubscriber() {
  const subscriptions: Array<{ subject: string; deliver: (subject: string, data: unknown) => void }> = [];
  const connection: Pick<NatsConnection, 'subscribe'> = {
    subscribe: (subject: string, options?: SubscriptionOptions) => {
      subscriptions.push({
        subject,
        deliver: (to, data) => {
          options?.callback?.(null, { subject: to, data: codec.encode(data) } as unknown as Msg);
        },
      });
      return { unsubscribe: () => undefined } as unknown as Subscription;
    },
  };
  return { connection, subscriptions };
}

beforeEach(() => {
  jest.useFakeTimers();
});
afterEach(() => {
  jest.useRealTimers();
});

describe('startTaskHeartbeat', () => {
  it('beats at once and then every interval, announcing the interval, until stopped', () => {
    const { publisher, published } = recordingPublisher();
    const stop = startTaskHeartbeat(publisher, '_INBOX.abc.1', 1_000);
    expect(published).toEqual([{ subject: '_INBOX.abc.1', data: { intervalMs: 1_000 } }]);
    jest.advanceTimersByTime(2_999);
    expect(published).toHaveLength(3);
    stop();
    jest.advanceTimersByTime(10_000);
    expect(published).toHaveLength(3);
  });

  it.each([
    ['no subject', undefined, 1_000],
    ['an empty subject', '', 1_000],
    ['a subject that is not an inbox', 'argus.v1.ocr.extract', 1_000],
    ['a wildcard', '_INBOX.>', 1_000],
    ['interval 0 (heartbeats off)', '_INBOX.abc.1', 0],
  ])('sends nothing for %s', (_case, subject, intervalMs) => {
    const { publisher, published } = recordingPublisher();
    const stop = startTaskHeartbeat(publisher, subject, intervalMs);
    jest.advanceTimersByTime(5_000);
    stop();
    expect(published).toEqual([]);
  });

  it('keeps going when a publish throws (closed connection)', () => {
    let calls = 0;
    const stop = startTaskHeartbeat(
      {
        publish: () => {
          calls += 1;
          throw new Error('closed');
        },
      },
      '_INBOX.x.2',
      500,
    );
    jest.advanceTimersByTime(1_000);
    stop();
    expect(calls).toBe(3);
  });
});

describe('HeartbeatWatch', () => {
  it('subscribes once, to a wildcard under its own inbox, and hands out one subject per request', () => {
    const { connection, subscriptions } = fakeSubscriber();
    const watch = new HeartbeatWatch(connection);
    const a = watch.watch(() => undefined);
    const b = watch.watch(() => undefined);
    expect(subscriptions).toHaveLength(1);
    expect(subscriptions[0]?.subject).toMatch(/^_INBOX\.\w+\.\*$/);
    expect(a.subject).not.toBe(b.subject);
    for (const { subject } of [a, b])
      expect(subject.startsWith(subscriptions[0].subject.slice(0, -1))).toBe(true);
    expect(watch.size).toBe(2);
    a.stop();
    b.stop();
    expect(watch.size).toBe(0);
  });

  it('is not armed until the first heartbeat: a worker that sends none is held to the deadline only', () => {
    const { connection } = fakeSubscriber();
    const lost = jest.fn();
    const watched = new HeartbeatWatch(connection).watch(lost);
    jest.advanceTimersByTime(60_000);
    expect(lost).not.toHaveBeenCalled();
    watched.stop();
  });

  it('gives the request up after missedBeats intervals of silence, with the interval the worker announced', () => {
    const { connection, subscriptions } = fakeSubscriber();
    const losses: HeartbeatLoss[] = [];
    const watched = new HeartbeatWatch(connection).watch((loss) => losses.push(loss));
    const deliver = subscriptions[0].deliver;
    deliver(watched.subject, { intervalMs: 500 });
    for (let i = 0; i < 10; i += 1) {
      jest.advanceTimersByTime(500);
      deliver(watched.subject, { intervalMs: 500 });
    }
    expect(losses).toEqual([]);
    jest.advanceTimersByTime(500 * TASK_HEARTBEAT.missedBeats - 1);
    expect(losses).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(losses).toEqual([{ silentMs: 500 * TASK_HEARTBEAT.missedBeats, intervalMs: 500 }]);
    // Once only, and the entry is gone.
    jest.advanceTimersByTime(10_000);
    expect(losses).toHaveLength(1);
    watched.stop();
  });

  it('never reports a request that was stopped, and ignores heartbeats for unknown subjects', () => {
    const { connection, subscriptions } = fakeSubscriber();
    const watch = new HeartbeatWatch(connection);
    const lost = jest.fn();
    const watched = watch.watch(lost);
    subscriptions[0].deliver(watched.subject, { intervalMs: 100 });
    watched.stop();
    subscriptions[0].deliver(`${watched.subject}x`, { intervalMs: 100 });
    jest.advanceTimersByTime(10_000);
    expect(lost).not.toHaveBeenCalled();
    expect(watch.size).toBe(0);
  });

  it('falls back to the default interval for a heartbeat outside the contract', () => {
    const { connection, subscriptions } = fakeSubscriber();
    const lost = jest.fn();
    const watched = new HeartbeatWatch(connection).watch(lost);
    subscriptions[0].deliver(watched.subject, { intervalMs: 'soon' });
    jest.advanceTimersByTime(TASK_HEARTBEAT.defaultIntervalMs * TASK_HEARTBEAT.missedBeats - 1);
    expect(lost).not.toHaveBeenCalled();
    jest.advanceTimersByTime(1);
    expect(lost).toHaveBeenCalledTimes(1);
    watched.stop();
  });

  it('reads beats that arrived while the gateway itself was busy before it gives a worker up', () => {
    const { connection, subscriptions } = fakeSubscriber();
    const lost = jest.fn();
    const watched = new HeartbeatWatch(connection).watch(lost);
    const deliver = subscriptions[0].deliver;
    deliver(watched.subject, { intervalMs: 1_000 });
    // The gateway's event loop is held for 5 s: the clock moves, no timer or socket read runs meanwhile.
    jest.setSystemTime(Date.now() + 5_000);
    jest.advanceTimersByTime(TASK_HEARTBEAT.missedBeats * 1_000);
    expect(lost).not.toHaveBeenCalled();
    // The worker's beat was waiting in the socket: it is read next, and the request lives on.
    deliver(watched.subject, { intervalMs: 1_000 });
    jest.advanceTimersByTime(TASK_HEARTBEAT.missedBeats * 1_000 - 1);
    expect(lost).not.toHaveBeenCalled();
    // Silence with the loop free is a loss, as before.
    jest.advanceTimersByTime(1);
    expect(lost).toHaveBeenCalledTimes(1);
  });

  it('gives a worker up one turn late when the gateway was busy and no beat had arrived', () => {
    const { connection, subscriptions } = fakeSubscriber();
    const lost = jest.fn();
    const watched = new HeartbeatWatch(connection).watch(lost);
    subscriptions[0].deliver(watched.subject, { intervalMs: 1_000 });
    jest.setSystemTime(Date.now() + 5_000);
    jest.advanceTimersByTime(TASK_HEARTBEAT.missedBeats * 1_000);
    expect(lost).not.toHaveBeenCalled();
    jest.advanceTimersByTime(1);
    expect(lost).toHaveBeenCalledTimes(1);
  });

  it('names the loss as a retryable disconnected failure', () => {
    const error = new WorkerLostError('argus.v1.ocr.extract', { silentMs: 3_000, intervalMs: 1_000 });
    expect(error.failure).toBe('disconnected');
    expect(error.message).toContain('no heartbeat for 3000 ms');
  });
});

describe('HeartbeatWatch.connectionLost', () => {
  it('arms requests that never heard a beat, so a lost connection ends them after the missed beats', () => {
    const { connection, subscriptions } = fakeSubscriber();
    const watch = new HeartbeatWatch(connection);
    const losses: HeartbeatLoss[] = [];
    const silent = watch.watch((loss) => losses.push(loss));
    const revived = watch.watch(() => losses.push({ silentMs: -1, intervalMs: -1 }));
    jest.advanceTimersByTime(60_000);
    expect(losses).toEqual([]);
    watch.connectionLost(500);
    jest.advanceTimersByTime(1_000);
    // A worker that beats again after the reconnect keeps its request.
    subscriptions[0]?.deliver(revived.subject, { intervalMs: 500 });
    jest.advanceTimersByTime(600);
    expect(losses).toEqual([{ silentMs: 1_500, intervalMs: 500 }]);
    expect(watch.size).toBe(1);
    silent.stop();
    revived.stop();
  });
});

describe('HeartbeatWatch.connectionRestored', () => {
  it('arms requests at once for a while after a reconnect, then by their first beat again', () => {
    const { connection } = fakeSubscriber();
    const watch = new HeartbeatWatch(connection);
    const losses: string[] = [];
    watch.connectionRestored(5_000);
    const early = watch.watch(() => losses.push('early'));
    jest.advanceTimersByTime(3 * TASK_HEARTBEAT.defaultIntervalMs);
    expect(losses).toEqual(['early']);
    jest.advanceTimersByTime(5_000);
    const later = watch.watch(() => losses.push('later'));
    jest.advanceTimersByTime(60_000);
    expect(losses).toEqual(['early']);
    early.stop();
    later.stop();
  });
});
