import { Inject, Injectable } from '@nestjs/common';
import {
  ArgusError,
  TASK_REPLY_SCHEMAS,
  TASK_SUBJECTS,
  type ErrorCode,
  type Task,
  type TaskErrorReply,
  type TaskReply,
  type TaskRequest,
} from '@argus/contracts';
import { MessagingError, NatsTaskClient, type MessagingFailure } from '@argus/messaging';

const FAILURE_CODES: Record<MessagingFailure, ErrorCode> = {
  no_responders: 'MODEL_UNAVAILABLE',
  timeout: 'INFERENCE_TIMEOUT',
  disconnected: 'MODEL_UNAVAILABLE',
  remote_error: 'INTERNAL',
  bad_reply: 'INTERNAL',
};

export type TaskRequester = Pick<NatsTaskClient, 'request'>;

/** Sends one task to its worker and always comes back with a reply that honours the contract. */
@Injectable()
export class TaskDispatcher {
  constructor(@Inject(NatsTaskClient) private readonly client: TaskRequester) {}

  async dispatch(task: Task, request: TaskRequest, timeoutMs: number): Promise<TaskReply> {
    const started = performance.now();
    try {
      const raw = await this.client.request(TASK_SUBJECTS[task], request, {
        timeoutMs,
        requestId: request.requestId,
      });
      const parsed = TASK_REPLY_SCHEMAS[task].safeParse(raw);
      if (!parsed.success)
        throw new ArgusError('INTERNAL', `the ${task} worker replied outside the contract`);
      return parsed.data;
    } catch (error) {
      return errorReply(task, error, performance.now() - started);
    }
  }
}

function errorReply(task: Task, error: unknown, elapsedMs: number): TaskErrorReply {
  const taskError =
    error instanceof ArgusError
      ? error.toTaskError()
      : error instanceof MessagingError
        ? { code: FAILURE_CODES[error.failure], message: describeFailure(task, error) }
        : { code: 'INTERNAL' as const, message: `dispatching ${task} failed unexpectedly` };
  return {
    status: 'error',
    engine: 'none',
    tier: 'none',
    model: 'none',
    durationMs: Math.round(elapsedMs),
    escalations: [],
    error: taskError,
  };
}

function describeFailure(task: Task, error: MessagingError): string {
  switch (error.failure) {
    case 'no_responders':
      return `no ${task} worker is running`;
    case 'timeout':
      return `${task} did not answer before the deadline`;
    case 'disconnected':
    case 'remote_error':
    case 'bad_reply':
      return error.message;
  }
}
