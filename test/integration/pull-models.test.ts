// ARGUS_PULL_MODELS=true: a worker that finds its tier's model missing pulls it at start, then serves from it.
import type { INestApplication } from '@nestjs/common';
import { loadWorkerConfig } from '@argus/config';
import { loadModelCatalog } from '@argus/inference';
import { createWorkerApp } from '@argus/worker';
import { taskDefinition } from '../support/task-definitions';
import { urlOf } from '../support/in-process-stack';
import { startNats, type NatsHarness } from '../support/nats-harness';
import { OllamaStandIn } from '../support/ollama-stand-in';

jest.setTimeout(60_000);

let nats: NatsHarness;
let ollama: OllamaStandIn;
let worker: INestApplication | undefined;

beforeAll(async () => {
  nats = await startNats();
  ollama = await OllamaStandIn.start({ models: [], registry: [{ name: 'qwen2.5vl:3b' }] });
});

afterAll(async () => {
  await worker?.close();
  await ollama.stop();
  await nats.stop();
});

it('pulls a missing model at start and reports the tier ready', async () => {
  const env = {
    NATS_URL: nats.url,
    OLLAMA_HOST: ollama.url,
    ARGUS_TIERS: 'small',
    ARGUS_PULL_MODELS: 'true',
    HTTP_PORT: '0',
    LOG_LEVEL: 'error',
  };
  worker = await createWorkerApp(
    taskDefinition('tagging'),
    loadWorkerConfig('tagging', env),
    loadModelCatalog(env),
  );
  const pulls = ollama.requests.filter((request) => request.path === '/api/pull');
  expect(pulls).toHaveLength(1);
  // ollama-js still sends the pre-0.5 field name for pulls.
  expect(pulls[0].body).toMatchObject({ name: 'qwen2.5vl:3b', stream: true });
  const ready = (await (await fetch(`${await urlOf(worker)}/readyz`)).json()) as {
    checks: Record<string, { ok: boolean }>;
  };
  expect(ready.checks['tier.small']).toMatchObject({ ok: true });
});
