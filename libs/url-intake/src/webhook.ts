import { createHmac, timingSafeEqual } from 'node:crypto';
import { ExponentialBackoff, handleWhen, retry } from 'cockatiel';
import { ArgusError } from '@argus/contracts';
import type { SafeFetcher } from './safe-fetch';

/**
 * Webhook signatures, in the scheme Stripe made familiar: `Argus-Signature: t=<unix seconds>,v1=<hex>` where the hex
 * is HMAC-SHA256(secret, "<t>.<raw body>"). The timestamp inside the signed text lets a receiver refuse replays.
 */
export const SIGNATURE_HEADER = 'argus-signature';

export function signPayload(secret: string, body: string, timestamp = Math.floor(Date.now() / 1000)): string {
  const digest = createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
  return `t=${timestamp},v1=${digest}`;
}

/** What a receiver runs (docs/jobs.md shows it stand-alone): constant-time compare, bounded clock skew. */
export function verifySignature(
  secret: string,
  body: string,
  header: string,
  toleranceSeconds = 300,
  now = Math.floor(Date.now() / 1000),
): boolean {
  const parts: Partial<Record<string, string>> = Object.fromEntries(
    header.split(',').map((part) => {
      const [key, ...value] = part.trim().split('=');
      return [key, value.join('=')];
    }),
  );
  const timestamp = Number(parts.t);
  const given = parts.v1 ?? '';
  if (!Number.isInteger(timestamp) || Math.abs(now - timestamp) > toleranceSeconds) return false;
  const expected = signPayload(secret, body, timestamp).split('v1=')[1] ?? '';
  return given.length === expected.length && timingSafeEqual(Buffer.from(given), Buffer.from(expected));
}

/** One attempt to deliver one event, as the job shows it. */
export interface DeliveryAttempt {
  attempt: number;
  at: string;
  status?: number;
  error?: string;
  durationMs: number;
}

export interface WebhookOptions {
  secret: string;
  /** Attempts in all, the first included. */
  attempts: number;
  initialDelayMs: number;
  maxDelayMs: number;
}

/**
 * Delivers events to a caller's URL: signed, through the SSRF-safe fetcher, retried with exponential backoff on
 * network errors, 408, 429 and 5xx. Other 4xx answers are final: the receiver refused the event.
 */
export class WebhookSender {
  constructor(
    private readonly fetcher: Pick<SafeFetcher, 'post'>,
    private readonly options: WebhookOptions,
  ) {}

  async deliver(
    url: string,
    event: Record<string, unknown>,
  ): Promise<{ delivered: boolean; attempts: DeliveryAttempt[] }> {
    const body = JSON.stringify(event);
    const attempts: DeliveryAttempt[] = [];
    const policy = retry(
      handleWhen((error) => !(error instanceof StopRetrying)),
      {
        maxAttempts: Math.max(0, this.options.attempts - 1),
        backoff: new ExponentialBackoff({
          initialDelay: this.options.initialDelayMs,
          maxDelay: this.options.maxDelayMs,
        }),
      },
    );
    try {
      await policy.execute(async ({ attempt }) => {
        const started = performance.now();
        const record: DeliveryAttempt = { attempt: attempt + 1, at: new Date().toISOString(), durationMs: 0 };
        attempts.push(record);
        try {
          const status = await this.fetcher.post(url, body, {
            'content-type': 'application/json',
            [SIGNATURE_HEADER]: signPayload(this.options.secret, body),
          });
          record.status = status;
          if (status >= 200 && status < 300) return;
          const retryable = status === 408 || status === 429 || status >= 500;
          record.error = `HTTP ${status}`;
          if (!retryable) throw new FinalRefusal(status);
          throw new Error(`HTTP ${status}`);
        } catch (error) {
          record.error ??= error instanceof Error ? error.message : String(error);
          // A refusal by the receiver or by our address checks is final; retrying cannot change it.
          if (
            error instanceof FinalRefusal ||
            (error instanceof ArgusError && error.code === 'URL_NOT_ALLOWED')
          )
            throw new StopRetrying(error);
          throw error;
        } finally {
          record.durationMs = Math.round(performance.now() - started);
        }
      });
      return { delivered: true, attempts };
    } catch {
      return { delivered: false, attempts };
    }
  }
}

class FinalRefusal extends Error {
  constructor(readonly status: number) {
    super(`HTTP ${status}`);
  }
}

/** The one error the retry policy does not handle: it ends delivery at once. */
class StopRetrying extends Error {
  constructor(readonly reason: unknown) {
    super('final');
  }
}
