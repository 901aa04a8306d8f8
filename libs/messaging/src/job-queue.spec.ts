import {
  nanos,
  type ConsumerConfig,
  type JetStreamManager,
  type NatsConnection,
  type StreamConfig,
} from 'nats';
import { DLQ_STREAM, JOB_CONSUMERS, JOB_STREAMS, TASKS } from '@argus/contracts';
import { effectiveDuplicateWindowSeconds, JobQueue, type JobQueueSettings } from './job-queue';

const SETTINGS: JobQueueSettings = {
  ttlSeconds: 3600,
  maxDeliver: 5,
  ackWaitMs: 4000,
  duplicateWindowSeconds: 7200,
};

/** A JetStream manager on an empty server that checks stream configs the way nats-server does. */
function emptyServer(refuse?: (config: Partial<StreamConfig>) => string | undefined) {
  const streams = new Map<string, Partial<StreamConfig>>();
  const consumers = new Map<string, Partial<ConsumerConfig>>();
  const jsm = {
    streams: {
      info: (name: string) =>
        streams.has(name)
          ? Promise.resolve({ config: streams.get(name) })
          : Promise.reject(new Error('stream not found')),
      add: (config: Partial<StreamConfig> & { name: string }) => {
        const reason =
          refuse?.(config) ??
          ((config.duplicate_window ?? 0) > (config.max_age ?? Infinity)
            ? 'duplicates window can not be larger then max age'
            : undefined);
        if (reason) return Promise.reject(new Error(reason));
        streams.set(config.name, config);
        return Promise.resolve({ config });
      },
      update: (name: string, config: Partial<StreamConfig>) =>
        streams.has(name) ? Promise.resolve({ config }) : Promise.reject(new Error('stream not found')),
    },
    consumers: {
      info: (stream: string, name: string) =>
        consumers.has(`${stream}/${name}`)
          ? Promise.resolve({ config: consumers.get(`${stream}/${name}`) })
          : Promise.reject(new Error('consumer not found')),
      add: (stream: string, config: Partial<ConsumerConfig>) => {
        consumers.set(`${stream}/${config.durable_name ?? ''}`, config);
        return Promise.resolve({ config });
      },
      update: (stream: string, name: string, config: Partial<ConsumerConfig>) => {
        consumers.set(`${stream}/${name}`, config);
        return Promise.resolve({ config });
      },
    },
  };
  const connection = { jetstreamManager: () => Promise.resolve(jsm as unknown as JetStreamManager) };
  return { streams, consumers, connection: connection as unknown as NatsConnection };
}

describe('JobQueue.ensure', () => {
  it('caps the duplicate window at the job TTL, which JetStream requires (max age >= duplicate window)', async () => {
    const server = emptyServer();
    await new JobQueue(server.connection, SETTINGS).ensure();
    for (const name of [...TASKS.map((task) => JOB_STREAMS[task]), DLQ_STREAM]) {
      expect(server.streams.get(name)).toMatchObject({
        max_age: nanos(3600 * 1000),
        duplicate_window: nanos(3600 * 1000),
      });
    }
    expect(effectiveDuplicateWindowSeconds(SETTINGS)).toBe(3600);
    expect(effectiveDuplicateWindowSeconds({ ...SETTINGS, ttlSeconds: 604_800 })).toBe(7200);
  });

  it('keeps the duplicate window when the TTL is longer', async () => {
    const server = emptyServer();
    await new JobQueue(server.connection, { ...SETTINGS, ttlSeconds: 604_800 }).ensure();
    expect(server.streams.get(DLQ_STREAM)?.duplicate_window).toBe(nanos(7200 * 1000));
  });

  it("names the server's reason when it refuses to create a stream, not the update's 'stream not found'", async () => {
    const server = emptyServer(() => 'insufficient storage resources available');
    const ensure = new JobQueue(server.connection, SETTINGS).ensure();
    await expect(ensure).rejects.toThrow(
      `could not create stream ${JOB_STREAMS[TASKS[0]]}: insufficient storage resources available`,
    );
  });

  it('sets no consumer backoff, so a nak delay is the redelivery delay, and clears one an older version set', async () => {
    // nats-server measures a nak's delay against the backoff step rather than the ack wait: with a 1×/2×/4× ack
    // wait backoff, a 400 ms retry of a busy item came back after ack wait + 400 ms, then 3 × ack wait + 400 ms.
    const server = emptyServer();
    const key = `${JOB_STREAMS.moderation}/${JOB_CONSUMERS.moderation}`;
    server.consumers.set(key, {
      durable_name: JOB_CONSUMERS.moderation,
      backoff: [nanos(4000), nanos(8000)],
    });
    await new JobQueue(server.connection, { ...SETTINGS, maxDeliver: 5 }).ensure();
    for (const task of TASKS) {
      expect(server.consumers.get(`${JOB_STREAMS[task]}/${JOB_CONSUMERS[task]}`)).toMatchObject({
        ack_wait: nanos(4000),
        max_deliver: 5,
        backoff: [],
      });
    }
  });

  it('can be retried after a failure', async () => {
    let refuse = true;
    const server = emptyServer(() => (refuse ? 'server is starting' : undefined));
    const queue = new JobQueue(server.connection, SETTINGS);
    await expect(queue.ensure()).rejects.toThrow('server is starting');
    refuse = false;
    await expect(queue.ensure()).resolves.toBeUndefined();
    expect(server.streams.has(DLQ_STREAM)).toBe(true);
  });
});
