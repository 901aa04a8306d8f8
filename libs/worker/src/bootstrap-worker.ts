import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Task } from '@argus/contracts';
import { loadWorkerConfig, type WorkerConfig } from '@argus/config';
import { nestLogLevels } from '@argus/telemetry';
import { connectNats, workerMicroserviceOptions } from '@argus/messaging';
import { QUEUE_GROUPS } from '@argus/contracts';
import { WorkerModule } from './worker.module';

/** A hybrid app: the NATS microservice does the work, the small HTTP server answers probes and scrapes. */
export async function createWorkerApp(config: WorkerConfig): Promise<NestFastifyApplication> {
  const connection = await connectNats({ servers: config.natsServers, name: `argus-${config.service}` });
  const app = await NestFactory.create<NestFastifyApplication>(
    WorkerModule.forTask(config, connection),
    new FastifyAdapter(),
    {
      logger: nestLogLevels(config.logLevel),
    },
  );
  app.connectMicroservice(
    workerMicroserviceOptions({
      servers: config.natsServers,
      queue: QUEUE_GROUPS[config.task],
      name: `argus-${config.service}-handler`,
    }),
    { inheritAppConfig: true },
  );
  app.enableShutdownHooks();
  await app.startAllMicroservices();
  await app.listen(config.httpPort, config.host);
  return app;
}

export async function runWorker(task: Task): Promise<void> {
  const config = loadWorkerConfig(task);
  const app = await createWorkerApp(config);
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : config.httpPort;
  process.stdout.write(
    `${config.service} worker ready: model ${config.model} at ${config.ollama.host}, metrics http://${config.host}:${port}/metrics\n`,
  );
}
