import type { Consumer, JsMsg, NatsConnection } from 'nats';

/** A pull waits this long for messages before it asks again; also the longest a stop waits for a pull. */
const FETCH_EXPIRES_MS = 2_000;
/** Pause after a failed pull (NATS restarting, consumer missing) before trying again. */
export const PULL_RETRY_MS = 500;

export interface DurablePullOptions {
  stream: string;
  consumer: string;
  maxInFlight: number;
  /**
   * Creates what the pull needs (streams, buckets, the consumer). Runs before the first pull and again after a failed
   * one, so a process that starts while JetStream is unreachable starts pulling once it is back.
   */
  prepare?(): Promise<void>;
  /** Settles the message (ack, nak or term); a throw leaves it for redelivery after a short pause. */
  handle(msg: JsMsg): Promise<void>;
  /** Pull and handler failures; the loop carries on after a pause. */
  onError?(error: unknown): void;
}

export interface DurablePuller {
  /** Stops pulling, lets the last pull and the work in flight finish, then resolves. */
  stop(): Promise<void>;
}

/**
 * Pulls a durable consumer with at most `maxInFlight` messages in this process at once: each pull asks only for as
 * many messages as there are free slots, so nothing waits in a client buffer while its ack timer runs.
 */
export function pullDurable(connection: NatsConnection, options: DurablePullOptions): DurablePuller {
  const state = { stopping: false };
  const isStopping = () => state.stopping;
  let inFlight = 0;
  let wake: (() => void) | undefined;
  const running = new Set<Promise<void>>();
  const released = () => {
    inFlight -= 1;
    wake?.();
  };
  const slotFree = () =>
    new Promise<void>((resolve) => {
      if (inFlight < options.maxInFlight || state.stopping) resolve();
      else wake = resolve;
    });
  let consumer: Consumer | undefined;
  const loop = (async () => {
    while (!state.stopping) {
      await slotFree();
      wake = undefined;
      if (isStopping()) break;
      try {
        // Looked up once and again only after a failure (e.g. the consumer was recreated).
        if (!consumer) await options.prepare?.();
        consumer ??= await connection.jetstream().consumers.get(options.stream, options.consumer);
        const batch = await consumer.fetch({
          max_messages: options.maxInFlight - inFlight,
          expires: FETCH_EXPIRES_MS,
        });
        for await (const msg of batch) {
          inFlight += 1;
          const work = options
            .handle(msg)
            .catch((error: unknown) => {
              msg.nak(PULL_RETRY_MS);
              options.onError?.(error);
            })
            .finally(released);
          running.add(work);
          void work.finally(() => running.delete(work));
        }
      } catch (error) {
        consumer = undefined;
        options.onError?.(error);
        await delay(PULL_RETRY_MS);
      }
    }
  })();
  return {
    async stop() {
      state.stopping = true;
      wake?.();
      await loop;
      await Promise.allSettled([...running]);
    },
  };
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
