import { ConfigError } from './env';
import { loadGatewayConfig, loadWorkerConfig } from './service-config';

describe('service config', () => {
  it('gives the gateway documented defaults', () => {
    const config = loadGatewayConfig({});
    expect(config.port).toBe(8080);
    expect(config.natsServers).toEqual(['nats://127.0.0.1:4222']);
    expect(config.limits.maxLongSide).toBe(2048);
    expect(config.cacheTtlSeconds).toBe(86_400);
  });

  it('cuts uploads at the request timeout plus 10 s unless ARGUS_UPLOAD_TIMEOUT_MS says otherwise', () => {
    expect(loadGatewayConfig({}).uploadTimeoutMs).toBe(130_000);
    expect(loadGatewayConfig({ ARGUS_REQUEST_TIMEOUT_MS: '15000' }).uploadTimeoutMs).toBe(25_000);
    expect(loadGatewayConfig({ ARGUS_UPLOAD_TIMEOUT_MS: '30000' }).uploadTimeoutMs).toBe(30_000);
    expect(() => loadGatewayConfig({ ARGUS_UPLOAD_TIMEOUT_MS: '-1' })).toThrow(/ARGUS_UPLOAD_TIMEOUT_MS/);
  });

  it('gives each worker its port, cache and pull settings', () => {
    const config = loadWorkerConfig('ocr', { ARGUS_CACHE_TTL_SECONDS: '0', ARGUS_PULL_MODELS: 'true' });
    expect(config).toMatchObject({ service: 'ocr', httpPort: 9103, cacheTtlSeconds: 0, pullModels: true });
    expect(loadWorkerConfig('tagging', {})).toMatchObject({
      service: 'tagging',
      httpPort: 9102,
      pullModels: false,
    });
  });

  it('splits a comma list of NATS servers', () => {
    expect(loadGatewayConfig({ NATS_URL: 'nats://a:4222, nats://b:4222' }).natsServers).toEqual([
      'nats://a:4222',
      'nats://b:4222',
    ]);
  });

  it('fails fast naming the variable and the value', () => {
    expect(() => loadGatewayConfig({ PORT: 'eighty' })).toThrow(ConfigError);
    expect(() => loadGatewayConfig({ PORT: 'eighty' })).toThrow(/PORT.*"eighty"/);
    expect(() => loadWorkerConfig('tagging', { ARGUS_PULL_MODELS: 'yes' })).toThrow(/ARGUS_PULL_MODELS/);
    expect(() => loadWorkerConfig('tagging', { ARGUS_CACHE_TTL_SECONDS: '-1' })).toThrow(
      /ARGUS_CACHE_TTL_SECONDS/,
    );
  });
});

describe('NATS security settings', () => {
  it('is empty for an open local server', () => {
    expect(loadGatewayConfig({}).natsSecurity).toEqual({});
  });

  it('takes user and password, token, an nkey seed file or a creds file', () => {
    expect(loadGatewayConfig({ NATS_USER: 'a', NATS_PASSWORD: 'b' }).natsSecurity).toEqual({
      user: 'a',
      password: 'b',
    });
    expect(loadGatewayConfig({ NATS_TOKEN: 't' }).natsSecurity).toEqual({ token: 't' });
    expect(loadGatewayConfig({ NATS_NKEY_SEED_FILE: '/s/nk' }).natsSecurity).toEqual({
      nkeySeedFile: '/s/nk',
    });
    expect(loadGatewayConfig({ NATS_CREDS: '/s/creds' }).natsSecurity).toEqual({ credsFile: '/s/creds' });
  });

  it('turns TLS on with NATS_TLS or any TLS file', () => {
    expect(loadGatewayConfig({ NATS_TLS: 'true' }).natsSecurity).toEqual({ tls: {} });
    expect(loadGatewayConfig({ NATS_TLS_CA: '/ca.pem' }).natsSecurity).toEqual({
      tls: { caFile: '/ca.pem' },
    });
    expect(loadGatewayConfig({ NATS_TLS_CERT: '/c.pem', NATS_TLS_KEY: '/k.pem' }).natsSecurity).toEqual({
      tls: { certFile: '/c.pem', keyFile: '/k.pem' },
    });
  });

  it.each([
    [{ NATS_USER: 'a', NATS_TOKEN: 't' }, /use one of NATS_USER\/NATS_PASSWORD, NATS_TOKEN/],
    [{ NATS_USER: 'a' }, /NATS_USER and NATS_PASSWORD go together/],
    [{ NATS_TLS_CERT: '/c.pem' }, /NATS_TLS_CERT and NATS_TLS_KEY go together/],
  ])('refuses %j', (env, message) => {
    expect(() => loadGatewayConfig(env)).toThrow(message);
  });
});
