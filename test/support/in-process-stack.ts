// The gateway and the three workers built exactly as their main() builds them, in this process, against a real NATS
// and an Ollama stand-in. Integration tests drive it over real HTTP.
import type { INestApplication } from '@nestjs/common';
import { loadGatewayConfig, loadWorkerConfig } from '@argus/config';
import { TASKS, type Task } from '@argus/contracts';
import { loadModelCatalog } from '@argus/inference';
import { createWorkerApp } from '@argus/worker';
import { taskDefinition } from './task-definitions';
import { createGatewayApp } from '../../services/gateway/src/gateway.app';

export interface InProcessStack {
  gatewayUrl: string;
  workers: Map<Task, INestApplication>;
  workerUrl(task: Task): Promise<string>;
  startGateway(env?: NodeJS.ProcessEnv): Promise<{ app: INestApplication; url: string }>;
  stopWorker(task: Task): Promise<void>;
  stop(): Promise<void>;
}

export async function urlOf(app: INestApplication): Promise<string> {
  return (await app.getUrl()).replace('[::1]', '127.0.0.1');
}

export async function startInProcessStack(natsUrl: string, env: NodeJS.ProcessEnv): Promise<InProcessStack> {
  const baseEnv = { NATS_URL: natsUrl, HTTP_PORT: '0', PORT: '0', LOG_LEVEL: 'error', ...env };
  const catalog = loadModelCatalog(baseEnv);
  const workers = new Map<Task, INestApplication>();
  await Promise.all(
    TASKS.map(async (task) => {
      workers.set(
        task,
        await createWorkerApp(taskDefinition(task), loadWorkerConfig(task, baseEnv), catalog),
      );
    }),
  );
  const extraGateways: INestApplication[] = [];
  const startGateway = async (extra: NodeJS.ProcessEnv = {}) => {
    const app = await createGatewayApp(loadGatewayConfig({ ...baseEnv, ...extra }));
    extraGateways.push(app);
    return { app, url: await urlOf(app) };
  };
  const { url: gatewayUrl } = await startGateway();
  return {
    gatewayUrl,
    workers,
    workerUrl: async (task) => urlOf(workers.get(task)!),
    startGateway,
    async stopWorker(task) {
      await workers.get(task)?.close();
      workers.delete(task);
    },
    async stop() {
      for (const app of extraGateways) await app.close();
      for (const worker of workers.values()) await worker.close();
    },
  };
}
