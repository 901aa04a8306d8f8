import { NotFoundException } from '@nestjs/common';
import { ArgusError, RETRY_AFTER_SECONDS } from '@argus/contracts';
import { AnalyzeFailedError, InvalidRequestError, toProblem } from './problem';

const TRACE = 'abc123';

describe('toProblem', () => {
  it('turns a coded error into problem details with its status', () => {
    const problem = toProblem(new ArgusError('IMAGE_DECODE_FAILED', 'broken'), TRACE, '/v1/analyze');
    expect(problem.status).toBe(422);
    expect(problem.headers['content-type']).toBe('application/problem+json');
    expect(problem.body).toEqual({
      type: 'urn:argus:error:image-decode-failed',
      title: 'The image could not be decoded',
      status: 422,
      detail: 'broken',
      code: 'IMAGE_DECODE_FAILED',
      traceId: TRACE,
      instance: '/v1/analyze',
    });
  });

  it('adds Retry-After to retryable codes only', () => {
    expect(toProblem(new ArgusError('UPSTREAM_BUSY', 'x'), TRACE).headers['retry-after']).toBe('5');
    expect(toProblem(new ArgusError('MODEL_UNAVAILABLE', 'x'), TRACE).status).toBe(503);
    expect(toProblem(new ArgusError('INFERENCE_TIMEOUT', 'x'), TRACE).headers['retry-after']).toBeUndefined();
  });

  it('maps Fastify rejections to stable codes', () => {
    const tooLarge = Object.assign(new Error('too large'), {
      code: 'FST_ERR_CTP_BODY_TOO_LARGE',
      statusCode: 413,
    });
    expect(toProblem(tooLarge, TRACE).body.code).toBe('IMAGE_TOO_LARGE');
    const fileTooLarge = Object.assign(new Error('file'), { code: 'FST_REQ_FILE_TOO_LARGE' });
    expect(toProblem(fileTooLarge, TRACE).status).toBe(413);
    const mediaType = Object.assign(new Error('nope'), {
      code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE',
      statusCode: 415,
    });
    expect(toProblem(mediaType, TRACE).body.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    const badJson = Object.assign(new SyntaxError('Unexpected token'), { statusCode: 400 });
    expect(toProblem(badJson, TRACE).body.code).toBe('INVALID_REQUEST');
    expect(toProblem(new NotFoundException('Cannot GET /x'), TRACE).body.code).toBe('NOT_FOUND');
  });

  it('never leaks internals of unexpected errors', () => {
    const problem = toProblem(new Error('connection string postgres://secret'), TRACE);
    expect(problem.status).toBe(500);
    expect(problem.body.code).toBe('INTERNAL');
    expect(problem.body.detail).not.toContain('secret');
  });

  it('names each invalid field and carries per-task results when every task failed', () => {
    const invalid = toProblem(
      new InvalidRequestError([{ field: 'tasks', message: 'unknown task faces' }]),
      TRACE,
    );
    expect(invalid.body.errors).toEqual([{ field: 'tasks', message: 'unknown task faces' }]);
    const results = {
      ocr: {
        status: 'error' as const,
        engine: 'none' as const,
        tier: 'none' as const,
        escalations: [],
        model: 'none',
        durationMs: 1,
        error: { code: 'MODEL_UNAVAILABLE' as const, message: 'm' },
      },
    };
    expect(
      toProblem(new AnalyzeFailedError('MODEL_UNAVAILABLE', 'all failed', results), TRACE).body.results,
    ).toEqual(results);
  });

  it('answers Retry-After from the failed tasks when they know it (a full tier: 1 s), else the default', () => {
    const busy = new ArgusError('UPSTREAM_BUSY', 'all 3 slots of the small tier are in use', {
      cause: 'tier_full',
      retryAfterSeconds: 1,
    });
    const taskError = busy.toTaskError();
    expect(taskError).toEqual({ code: 'UPSTREAM_BUSY', message: busy.message, retryAfterSeconds: 1 });
    const results = {
      moderation: {
        status: 'error' as const,
        engine: 'ollama' as const,
        tier: 'small' as const,
        escalations: [],
        model: 'qwen2.5vl:3b',
        durationMs: 260,
        error: taskError,
      },
    };
    const failed = new AnalyzeFailedError('UPSTREAM_BUSY', 'busy', results, { retryAfterSeconds: 1 });
    expect(toProblem(failed, TRACE).headers['retry-after']).toBe('1');
    expect(
      toProblem(new AnalyzeFailedError('UPSTREAM_BUSY', 'busy', results), TRACE).headers['retry-after'],
    ).toBe(String(RETRY_AFTER_SECONDS));
  });
});
