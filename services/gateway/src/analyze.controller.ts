import { Controller, HttpCode, Inject, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { withDefaultPolicy } from '@argus/contracts';
import { AnalyzeService } from './analyze.service';
import { readAnalyzeInput } from './analyze-input';

@Controller('v1')
export class AnalyzeController {
  constructor(@Inject(AnalyzeService) private readonly service: AnalyzeService) {}

  @Post('analyze')
  @HttpCode(200)
  async analyze(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const input = await readAnalyzeInput(request);
    const response = await this.service.analyze({
      ...input,
      // A key's default policy applies when the request names none.
      options: withDefaultPolicy(input.options, request.argusCaller?.policy),
    });
    await reply.header('x-request-id', response.id).header('x-trace-id', response.traceId).send(response);
  }
}
