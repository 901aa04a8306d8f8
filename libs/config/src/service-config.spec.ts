import { ConfigError } from './env';
import { loadGatewayConfig, loadWorkerConfig } from './service-config';

describe('service config', () => {
  it('gives the gateway documented defaults', () => {
    const config = loadGatewayConfig({});
    expect(config.port).toBe(8080);
    expect(config.natsServers).toEqual(['nats://127.0.0.1:4222']);
    expect(config.limits.maxLongSide).toBe(2048);
  });

  it('reads per-task model and input size for a worker', () => {
    const config = loadWorkerConfig('ocr', { ARGUS_OCR_MODEL: 'gemma3:4b', ARGUS_OCR_INPUT_SIZE: '896' });
    expect(config.model).toBe('gemma3:4b');
    expect(config.inputLongSide).toBe(896);
    expect(config.service).toBe('ocr');
    expect(loadWorkerConfig('moderation', {}).inputLongSide).toBe(1024);
    expect(loadWorkerConfig('ocr', {}).inputLongSide).toBe(1568);
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
    expect(() => loadWorkerConfig('tagging', { OLLAMA_HOST: 'not a url' })).toThrow(/OLLAMA_HOST/);
    expect(() => loadWorkerConfig('tagging', { ARGUS_TAGGING_INPUT_SIZE: '10' })).toThrow(
      /ARGUS_TAGGING_INPUT_SIZE/,
    );
  });
});
