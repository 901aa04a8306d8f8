import { readFileSync } from 'node:fs';
import {
  connect,
  credsAuthenticator,
  Events,
  nkeyAuthenticator,
  type ConnectionOptions,
  type NatsConnection,
} from 'nats';
import type { NatsSecurity } from '@argus/config';

export type { NatsConnection };

export interface NatsConnectOptions {
  servers: string[];
  /** Shown in the server's connection list (`nats server report connections`). */
  name: string;
  /** Credentials and TLS (NATS_USER, NATS_CREDS, NATS_TLS_* …); none for a local, open server. */
  security?: NatsSecurity;
}

/**
 * One connection per process for requests and JetStream. It reconnects forever: a NATS restart must never take a
 * service down, and in-flight requests fail fast through their own timeouts instead.
 */
export async function connectNats(options: NatsConnectOptions): Promise<NatsConnection> {
  const clientOptions = natsClientOptions(options);
  try {
    // One quick try first: wrong credentials or an untrusted certificate must stop the process with a reason, where
    // waiting for the server would retry them forever in silence.
    return await connect({ ...clientOptions, waitOnFirstConnect: false });
  } catch (error) {
    if (isRefusal(error)) {
      throw new Error(
        `NATS at ${options.servers.join(', ')} refused ${options.name}: ${describe(error)}. ` +
          'Check NATS_USER/NATS_PASSWORD, NATS_TOKEN, NATS_NKEY_SEED_FILE, NATS_CREDS and NATS_TLS_*.',
      );
    }
    return connect(clientOptions);
  }
}

/** Authorization and TLS failures: the server is there and said no, so waiting cannot help. */
function isRefusal(error: unknown): boolean {
  const raw = (error as { code?: unknown }).code;
  const code = typeof raw === 'string' ? raw : '';
  return (
    /AUTHORIZATION|AUTHENTICATION|PERMISSION|TLS|CERT|VERIFY|SELF_SIGNED/i.test(code) ||
    /authorization|authentication|certificate/i.test(describe(error))
  );
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
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
    // Otherwise every request and JetStream call captures a stack (new Error) and builds a timeout error up front:
    // 4–5% of a busy gateway's and worker's main thread in a profile. Our errors carry their own context.
    noAsyncTraces: true,
    ...securityOptions(options.security),
  };
}

/** Files are read here, at connect time, so a rotated Secret takes effect on the next start. */
export function securityOptions(security: NatsSecurity | undefined): Partial<ConnectionOptions> {
  if (!security) return {};
  const options: Partial<ConnectionOptions> = {};
  if (security.user !== undefined) {
    options.user = security.user;
    options.pass = security.password;
  }
  if (security.token !== undefined) options.token = security.token;
  if (security.nkeySeedFile !== undefined) {
    options.authenticator = nkeyAuthenticator(
      new TextEncoder().encode(readFileSync(security.nkeySeedFile, 'utf8').trim()),
    );
  }
  if (security.credsFile !== undefined) {
    options.authenticator = credsAuthenticator(new Uint8Array(readFileSync(security.credsFile)));
  }
  if (security.tls) options.tls = { ...security.tls };
  return options;
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
