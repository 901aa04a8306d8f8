import { ConfigError } from './env';
import { loadGatewayConfig, loadWorkerConfig } from './service-config';

describe('service config', () => {
  it('gives the gateway documented defaults', () => {
    const config = loadGatewayConfig({});
    expect(config.port).toBe(8080);
    expect(config.natsServers).toEqual(['nats://127.0.0.1:4222']);
    expect(config.limits.maxLongSide).toBe(2048);
  });

  it('gives each worker its port, cache and pull settings', () => {
    const config = loadWorkerConfig('ocr', { ARGUS_CACHE_TTL_SECONDS: '0', ARGUS_PULL_MODELS: 'true' });
    expect(config).toMatchObject({ service: 'ocr', httpPort: 9103, cacheTtlSeconds: 0, pullModels: true });
    expect(loadWorkerConfig('tagging', {})).toMatchObject({
      service: 'product-tagging',
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
