import { hostname } from 'node:os';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { QUEUE_GROUPS } from '@argus/contracts';
import { loadWorkerConfig, type WorkerConfig } from '@argus/config';
import { ImageProcessor } from '@argus/imaging';
import { checkPromptVersions, loadModelCatalog, type ResolvedCatalog } from '@argus/inference';
import {
  connectNats,
  KvTierSlots,
  ResultStore,
  watchConnection,
  workerMicroserviceOptions,
} from '@argus/messaging';
import { ArgusMetrics, PinoNestLogger } from '@argus/telemetry';
import { JobConsumer } from './job-consumer.service';
import type { TaskDefinition } from './task-definition';
import { WorkerMetricsObserver } from './worker-metrics.observer';
import { WorkerInference } from './worker-inference';
import { WorkerModule } from './worker.module';

/**
 * A hybrid app: the NATS microservice does the work, the small HTTP server answers probes and scrapes. The CPU
 * engines are warmed and the tiers checked before the worker subscribes, so its first request is not a cold one.
 */
export async function createWorkerApp(
  definition: TaskDefinition,
  config: WorkerConfig = loadWorkerConfig(definition.id),
  catalog: ResolvedCatalog = loadModelCatalog(),
): Promise<NestFastifyApplication> {
  if (config.task !== definition.id) {
    throw new Error(`worker config is for ${config.task}, the definition for ${definition.id}`);
  }
  // Before anything connects: a catalog whose Ollama entries name another prompt than the task's stops the boot.
  checkPromptVersions(catalog, definition.id, definition.promptVersion);
  const connection = await connectNats({
    servers: config.natsServers,
    name: `argus-${config.service}`,
    security: config.natsSecurity,
  });
  const metrics = new ArgusMetrics(config.service);
  watchConnection(connection, metrics.natsObserver());
  const processor = new ImageProcessor();
  const cache = config.cacheTtlSeconds > 0 ? new ResultStore(connection, config.cacheTtlSeconds) : undefined;
  await cache?.check();
  const slotLogger = new Logger('TierSlots');
  const tierSlots: KvTierSlots[] = [];
  const inference = new WorkerInference(
    definition,
    catalog,
    processor,
    cache,
    new WorkerMetricsObserver(metrics),
    metrics,
    (tier, capacity) => {
      const slots = new KvTierSlots(connection, {
        tier,
        capacity,
        leaseTtlMs: config.slots.leaseTtlMs,
        holder: `${hostname()}/${process.pid}/${config.service}`,
        onError: (message) => {
          slotLogger.warn(message);
        },
      });
      tierSlots.push(slots);
      return slots;
    },
  );
  // Read every tier's slots before the first request, so it does not pay for the bucket and the watcher.
  await Promise.all(
    tierSlots.map((slots) =>
      slots.start().catch((error: unknown) => {
        slotLogger.warn(
          `tier slots not ready at boot: ${error instanceof Error ? error.message : String(error)}`,
        );
      }),
    ),
  );
  const app = await NestFactory.create<NestFastifyApplication>(
    WorkerModule.forTask(config, connection, inference, metrics, processor),
    new FastifyAdapter(),
    { bufferLogs: true },
  );
  app.useLogger(app.get(PinoNestLogger));
  app.connectMicroservice(
    workerMicroserviceOptions({
      servers: config.natsServers,
      queue: QUEUE_GROUPS[config.task],
      name: `argus-${config.service}-handler`,
      security: config.natsSecurity,
    }),
    { inheritAppConfig: true },
  );
  app.enableShutdownHooks();
  await inference.start({ pullModels: config.pullModels, healthIntervalMs: config.tierCheckIntervalMs });
  await app.startAllMicroservices();
  if (config.jobs.enabled) await app.get(JobConsumer).start();
  await app.listen(config.httpPort, config.host);
  return app;
}

/** Runs a task's worker as its service's main.ts does; rejects when it cannot start. */
export async function runWorker(definition: TaskDefinition): Promise<void> {
  const task = definition.id;
  const config = loadWorkerConfig(task);
  const catalog = loadModelCatalog();
  const app = await createWorkerApp(definition, config, catalog);
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : config.httpPort;
  const tiers = catalog
    .forTask(task)
    .map(({ tier, model }) => `${tier}=${model.model}`)
    .join(', ');
  new Logger('Worker').log(`catalog ${catalog.source}: ${tiers}`);
  process.stdout.write(
    `${config.service} worker ready: tiers ${tiers}; metrics http://${config.host}:${port}/metrics\n`,
  );
}
