import {
  GatewayAuthError,
  GatewayClient,
  GatewayRequestError,
  MAX_RATE_LIMIT_WAITS,
  retryAfterSeconds,
  type FetchFn,
} from './gateway-client';

const created = { jobId: 'job-1', status: 'queued', items: [] };

/** A fetch that answers from a list, in order, and records every request. */
function scripted(responses: Array<() => Response>) {
  const requests: Array<{ url: string; method: string; headers: Headers }> = [];
  const fetchFn: FetchFn = (input, init) => {
    requests.push({
      url: input instanceof Request ? input.url : input.toString(),
      method: init?.method ?? 'GET',
      headers: new Headers(init?.headers),
    });
    const next = responses.shift();
    if (!next) throw new Error('no more responses');
    return Promise.resolve(next());
  };
  return { fetchFn, requests };
}

const rateLimited = (retryAfter?: string) => () =>
  Response.json(
    { code: 'RATE_LIMITED', detail: 'slow down' },
    { status: 429, headers: retryAfter === undefined ? {} : { 'retry-after': retryAfter } },
  );

describe('GatewayClient', () => {
  it('sends Authorization: Bearer <key> on POST /v1/jobs and GET /v1/jobs/{id}', async () => {
    const status = { jobId: 'j', status: 'done' };
    const { fetchFn, requests } = scripted([
      () => Response.json(created, { status: 202 }),
      () => Response.json(status, { status: 200 }),
    ]);
    const client = new GatewayClient('http://gw', fetchFn, { apiKey: 'argus_k' });
    await client.createJob([], {});
    await client.status('j').catch(() => undefined); // the body shape does not matter here
    expect(requests.map((r) => [r.method, r.url, r.headers.get('authorization')])).toEqual([
      ['POST', 'http://gw/v1/jobs', 'Bearer argus_k'],
      ['GET', 'http://gw/v1/jobs/j?page=1&pageSize=1', 'Bearer argus_k'],
    ]);
  });

  it('sends no Authorization header without a key', async () => {
    const { fetchFn, requests } = scripted([() => Response.json(created, { status: 202 })]);
    await new GatewayClient('http://gw', fetchFn).createJob([], {});
    expect(requests[0].headers.has('authorization')).toBe(false);
  });

  it('waits out 429s for Retry-After seconds (at most 60) and then succeeds', async () => {
    const { fetchFn, requests } = scripted([
      rateLimited('3'),
      rateLimited('3600'),
      rateLimited(),
      () => Response.json(created, { status: 202 }),
    ]);
    const sleeps: number[] = [];
    const told: Array<[number, number]> = [];
    const client = new GatewayClient('http://gw', fetchFn, {
      apiKey: 'argus_k',
      sleep: (ms) => {
        sleeps.push(ms);
        return Promise.resolve();
      },
      onRateLimited: (seconds, attempt) => told.push([seconds, attempt]),
    });
    await expect(client.createJob([], {})).resolves.toEqual(created);
    expect(sleeps).toEqual([3000, 60_000, 1000]);
    expect(told).toEqual([
      [3, 1],
      [60, 2],
      [1, 3],
    ]);
    expect(requests).toHaveLength(4);
    expect(requests.every((r) => r.headers.get('authorization') === 'Bearer argus_k')).toBe(true);
  });

  it('gives up after 10 consecutive 429s with a RATE_LIMITED error', async () => {
    const { fetchFn, requests } = scripted(Array.from({ length: 20 }, () => rateLimited('1')));
    const sleep = jest.fn(() => Promise.resolve());
    const client = new GatewayClient('http://gw', fetchFn, { sleep });
    const error = await client.status('j').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GatewayRequestError);
    expect(error).not.toBeInstanceOf(GatewayAuthError);
    expect(error).toMatchObject({ status: 429, code: 'RATE_LIMITED' });
    expect(MAX_RATE_LIMIT_WAITS).toBe(10);
    expect(sleep).toHaveBeenCalledTimes(10);
    expect(requests).toHaveLength(11);
  });

  it('waits on real timers by default, and an abort ends the wait', async () => {
    jest.useFakeTimers();
    try {
      const { fetchFn, requests } = scripted([
        rateLimited('5'),
        () => Response.json(created, { status: 202 }),
      ]);
      const client = new GatewayClient('http://gw', fetchFn);
      const pending = client.createJob([], {});
      await jest.advanceTimersByTimeAsync(4_900);
      expect(requests).toHaveLength(1);
      await jest.advanceTimersByTimeAsync(200);
      await expect(pending).resolves.toEqual(created);
      expect(requests).toHaveLength(2);

      const aborted = scripted([rateLimited('30')]);
      const controller = new AbortController();
      const waiting = new GatewayClient('http://gw', aborted.fetchFn).createJob([], {}, controller.signal);
      const settled = expect(waiting).rejects.toMatchObject({ name: 'AbortError' });
      await jest.advanceTimersByTimeAsync(1_000);
      controller.abort();
      await settled;
      expect(aborted.requests).toHaveLength(1);
    } finally {
      jest.useRealTimers();
    }
  });

  it.each([401, 403])('turns a %i into a GatewayAuthError', async (status) => {
    const { fetchFn } = scripted([
      () => Response.json({ code: status === 401 ? 'UNAUTHORIZED' : 'FORBIDDEN', detail: 'no' }, { status }),
    ]);
    const error = await new GatewayClient('http://gw', fetchFn).status('j').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GatewayAuthError);
    expect(error).toMatchObject({ status, message: 'no' });
  });

  it('ping fails on a 401 but not on a 403 (a key without the ops scope)', async () => {
    const unauthorized = scripted([
      () => Response.json({ code: 'UNAUTHORIZED', detail: 'key?' }, { status: 401 }),
    ]);
    await expect(new GatewayClient('http://gw', unauthorized.fetchFn).ping()).rejects.toBeInstanceOf(
      GatewayAuthError,
    );
    const forbidden = scripted([() => Response.json({ code: 'FORBIDDEN' }, { status: 403 })]);
    await expect(new GatewayClient('http://gw', forbidden.fetchFn).ping()).resolves.toBeUndefined();
  });
});

describe('retryAfterSeconds', () => {
  const now = Date.parse('2026-11-26T12:00:00Z');
  it.each([
    ['7', 7],
    ['0', 1],
    ['600', 60],
    [null, 1],
    ['soon', 1],
    ['Thu, 26 Nov 2026 12:00:09 GMT', 9],
    ['Thu, 26 Nov 2026 11:00:00 GMT', 1],
  ])('%j waits %i s', (header, seconds) => {
    expect(retryAfterSeconds(header, 60, now)).toBe(seconds);
  });
});
