import { Controller, Inject, type Type } from '@nestjs/common';
import { Ctx, MessagePattern, NatsContext, Payload } from '@nestjs/microservices';
import {
  MESSAGE_HEADERS,
  MODELS_SUBJECTS,
  PING_SUBJECTS,
  TASK_SUBJECTS,
  type ModelsReply,
  type PingReply,
  type Task,
  type TaskReply,
} from '@argus/contracts';
import { natsContextHeaders } from '@argus/messaging';
import { TaskPipeline } from './task-pipeline.service';
import { WorkerHealth } from './worker-health.service';

/** Subjects are per task, and decorators need them at class creation, so each service gets its own class. */
export function createWorkerMessageController(task: Task): Type {
  @Controller()
  class WorkerMessageController {
    constructor(
      @Inject(TaskPipeline) private readonly pipeline: TaskPipeline,
      @Inject(WorkerHealth) private readonly health: WorkerHealth,
    ) {}

    @MessagePattern(TASK_SUBJECTS[task])
    analyze(@Payload() payload: unknown, @Ctx() ctx: NatsContext): Promise<TaskReply> {
      const headers = natsContextHeaders(ctx);
      const budget = Number(headers?.get(MESSAGE_HEADERS.timeoutMs));
      return this.pipeline.handle(
        payload,
        headers,
        Number.isFinite(budget) && budget > 0 ? budget : undefined,
      );
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
  return WorkerMessageController;
}
