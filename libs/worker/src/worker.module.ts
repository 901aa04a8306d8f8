import { Module, type DynamicModule } from '@nestjs/common';
import type { WorkerConfig } from '@argus/config';
import { ImageProcessor } from '@argus/imaging';
import { OllamaEngine } from '@argus/inference';
import { ImageStore, NATS_CONNECTION, NatsConnectionCloser, type NatsConnection } from '@argus/messaging';
import { ArgusMetrics, MetricsController, ProbesController, READINESS_PROBE } from '@argus/telemetry';
import { TaskPipeline } from './task-pipeline.service';
import { WorkerHealth } from './worker-health.service';
import { createWorkerMessageController } from './worker-message.controller';
import { WORKER_CONFIG } from './worker.tokens';

@Module({})
export class WorkerModule {
  static forTask(config: WorkerConfig, connection: NatsConnection): DynamicModule {
    return {
      module: WorkerModule,
      controllers: [createWorkerMessageController(config.task), ProbesController, MetricsController],
      providers: [
        { provide: WORKER_CONFIG, useValue: config },
        { provide: NATS_CONNECTION, useValue: connection },
        { provide: ArgusMetrics, useValue: new ArgusMetrics(config.service) },
        { provide: ImageStore, useValue: new ImageStore(connection, config.imageTtlSeconds) },
        { provide: OllamaEngine, useValue: new OllamaEngine(config.ollama) },
        ImageProcessor,
        TaskPipeline,
        WorkerHealth,
        { provide: READINESS_PROBE, useExisting: WorkerHealth },
        NatsConnectionCloser,
      ],
    };
  }
}
