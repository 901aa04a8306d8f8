import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SafeFetcher } from './safe-fetch';
import { SIGNATURE_HEADER, signPayload, verifySignature, WebhookSender } from './webhook';

describe('webhook signatures', () => {
  const secret = 'whsec_test';
  const body = '{"type":"job.completed","jobId":"j1"}';

  it('verifies its own signature and refuses a changed body, another secret, or an old timestamp', () => {
    const now = 1_800_000_000;
    const header = signPayload(secret, body, now);
    expect(header).toMatch(/^t=1800000000,v1=[0-9a-f]{64}$/);
    expect(verifySignature(secret, body, header, 300, now + 10)).toBe(true);
    expect(verifySignature(secret, `${body} `, header, 300, now)).toBe(false);
    expect(verifySignature('other', body, header, 300, now)).toBe(false);
    expect(verifySignature(secret, body, header, 300, now + 301)).toBe(false);
    expect(verifySignature(secret, body, 'garbage', 300, now)).toBe(false);
  });
});

describe('WebhookSender', () => {
  let server: Server;
  let url: string;
  const statuses: number[] = [];
  const received: Array<{ body: string; signature: string }> = [];

  beforeAll(async () => {
    server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        received.push({ body, signature: String(request.headers[SIGNATURE_HEADER]) });
        response.writeHead(statuses.shift() ?? 200).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  beforeEach(() => {
    statuses.length = 0;
    received.length = 0;
  });

  const sender = (allowPrivate = true) =>
    new WebhookSender(new SafeFetcher({ maxBytes: 1024, timeoutMs: 2_000, maxRedirects: 0, allowPrivate }), {
      secret: 'whsec_test',
      attempts: 4,
      initialDelayMs: 10,
      maxDelayMs: 50,
    });

  it('signs the exact body it sends, so the receiver can verify it', async () => {
    const result = await sender().deliver(url, { type: 'job.completed', jobId: 'j1' });
    expect(result).toMatchObject({ delivered: true, attempts: [{ attempt: 1, status: 200 }] });
    const [delivery] = received;
    expect(verifySignature('whsec_test', delivery.body, delivery.signature)).toBe(true);
  });

  it('retries 5xx and 429 with backoff and logs every attempt', async () => {
    statuses.push(503, 429, 200);
    const result = await sender().deliver(url, { type: 'job.completed', jobId: 'j2' });
    expect(result.delivered).toBe(true);
    expect(result.attempts.map((attempt) => attempt.status)).toEqual([503, 429, 200]);
  });

  it('stops at a 4xx refusal, and after the last attempt', async () => {
    statuses.push(410);
    const refused = await sender().deliver(url, { type: 'x' });
    expect(refused).toMatchObject({ delivered: false, attempts: [{ status: 410, error: 'HTTP 410' }] });
    statuses.push(500, 500, 500, 500, 500);
    const exhausted = await sender().deliver(url, { type: 'x' });
    expect(exhausted.delivered).toBe(false);
    expect(exhausted.attempts).toHaveLength(4);
  });

  it('never calls a private address unless allowed, and does not retry that refusal', async () => {
    const result = await sender(false).deliver(url, { type: 'x' });
    expect(result).toMatchObject({ delivered: false, attempts: [{ attempt: 1 }] });
    expect(result.attempts[0]?.error).toContain('only public addresses');
    expect(received).toHaveLength(0);
  });
});
