import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LookupAddress } from 'node:dns';
import { ArgusError } from '@argus/contracts';
import { judgeAddress } from './address-policy';
import { SafeFetcher, type SafeFetchOptions } from './safe-fetch';

describe('judgeAddress', () => {
  it.each([
    ['127.0.0.1', 'ipv4 loopback'],
    ['127.255.255.254', 'ipv4 loopback'],
    ['10.1.2.3', 'ipv4 private'],
    ['172.16.0.1', 'ipv4 private'],
    ['172.31.255.255', 'ipv4 private'],
    ['192.168.1.1', 'ipv4 private'],
    ['169.254.169.254', 'ipv4 linkLocal'],
    ['100.64.0.1', 'ipv4 carrierGradeNat'],
    ['100.127.255.254', 'ipv4 carrierGradeNat'],
    ['224.0.0.1', 'ipv4 multicast'],
    ['239.255.255.250', 'ipv4 multicast'],
    ['0.0.0.0', 'ipv4 unspecified'],
    ['255.255.255.255', 'ipv4 broadcast'],
    ['192.0.2.1', 'ipv4 reserved'],
    ['240.0.0.1', 'ipv4 reserved'],
    ['::1', 'ipv6 loopback'],
    ['::', 'ipv6 unspecified'],
    ['fe80::1', 'ipv6 linkLocal'],
    ['fc00::1', 'ipv6 uniqueLocal'],
    ['fd00:ec2::254', 'ipv6 uniqueLocal'],
    ['ff02::1', 'ipv6 multicast'],
    ['::ffff:127.0.0.1', 'ipv4 loopback'],
    ['::ffff:10.0.0.1', 'ipv4 private'],
    ['::ffff:169.254.169.254', 'ipv4 linkLocal'],
    ['2002:7f00:1::', 'ipv6 6to4'],
    ['2001:0::1', 'ipv6 teredo'],
    ['64:ff9b::7f00:1', 'ipv6 rfc6052'],
  ])('refuses %s (%s)', (address, range) => {
    expect(judgeAddress(address)).toEqual({ allowed: false, range });
  });

  it.each([
    '8.8.8.8',
    '93.184.216.34',
    '172.32.0.1',
    '100.128.0.1',
    '2606:4700:4700::1111',
    '::ffff:8.8.8.8',
  ])('allows the public address %s', (address) => {
    expect(judgeAddress(address)).toEqual({ allowed: true });
  });
});

type Handler = (path: string, response: ServerResponse) => void;

let server: Server;
let port: number;
let handler: Handler = (_path, response) => response.end();

beforeAll(async () => {
  server = createServer((request, response) => {
    handler(request.url ?? '/', response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');

/** A resolver for made-up names; `public.test` stands for a public host but lives on this machine. */
function resolver(table: Record<string, string[]>) {
  const asked: string[] = [];
  const resolve = (hostname: string): Promise<LookupAddress[]> => {
    asked.push(hostname);
    const addresses = table[hostname] as string[] | undefined;
    if (!addresses)
      return Promise.reject(
        Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }),
      );
    return Promise.resolve(addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })));
  };
  return { resolve, asked };
}

function fetcher(options: Partial<SafeFetchOptions> = {}) {
  return new SafeFetcher({
    maxBytes: 1_000_000,
    timeoutMs: 3_000,
    maxRedirects: 3,
    allowPrivate: false,
    ...options,
  });
}

async function refusal(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof ArgusError)) throw new Error(`expected an ArgusError, got ${String(error)}`);
  return { code: error.code, message: error.message };
}

