import { Inject, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import type { GatewayConfig, ListingProfiles, ModerationPolicies } from '@argus/config';
import { ImageProcessor } from '@argus/imaging';
import { JOB_IMAGE_BUCKET } from '@argus/contracts';
import {
  ImageStore,
  JobEvents,
  JobQueue,
  JobStore,
  ReviewStore,
  NATS_CONNECTION,
  NatsConnectionCloser,
  NatsTaskClient,
  ResultStore,
  type NatsConnection,
} from '@argus/messaging';
import {
  ArgusMetrics,
  loggingModule,
  MetricsController,
  ProbesController,
  READINESS_PROBE,
} from '@argus/telemetry';
import { SafeFetcher } from '@argus/url-intake';
import { AnalyzeController } from './analyze.controller';
import { AnalyzeService } from './analyze.service';
import { ConsoleController } from './console.controller';
import { DocsController } from './docs.controller';
import { ModelsController } from './models.controller';
import { ModelsService } from './models.service';
import { ProblemFilter } from './problem.filter';
import { ReadinessService } from './readiness.service';
import { ReplyCache } from './reply-cache';
import { TaskDispatcher } from './task-dispatcher.service';
import { JobsController } from './jobs.controller';
import { JobsService } from './jobs.service';
import { JobNotifier } from './job-notifier.service';
import { ReviewsController } from './reviews.controller';
import { ReviewsService } from './reviews.service';
import { WhoamiController } from './whoami.controller';
import { WebhookDispatcher } from './webhook-dispatcher.service';
import { GATEWAY_CONFIG, JOB_IMAGE_STORE, LISTING_PROFILES, MODERATION_POLICIES } from './gateway.tokens';

/** Closes the URL fetcher's connection pool when the gateway shuts down. */
class SafeFetcherCloser implements OnApplicationShutdown {
  constructor(@Inject(SafeFetcher) private readonly fetcher: SafeFetcher) {}

  async onApplicationShutdown(): Promise<void> {
    await this.fetcher.close();
  }
}

@Module({})
export class GatewayModule {
  static register(
    config: GatewayConfig,
    connection: NatsConnection,
    metrics: ArgusMetrics,
    profiles: ListingProfiles,
    policies: ModerationPolicies,
  ): DynamicModule {
    return {
      module: GatewayModule,
      imports: [loggingModule('gateway', config.logLevel)],
      controllers: [
        AnalyzeController,
        JobsController,
        ReviewsController,
        ModelsController,
        ProbesController,
        MetricsController,
        DocsController,
        ConsoleController,
        WhoamiController,
      ],
      providers: [
        { provide: GATEWAY_CONFIG, useValue: config },
        { provide: LISTING_PROFILES, useValue: profiles },
        { provide: MODERATION_POLICIES, useValue: policies },
        { provide: NATS_CONNECTION, useValue: connection },
        { provide: ArgusMetrics, useValue: metrics },
        { provide: NatsTaskClient, useValue: new NatsTaskClient(connection, metrics.natsObserver()) },
        { provide: ImageStore, useValue: new ImageStore(connection, config.imageTtlSeconds) },
        {
          provide: JOB_IMAGE_STORE,
          useValue: new ImageStore(
            connection,
            config.jobs.imageTtlSeconds,
            JOB_IMAGE_BUCKET,
            'Argus job images',
          ),
        },
        { provide: JobQueue, useValue: new JobQueue(connection, config.jobs) },
        { provide: JobStore, useValue: new JobStore(connection, config.jobs.ttlSeconds) },
        {
          provide: JobEvents,
          useValue: new JobEvents(connection, {
            ...config.jobs,
            webhookAckWaitMs: 60_000,
          }),
        },
        { provide: ReviewStore, useValue: new ReviewStore(connection, config.jobs.ttlSeconds) },
        {
          provide: ReplyCache,
          useValue:
            config.cacheTtlSeconds > 0
              ? new ReplyCache(new ResultStore(connection, config.cacheTtlSeconds))
              : null,
        },
        JobsService,
        JobNotifier,
        WebhookDispatcher,
        ReviewsService,
        { provide: APP_FILTER, useClass: ProblemFilter },
        {
          provide: SafeFetcher,
          useValue: new SafeFetcher({ ...config.urlFetch, maxBytes: config.limits.maxBytes }),
        },
        SafeFetcherCloser,
        // A plain class (libs/imaging knows no Nest): one instance for the app.
        { provide: ImageProcessor, useValue: new ImageProcessor() },
        TaskDispatcher,
        AnalyzeService,
        ReadinessService,
        ModelsService,
        { provide: READINESS_PROBE, useExisting: ReadinessService },
        NatsConnectionCloser,
      ],
    };
  }
}
