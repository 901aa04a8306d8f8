// NATS authentication and TLS as the services configure them (NATS_USER/NATS_PASSWORD, NATS_TOKEN,
// NATS_NKEY_SEED_FILE, NATS_TLS_CA): a real nats-server that demands each, and loadGatewayConfig → connectNats.
// Certificates come from openssl at test time, so no key material is committed.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createUser } from 'nkeys.js';
import { loadGatewayConfig } from '@argus/config';
import { connectNats, natsClientOptions } from '@argus/messaging';
import { connect } from 'nats';
import { freePort } from '../support/nats-harness';

jest.setTimeout(60_000);

const dir = mkdtempSync(join(tmpdir(), 'argus-nats-security-'));
const servers: ChildProcess[] = [];

afterAll(() => {
  for (const server of servers) server.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

async function startServer(config: string): Promise<string> {
  const port = await freePort();
  const file = join(dir, `server-${port}.conf`);
  writeFileSync(file, `listen: 127.0.0.1:${port}\n${config}\n`);
  const server = spawn(process.env.NATS_SERVER_BIN ?? 'nats-server', ['-c', file], { stdio: 'ignore' });
  servers.push(server);
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ host: '127.0.0.1', port }, () => {
        socket.end();
        resolve(true);
      });
      socket.on('error', () => {
        resolve(false);
      });
    });
    if (open) return `nats://127.0.0.1:${port}`;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`nats-server with ${file} did not start`);
}

/** Connects the way a service does, from its environment, and round-trips one message. */
async function roundTrip(env: NodeJS.ProcessEnv): Promise<string> {
  const config = loadGatewayConfig(env);
  const connection = await connectNats({
    servers: config.natsServers,
    name: 'security-test',
    security: config.natsSecurity,
  });
  try {
    const subscription = connection.subscribe('argus.test.echo', { max: 1 });
    void (async () => {
      for await (const message of subscription) message.respond(message.data);
    })();
    const reply = await connection.request('argus.test.echo', new TextEncoder().encode('ping'), {
      timeout: 2000,
    });
    return new TextDecoder().decode(reply.data);
  } finally {
    await connection.close();
  }
}

/** One connection attempt, no reconnect loop: `connected`, or why not. */
async function tryOnce(env: NodeJS.ProcessEnv): Promise<string> {
  const config = loadGatewayConfig(env);
  const options = natsClientOptions({
    servers: config.natsServers,
    name: 'refused',
    security: config.natsSecurity,
  });
  try {
    const connection = await connect({
      ...options,
      waitOnFirstConnect: false,
      maxReconnectAttempts: 0,
      timeout: 3000,
    });
    await connection.close();
    return 'connected';
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

describe('NATS credentials from the environment', () => {
  it('user and password', async () => {
    const url = await startServer('authorization { user: argus, password: "s3cret-pw" }');
    expect(await roundTrip({ NATS_URL: url, NATS_USER: 'argus', NATS_PASSWORD: 's3cret-pw' })).toBe('ping');
    expect(await tryOnce({ NATS_URL: url, NATS_USER: 'argus', NATS_PASSWORD: 'wrong' })).toMatch(
      /authorization/i,
    );
    expect(await tryOnce({ NATS_URL: url })).toMatch(/authorization/i);
    // A service with the wrong password stops at once with the reason instead of retrying in silence.
    await expect(
      connectNats({ servers: [url], name: 'argus-gateway', security: { user: 'argus', password: 'wrong' } }),
    ).rejects.toThrow(/refused argus-gateway: .*NATS_USER/);
  });

  it('token', async () => {
    const url = await startServer('authorization { token: "t0ken-argus" }');
    expect(await roundTrip({ NATS_URL: url, NATS_TOKEN: 't0ken-argus' })).toBe('ping');
    expect(await tryOnce({ NATS_URL: url, NATS_TOKEN: 'nope' })).toMatch(/authorization/i);
  });

  it('nkey seed file', async () => {
    const user = createUser();
    const seedFile = join(dir, 'argus.nk');
    writeFileSync(seedFile, new TextDecoder().decode(user.getSeed()));
    const url = await startServer(`authorization { users: [ { nkey: ${user.getPublicKey()} } ] }`);
    expect(await roundTrip({ NATS_URL: url, NATS_NKEY_SEED_FILE: seedFile })).toBe('ping');
    const other = createUser();
    const otherFile = join(dir, 'other.nk');
    writeFileSync(otherFile, new TextDecoder().decode(other.getSeed()));
    expect(await tryOnce({ NATS_URL: url, NATS_NKEY_SEED_FILE: otherFile })).toMatch(/authorization/i);
  });

  it('TLS with a private CA', async () => {
    const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
    openssl(
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=argus-test-ca',
      '-keyout',
      'ca.key',
      '-out',
      'ca.pem',
    );
    openssl(
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      '/CN=127.0.0.1',
      '-keyout',
      'server.key',
      '-out',
      'server.csr',
    );
    writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
    openssl(
      'x509',
      '-req',
      '-in',
      'server.csr',
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-days',
      '1',
      '-extfile',
      'san.ext',
      '-out',
      'server.pem',
    );
    const url = await startServer(
      `tls { cert_file: "${join(dir, 'server.pem')}", key_file: "${join(dir, 'server.key')}" }`,
    );
    expect(await tryOnce({ NATS_URL: url, NATS_TLS_CA: join(dir, 'ca.pem') })).toBe('connected');
    expect(await roundTrip({ NATS_URL: url, NATS_TLS_CA: join(dir, 'ca.pem') })).toBe('ping');
    // Without the CA the server's certificate is not trusted.
    expect(await tryOnce({ NATS_URL: url, NATS_TLS: 'true' })).toMatch(/certificate|self.signed|verify/i);
  });
});
