import { Transport, type MicroserviceOptions, type NatsContext } from '@nestjs/microservices';
import type { NatsSecurity } from '@argus/config';
import { natsClientOptions } from './nats-connection';
import { asMessageHeaders, type MessageHeaders, type MsgHdrs } from './nats-headers';

export interface WorkerTransportOptions {
  servers: string[];
  /** Queue group: without it every replica would handle every request. */
  queue: string;
  name: string;
  security?: NatsSecurity;
}

export function workerMicroserviceOptions(options: WorkerTransportOptions): MicroserviceOptions {
  return {
    transport: Transport.NATS,
    options: {
      ...natsClientOptions({ servers: options.servers, name: options.name, security: options.security }),
      queue: options.queue,
      gracefulShutdown: true,
      gracePeriod: 2_000,
    },
  };
}

/** `NatsContext.getHeaders()` returns MsgHdrs or undefined; expose it as a carrier for trace extraction. */
export function natsContextHeaders(ctx: NatsContext): MessageHeaders | undefined {
  return asMessageHeaders(ctx.getHeaders() as MsgHdrs | undefined);
}