describe('SafeFetcher', () => {
  it.each([
    'ftp://example.com/a.png',
    'file:///etc/passwd',
    'gopher://example.com/',
    'http://user:secret@example.com/a.png',
    'http://127.0.0.1/a.png',
    'http://[::1]/a.png',
    'http://[::ffff:7f00:1]/a.png',
    'http://0x7f000001/a.png',
    'http://2130706433/a.png',
    'http://169.254.169.254/latest/meta-data/',
    'http://[fd00:ec2::254]/latest/meta-data/',
    'http://10.0.0.8/a.png',
    'http://100.100.100.200/a.png',
  ])('refuses %s before connecting', async (url) => {
    const { resolve, asked } = resolver({});
    expect(await refusal(fetcher({ resolve }).fetch(url))).toMatchObject({ code: 'URL_NOT_ALLOWED' });
    expect(asked).toEqual([]);
  });

  it('refuses a name that resolves to a private address, and one with any private address among public ones', async () => {
    const { resolve } = resolver({
      'intranet.test': ['10.0.0.5'],
      'mixed.test': ['93.184.216.34', '127.0.0.1'],
    });
    const safe = fetcher({ resolve });
    expect(await refusal(safe.fetch(`http://intranet.test:${port}/a.png`))).toMatchObject({
      code: 'URL_NOT_ALLOWED',
      message: expect.stringContaining('10.0.0.5 (ipv4 private)') as unknown,
    });
    expect(await refusal(safe.fetch(`http://mixed.test:${port}/a.png`))).toMatchObject({
      code: 'URL_NOT_ALLOWED',
      message: expect.stringContaining('127.0.0.1 (ipv4 loopback)') as unknown,
    });
    await safe.close();
  });

  it('connects to the address it checked: a name only the checked lookup knows is fetched from there', async () => {
    handler = (_path, response) => response.writeHead(200, { 'content-type': 'image/png' }).end(PNG);
    const { resolve, asked } = resolver({ 'public.test': ['127.0.0.1'] });
    const safe = fetcher({ resolve, allowCidrs: ['127.0.0.1/32'] });
    const fetched = await safe.fetch(`http://public.test:${port}/a.png`);
    expect(fetched).toMatchObject({ bytes: PNG, contentType: 'image/png', redirects: 0 });
    expect(asked).toEqual(['public.test']);
    await safe.close();
  });

  it('checks every redirect: a hop to a private address is refused, also when the redirect names an IP', async () => {
    handler = (path, response) => {
      if (path === '/to-name')
        response.writeHead(302, { location: `http://internal.test:${port}/secret` }).end();
      else if (path === '/to-ip')
        response.writeHead(301, { location: `http://169.254.169.254/latest/meta-data/` }).end();
      else response.writeHead(200).end(PNG);
    };
    const { resolve } = resolver({ 'public.test': ['127.0.0.1'], 'internal.test': ['127.0.0.2'] });
    const safe = fetcher({ resolve, allowCidrs: ['127.0.0.1/32'] });
    expect(await refusal(safe.fetch(`http://public.test:${port}/to-name`))).toMatchObject({
      code: 'URL_NOT_ALLOWED',
      message: expect.stringContaining('internal.test resolves to 127.0.0.2') as unknown,
    });
    expect(await refusal(safe.fetch(`http://public.test:${port}/to-ip`))).toMatchObject({
      code: 'URL_NOT_ALLOWED',
    });
    await safe.close();
  });

  it('follows redirects up to the limit and no further', async () => {
    handler = (path, response) => {
      const hop = Number(path.slice(1));
      if (hop < 5) response.writeHead(307, { location: `/${hop + 1}` }).end();
      else response.writeHead(200).end(PNG);
    };
    const safe = fetcher({ allowPrivate: true, maxRedirects: 5 });
    expect(await safe.fetch(`http://127.0.0.1:${port}/0`)).toMatchObject({ redirects: 5, bytes: PNG });
    const strict = fetcher({ allowPrivate: true, maxRedirects: 4 });
    expect(await refusal(strict.fetch(`http://127.0.0.1:${port}/0`))).toMatchObject({
      code: 'URL_NOT_ALLOWED',
      message: 'more than 4 redirects',
    });
    await Promise.all([safe.close(), strict.close()]);
  });

  it('refuses a body over the limit, whether it is declared or streamed', async () => {
    const big = Buffer.alloc(64 * 1024, 7);
    handler = (path, response) => {
      if (path === '/declared') response.writeHead(200, { 'content-length': big.length }).end(big);
      else {
        response.writeHead(200);
        response.write(big.subarray(0, 20_000));
        response.write(big.subarray(20_000, 40_000));
        response.end(big.subarray(40_000));
      }
    };
    const safe = fetcher({ allowPrivate: true, maxBytes: 30_000 });
    expect(await refusal(safe.fetch(`http://127.0.0.1:${port}/declared`))).toMatchObject({
      code: 'IMAGE_TOO_LARGE',
    });
    expect(await refusal(safe.fetch(`http://127.0.0.1:${port}/streamed`))).toMatchObject({
      code: 'IMAGE_TOO_LARGE',
    });
    await safe.close();
  });

  it('gives up at its deadline on a server that never answers, and reports HTTP errors', async () => {
    handler = (path, response) => {
      if (path === '/missing') response.writeHead(404).end('no');
      // '/hang': never answers.
    };
    const safe = fetcher({ allowPrivate: true, timeoutMs: 400 });
    const started = Date.now();
    expect(await refusal(safe.fetch(`http://127.0.0.1:${port}/hang`))).toMatchObject({
      code: 'URL_FETCH_FAILED',
      message: 'fetching the image took longer than 400 ms',
    });
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(await refusal(safe.fetch(`http://127.0.0.1:${port}/missing`))).toMatchObject({
      code: 'URL_FETCH_FAILED',
      message: expect.stringContaining('HTTP 404') as unknown,
    });
    await safe.close();
  });

  it('reports a name that does not resolve as a fetch failure', async () => {
    const { resolve } = resolver({});
    expect(await refusal(fetcher({ resolve }).fetch('http://nowhere.test/a.png'))).toMatchObject({
      code: 'URL_FETCH_FAILED',
      message: expect.stringContaining('ENOTFOUND') as unknown,
    });
  });
});
