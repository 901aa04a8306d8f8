import { connect, Events, StringCodec, type NatsConnection } from 'nats';
import { createServer } from 'node:net';
import { freePort, startNats, type NatsHarness } from './nats-harness';

// Spawning nats-server takes well under a second; the slack covers slow CI disks.
jest.setTimeout(30_000);

function portOf(url: string): number {
  return Number(new URL(url).port);
}

/** True if something still listens on the port (we cannot bind it ourselves). */
function portBusy(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => {
      resolve(true);
    });
    probe.listen(port, '127.0.0.1', () => {
      probe.close(() => {
        resolve(false);
      });
    });
  });
}

describe('freePort', () => {
  it('returns a bindable port on 127.0.0.1', async () => {
    const port = await freePort();
    expect(port).toBeGreaterThan(0);
    expect(await portBusy(port)).toBe(false);
  });
});

describe('startNats (local mode)', () => {
  let nats: NatsHarness;
  let nc: NatsConnection | undefined;

  beforeAll(async () => {
    nats = await startNats({ mode: 'local' });
  });

  afterEach(async () => {
    await nc?.close();
    nc = undefined;
  });

  afterAll(async () => {
    await nats.stop();
  });

  it('serves NATS with JetStream on a loopback URL', async () => {
    expect(nats.mode).toBe('local');
    expect(nats.url).toMatch(/^nats:\/\/127\.0\.0\.1:\d+$/);

    nc = await connect({ servers: nats.url, timeout: 5_000 });
    const jsm = await nc.jetstreamManager();
    const info = await jsm.getAccountInfo();
    expect(info.limits).toBeDefined();

    const sc = StringCodec();
    const sub = nc.subscribe('harness.echo', { max: 1 });
    void (async () => {
      for await (const msg of sub) msg.respond(msg.data);
    })();
    const reply = await nc.request('harness.echo', sc.encode('ping'), { timeout: 2_000 });
    expect(sc.decode(reply.data)).toBe('ping');
  });

  it('round-trips bytes through the object store', async () => {
    nc = await connect({ servers: nats.url, timeout: 5_000 });
    const os = await nc.jetstream().views.os('t');
    const payload = new Uint8Array(300_000).map((_, i) => i % 251);
    await os.putBlob({ name: 'blob' }, payload);
    const back = await os.getBlob('blob');
    expect(back).not.toBeNull();
    expect(Buffer.from(back!).equals(Buffer.from(payload))).toBe(true);
  });

  it('restart keeps the port and the JetStream store', async () => {
    const port = portOf(nats.url);
    nc = await connect({ servers: nats.url, timeout: 5_000 });
    const kv = await nc.jetstream().views.kv('restart-check');
    await kv.put('k', StringCodec().encode('v'));
    await nc.close();
    nc = undefined;

    await nats.restart!();
    expect(portOf(nats.url)).toBe(port);

    nc = await connect({ servers: nats.url, timeout: 5_000 });
    const again = await nc.jetstream().views.kv('restart-check');
    const entry = await again.get('k');
    expect(entry && StringCodec().decode(entry.value)).toBe('v');
  });

  it('a connected client reconnects across restart', async () => {
    const client = await connect({
      servers: nats.url,
      timeout: 5_000,
      reconnectTimeWait: 100,
      maxReconnectAttempts: -1,
    });
    nc = client;
    const reconnected = (async () => {
      for await (const status of client.status()) if (status.type === Events.Reconnect) return true;
      return false;
    })();
    await nats.restart!();
    const timeout = new Promise<false>((resolve) =>
      setTimeout(() => {
        resolve(false);
      }, 10_000).unref(),
    );
    expect(await Promise.race([reconnected, timeout])).toBe(true);
    await expect(client.flush()).resolves.toBeUndefined();
  });
});

describe('startNats lifecycle', () => {
  it('honours ARGUS_TEST_NATS=local and stop frees the port and is idempotent', async () => {
    const previous = process.env.ARGUS_TEST_NATS;
    process.env.ARGUS_TEST_NATS = 'local';
    let nats: NatsHarness;
    try {
      nats = await startNats();
    } finally {
      if (previous === undefined) delete process.env.ARGUS_TEST_NATS;
      else process.env.ARGUS_TEST_NATS = previous;
    }
    expect(nats.mode).toBe('local');
    const port = portOf(nats.url);
    expect(await portBusy(port)).toBe(true);

    await nats.stop();
    expect(await portBusy(port)).toBe(false);
    await expect(nats.stop()).resolves.toBeUndefined();
    await expect(nats.restart!()).rejects.toThrow(/after stop/);
  });

  it('explains how to install nats-server when it is missing', async () => {
    const missing = startNats({ mode: 'local', binary: '/nonexistent/nats-server' });
    await expect(missing).rejects.toThrow('apt-get install -y nats-server');
    await expect(missing).rejects.toThrow('brew install nats-server');
    await expect(missing).rejects.toThrow('npm run setup');
  });

  it('falls back to the local server when the container engine is unreachable', async () => {
    const saved = process.env.DOCKER_HOST;
    process.env.DOCKER_HOST = 'unix:///nonexistent/docker.sock';
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      const nats = await startNats({ mode: 'auto', containerTimeoutMs: 10_000 });
      try {
        expect(nats.mode).toBe('local');
        expect(stderr).toHaveBeenCalledWith(expect.stringContaining('falling back to local nats-server'));
      } finally {
        await nats.stop();
      }
    } finally {
      stderr.mockRestore();
      if (saved === undefined) delete process.env.DOCKER_HOST;
      else process.env.DOCKER_HOST = saved;
    }
  });
});
