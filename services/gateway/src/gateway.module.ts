import { Inject, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import type { GatewayConfig } from '@argus/config';
import { ImageProcessor } from '@argus/imaging';
import { ImageStore, NatsTaskClient, type NatsConnection } from '@argus/messaging';
import { ArgusMetrics, MetricsController } from '@argus/telemetry';
import { AnalyzeController } from './analyze.controller';
import { AnalyzeService } from './analyze.service';
import { HealthController } from './health.controller';
import { ProblemFilter } from './problem.filter';
import { ReadinessService } from './readiness.service';
import { TaskDispatcher } from './task-dispatcher.service';
import { GATEWAY_CONFIG, NATS_CONNECTION } from './gateway.tokens';

class NatsConnectionCloser implements OnApplicationShutdown {
  constructor(@Inject(NATS_CONNECTION) private readonly connection: NatsConnection) {}

  async onApplicationShutdown(): Promise<void> {
    if (!this.connection.isClosed()) await this.connection.drain();
  }
}

@Module({})
export class GatewayModule {
  static register(config: GatewayConfig, connection: NatsConnection, metrics: ArgusMetrics): DynamicModule {
    return {
      module: GatewayModule,
      controllers: [AnalyzeController, HealthController, MetricsController],
      providers: [
        { provide: GATEWAY_CONFIG, useValue: config },
        { provide: NATS_CONNECTION, useValue: connection },
        { provide: ArgusMetrics, useValue: metrics },
        { provide: NatsTaskClient, useValue: new NatsTaskClient(connection) },
        { provide: ImageStore, useValue: new ImageStore(connection, config.imageTtlSeconds) },
        { provide: APP_FILTER, useClass: ProblemFilter },
        ImageProcessor,
        TaskDispatcher,
        AnalyzeService,
        ReadinessService,
        NatsConnectionCloser,
      ],
    };
  }
}
