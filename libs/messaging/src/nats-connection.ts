import { connect, Events, type ConnectionOptions, type NatsConnection } from 'nats';

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

/** Connection events for metrics; messaging itself stays free of prom-client. */
export interface ConnectionObserver {
  connectionChanged(up: boolean): void;
  reconnected(): void;
}

/** Reports the connection's state now and on every disconnect, reconnect and close, until it closes. */
export function watchConnection(connection: NatsConnection, observer: ConnectionObserver): void {
  observer.connectionChanged(isConnected(connection));
  void (async () => {
    for await (const status of connection.status()) {
      if (status.type === Events.Disconnect) observer.connectionChanged(false);
      if (status.type === Events.Reconnect) {
        observer.connectionChanged(true);
        observer.reconnected();
      }
    }
  })();
  void connection.closed().then(() => {
    observer.connectionChanged(false);
  });
}
