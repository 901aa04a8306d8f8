import type { ConsumerConfig, JetStreamManager, StreamConfig } from 'nats';

/** Creates the stream, or updates it to this config when it exists; safe when several processes race. */
export async function upsertStream(
  jsm: JetStreamManager,
  config: Partial<StreamConfig> & { name: string },
): Promise<void> {
  try {
    await jsm.streams.info(config.name);
  } catch {
    try {
      await jsm.streams.add(config);
      return;
    } catch {
      // Another process created it between the two calls; update below.
    }
  }
  await jsm.streams.update(config.name, config);
}

/** Creates the durable consumer, or updates it to this config when it exists; safe when several processes race. */
export async function upsertConsumer(
  jsm: JetStreamManager,
  stream: string,
  config: Partial<ConsumerConfig> & { durable_name: string },
): Promise<void> {
  try {
    await jsm.consumers.info(stream, config.durable_name);
  } catch {
    try {
      await jsm.consumers.add(stream, config);
      return;
    } catch {
      // Created concurrently; update below.
    }
  }
  await jsm.consumers.update(stream, config.durable_name, config);
}
