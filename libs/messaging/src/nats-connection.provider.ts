import { Inject, type OnApplicationShutdown } from '@nestjs/common';
import type { NatsConnection } from 'nats';

/** DI token for the process' one raw NATS connection (requests, JetStream). */
export const NATS_CONNECTION = Symbol('NATS_CONNECTION');

/** Drains the connection on shutdown so replies already in flight are still delivered. */
export class NatsConnectionCloser implements OnApplicationShutdown {
  constructor(@Inject(NATS_CONNECTION) private readonly connection: NatsConnection) {}

  async onApplicationShutdown(): Promise<void> {
    if (!this.connection.isClosed()) await this.connection.drain();
  }
}
