import { Inject, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import type { WorkerConfig } from '@argus/config';
import { ImageProcessor } from '@argus/imaging';
import { OllamaEngine } from '@argus/inference';
import { ImageStore, type NatsConnection } from '@argus/messaging';
import { ArgusMetrics, MetricsController } from '@argus/telemetry';
import { TaskPipeline } from './task-pipeline.service';
import { WorkerHealth } from './worker-health.service';
import { WorkerHttpController } from './worker-http.controller';
import { createWorkerMessageController } from './worker-message.controller';
import { NATS_CONNECTION, WORKER_CONFIG } from './worker.tokens';

class NatsConnectionCloser implements OnApplicationShutdown {
  constructor(@Inject(NATS_CONNECTION) private readonly connection: NatsConnection) {}

  async onApplicationShutdown(): Promise<void> {
    if (!this.connection.isClosed()) await this.connection.drain();
  }
}

@Module({})
export class WorkerModule {
  static forTask(config: WorkerConfig, connection: NatsConnection): DynamicModule {
    return {
      module: WorkerModule,
      controllers: [createWorkerMessageController(config.task), WorkerHttpController, MetricsController],
      providers: [
        { provide: WORKER_CONFIG, useValue: config },
        { provide: NATS_CONNECTION, useValue: connection },
        { provide: ArgusMetrics, useValue: new ArgusMetrics(config.service) },
        { provide: ImageStore, useValue: new ImageStore(connection, config.imageTtlSeconds) },
        { provide: OllamaEngine, useValue: new OllamaEngine(config.ollama) },
        ImageProcessor,
        TaskPipeline,
        WorkerHealth,
        NatsConnectionCloser,
      ],
    };
  }
}
