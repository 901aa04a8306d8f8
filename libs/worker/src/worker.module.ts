import { Inject, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import type { WorkerConfig } from '@argus/config';
import { ImageProcessor } from '@argus/imaging';
import { JOB_IMAGE_BUCKET } from '@argus/contracts';
import {
  ImageStore,
  JobQueue,
  JobStore,
  NATS_CONNECTION,
  NatsConnectionCloser,
  type NatsConnection,
} from '@argus/messaging';
import {
  ArgusMetrics,
  loggingModule,
  MetricsController,
  ProbesController,
  READINESS_PROBE,
} from '@argus/telemetry';
import { JobConsumer } from './job-consumer.service';
import { TaskPipeline } from './task-pipeline.service';
import { WorkerHealth } from './worker-health.service';
import { WorkerInference } from './worker-inference';
import { createWorkerMessageController } from './worker-message.controller';
import { REPLY_CACHE, TASK_ROUTER, TASK_RUNTIME, WORKER_CONFIG } from './worker.tokens';

class InferenceCloser implements OnApplicationShutdown {
  constructor(@Inject(WorkerInference) private readonly inference: WorkerInference) {}

  async onApplicationShutdown(): Promise<void> {
    await this.inference.close();
  }
}

@Module({})
export class WorkerModule {
  static forTask(
    config: WorkerConfig,
    connection: NatsConnection,
    inference: WorkerInference,
    metrics: ArgusMetrics,
    processor: ImageProcessor,
  ): DynamicModule {
    return {
      module: WorkerModule,
      imports: [loggingModule(config.service, config.logLevel)],
      controllers: [createWorkerMessageController(config.task), ProbesController, MetricsController],
      providers: [
        { provide: WORKER_CONFIG, useValue: config },
        { provide: NATS_CONNECTION, useValue: connection },
        { provide: ArgusMetrics, useValue: metrics },
        {
          provide: ImageStore,
          useValue: new ImageStore(connection, config.imageTtlSeconds).alsoServe(
            new ImageStore(connection, config.jobs.imageTtlSeconds, JOB_IMAGE_BUCKET, 'Argus job images'),
          ),
        },
        { provide: JobQueue, useValue: new JobQueue(connection, config.jobs) },
        { provide: JobStore, useValue: new JobStore(connection, config.jobs.ttlSeconds) },
        JobConsumer,
        { provide: ImageProcessor, useValue: processor },
        { provide: WorkerInference, useValue: inference },
        { provide: TASK_ROUTER, useValue: inference.router },
        { provide: TASK_RUNTIME, useValue: inference.runtime },
        // A factory, since Nest reads a value provider of undefined as no provider at all.
        { provide: REPLY_CACHE, useFactory: () => inference.replies ?? null },
        TaskPipeline,
        WorkerHealth,
        { provide: READINESS_PROBE, useExisting: WorkerHealth },
        InferenceCloser,
        NatsConnectionCloser,
      ],
    };
  }
}
