import { Controller, Delete, Get, HttpCode, Inject, Param, Post, Query, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { jobListQuerySchema, jobStatusQuerySchema, type JobList, type JobStatus } from '@argus/contracts';
import { parseFields } from './analyze-input';
import { readJobInput } from './job-intake';
import { JobsService } from './jobs.service';

@Controller('v1/jobs')
export class JobsController {
  constructor(@Inject(JobsService) private readonly service: JobsService) {}

  @Post()
  @HttpCode(202)
  async create(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const created = await this.service.create(await readJobInput(request), request.argusCaller);
    await reply.status(202).header('location', `/v1/jobs/${created.jobId}`).send(created);
  }

  /** The caller's tenant's jobs, newest first, `limit` at a time; `cursor` is the previous page's `nextCursor`. */
  @Get()
  list(@Query() query: unknown, @Req() request: FastifyRequest): Promise<JobList> {
    return this.service.list(parseFields(jobListQuerySchema, query ?? {}), request.argusCaller);
  }

  @Get(':id')
  status(
    @Param('id') id: string,
    @Query() query: unknown,
    @Req() request: FastifyRequest,
  ): Promise<JobStatus> {
    return this.service.status(id, parseFields(jobStatusQuerySchema, query ?? {}), request.argusCaller);
  }

  /** Cancelling is asynchronous: items already in a worker finish, the rest are recorded `cancelled`. */
  @Delete(':id')
  @HttpCode(202)
  cancel(@Param('id') id: string, @Req() request: FastifyRequest): Promise<JobStatus> {
    return this.service.cancel(id, request.argusCaller);
  }
}
