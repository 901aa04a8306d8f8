import { headers as natsHeaders, type MsgHdrs } from 'nats';

export type { MsgHdrs };

/** A get/set/keys view of NATS headers; OpenTelemetry's default carrier accessors cannot read MsgHdrs. */
export interface MessageHeaders {
  get(key: string): string;
  set(key: string, value: string): void;
  keys(): string[];
}

export function createHeaders(): MsgHdrs {
  return natsHeaders();
}

export function asMessageHeaders(hdrs: MsgHdrs | undefined): MessageHeaders | undefined {
  if (!hdrs) return undefined;
  return {
    get: (key) => hdrs.get(key),
    set: (key, value) => {
      hdrs.set(key, value);
    },
    keys: () => [...hdrs.keys()],
  };
}
