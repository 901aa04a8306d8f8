import { Controller, Inject, type Type } from '@nestjs/common';
import { Ctx, MessagePattern, NatsContext, Payload } from '@nestjs/microservices';
import {
  LEGACY_TASK_SUBJECTS,
  MESSAGE_HEADERS,
  MODELS_SUBJECTS,
  PING_SUBJECTS,
  TASK_HEARTBEAT,
  TASK_SUBJECTS,
  type ModelsReply,
  type PingReply,
  type Task,
  type TaskReply,
} from '@argus/contracts';
import type { WorkerConfig } from '@argus/config';
import {
  NATS_CONNECTION,
  natsContextHeaders,
  startTaskHeartbeat,
  type HeartbeatPublisher,
} from '@argus/messaging';
import { TaskPipeline } from './task-pipeline.service';
import { WorkerHealth } from './worker-health.service';
import { WORKER_CONFIG } from './worker.tokens';

/** Subjects are per task, and decorators need them at class creation, so each service gets its own class. */
export function createWorkerMessageController(task: Task): Type {
  @Controller()
  class WorkerMessageController {
    constructor(
      @Inject(TaskPipeline) private readonly pipeline: TaskPipeline,
      @Inject(WorkerHealth) private readonly health: WorkerHealth,
      @Inject(NATS_CONNECTION) private readonly publisher: HeartbeatPublisher,
      @Inject(WORKER_CONFIG) private readonly config: Pick<WorkerConfig, 'heartbeatIntervalMs'>,
    ) {}

    @MessagePattern(TASK_SUBJECTS[task])
    async analyze(@Payload() payload: unknown, @Ctx() ctx: NatsContext): Promise<TaskReply> {
      const headers = natsContextHeaders(ctx);
      const budget = Number(headers?.get(MESSAGE_HEADERS.timeoutMs));
      // "Still working" to the gateway until the reply, so it can tell a slow answer from a dead worker.
      const stopHeartbeat = startTaskHeartbeat(
        this.publisher,
        headers?.get(TASK_HEARTBEAT.subjectHeader),
        this.config.heartbeatIntervalMs,
      );
      try {
        return await this.pipeline.handle(
          payload,
          headers,
          Number.isFinite(budget) && budget > 0 ? budget : undefined,
        );
      } finally {
        stopHeartbeat();
      }
    }

    /** The subject an earlier release sent this task to (see LEGACY_TASK_SUBJECTS); subscribed only if there is one. */
    analyzeLegacy(@Payload() payload: unknown, @Ctx() ctx: NatsContext): Promise<TaskReply> {
      return this.analyze(payload, ctx);
    }

    @MessagePattern(PING_SUBJECTS[task])
    ping(): Promise<PingReply> {
      return this.health.readiness();
    }

    @MessagePattern(MODELS_SUBJECTS[task])
    models(): Promise<ModelsReply> {
      return this.health.models();
    }
  }
  const legacy = LEGACY_TASK_SUBJECTS[task];
  if (legacy) {
    const prototype = WorkerMessageController.prototype;
    const descriptor = Object.getOwnPropertyDescriptor(prototype, 'analyzeLegacy');
    if (descriptor) MessagePattern(legacy.subject)(prototype, 'analyzeLegacy', descriptor);
  }
  return WorkerMessageController;
}
