import { connect, type ConnectionOptions, type NatsConnection } from 'nats';

export type { NatsConnection };

export interface NatsConnectOptions {
  servers: string[];
  /** Shown in the server's connection list (`nats server report connections`). */
  name: string;
}

/**
 * One connection per process for requests and JetStream. It reconnects forever: a NATS restart must never take a
 * service down, and in-flight requests fail fast through their own timeouts instead.
 */
export async function connectNats(options: NatsConnectOptions): Promise<NatsConnection> {
  return connect(natsClientOptions(options));
}

export function natsClientOptions(options: NatsConnectOptions): ConnectionOptions {
  return {
    servers: options.servers,
    name: options.name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    // A process that boots before NATS waits for it instead of crash-looping.
    waitOnFirstConnect: true,
    pingInterval: 10_000,
  };
}

export function isConnected(connection: NatsConnection | undefined): boolean {
  return connection !== undefined && !connection.isClosed() && connection.info !== undefined;
}
