import { Catch, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { activeTraceId } from '@argus/telemetry';
import { toProblem } from './problem';

@Catch()
export class ProblemFilter implements ExceptionFilter {
  private readonly logger = new Logger('Problem');

  async catch(error: unknown, host: ArgumentsHost): Promise<void> {
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    await sendProblem(http.getResponse<FastifyReply>(), error, request.url, this.logger);
  }
}

export async function sendProblem(
  reply: FastifyReply,
  error: unknown,
  instance: string,
  logger: Logger,
): Promise<void> {
  const problem = toProblem(error, activeTraceId(), instance);
  if (problem.status >= 500 && problem.body.code === 'INTERNAL') {
    logger.error(`${instance}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  }
  await reply.status(problem.status).headers(problem.headers).send(problem.body);
}
