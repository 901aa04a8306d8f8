import type { ConsumerConfig, JetStreamManager, StreamConfig } from 'nats';

/**
 * The duplicate window a job stream gets: JetStream refuses one longer than the stream's max age (the job TTL), and a
 * message id cannot be republished for a job that no longer exists anyway, so the TTL caps it.
 */
export function effectiveDuplicateWindowSeconds(settings: {
  duplicateWindowSeconds: number;
  ttlSeconds: number;
}): number {
  return Math.min(settings.duplicateWindowSeconds, settings.ttlSeconds);
}

/** Creates the stream, or updates it to this config when it exists; safe when several processes race. */
export async function upsertStream(
  jsm: JetStreamManager,
  config: Partial<StreamConfig> & { name: string },
): Promise<void> {
  let addError: unknown;
  try {
    await jsm.streams.info(config.name);
  } catch {
    try {
      await jsm.streams.add(config);
      return;
    } catch (error) {
      // Another process created it between the two calls (update below), or the server refused the config.
      addError = error;
    }
  }
  try {
    await jsm.streams.update(config.name, config);
  } catch (error) {
    throw layoutError(`stream ${config.name}`, addError, error);
  }
}

/** Creates the durable consumer, or updates it to this config when it exists; safe when several processes race. */
export async function upsertConsumer(
  jsm: JetStreamManager,
  stream: string,
  config: Partial<ConsumerConfig> & { durable_name: string },
): Promise<void> {
  let addError: unknown;
  try {
    await jsm.consumers.info(stream, config.durable_name);
  } catch {
    try {
      await jsm.consumers.add(stream, config);
      return;
    } catch (error) {
      // Created concurrently (update below), or the server refused the config.
      addError = error;
    }
  }
  try {
    await jsm.consumers.update(stream, config.durable_name, config);
  } catch (error) {
    throw layoutError(`consumer ${stream}/${config.durable_name}`, addError, error);
  }
}

/**
 * When the create was refused, the update that follows fails with a bare "not found", which hides why: name the
 * object and keep the create's reason (e.g. "duplicates window can not be larger then max age").
 */
function layoutError(what: string, addError: unknown, updateError: unknown): Error {
  const message = (error: unknown) => (error instanceof Error ? error.message : String(error));
  if (addError === undefined) return new Error(`could not update ${what}: ${message(updateError)}`);
  return new Error(
    `could not create ${what}: ${message(addError)} (and updating it failed: ${message(updateError)})`,
  );
}
