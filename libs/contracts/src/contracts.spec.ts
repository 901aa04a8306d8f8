import {
  analyzeFormFieldsSchema,
  analyzeJsonBodySchema,
  ERROR_TABLE,
  modelOutputJsonSchema,
  moderationReplySchema,
  mostActionableCode,
  MODEL_OUTPUT_SCHEMAS,
  TASK_RESULT_SCHEMAS,
  TASK_SUBJECTS,
  TASKS,
} from './index';

describe('contracts', () => {
  it('derives the Ollama format schema from the zod result schema', () => {
    const schema = modelOutputJsonSchema('moderation');
    expect(schema).toMatchObject({
      type: 'object',
      required: expect.arrayContaining(['categories', 'reason', 'confidence']) as unknown,
      properties: { categories: { type: 'array' } },
    });
    expect(schema).not.toHaveProperty('$schema');
    for (const task of TASKS) {
      expect(modelOutputJsonSchema(task)).toMatchObject({ type: 'object' });
      expect(Object.keys(modelOutputJsonSchema(task).properties as object).sort()).toEqual(
        Object.keys(MODEL_OUTPUT_SCHEMAS[task].shape).sort(),
      );
    }
  });

  it('versions every subject', () => {
    for (const subject of Object.values(TASK_SUBJECTS)) expect(subject).toMatch(/^argus\.v1\./);
  });

  it('defaults tasks to all three and parses a comma list', () => {
    expect(analyzeJsonBodySchema.parse({ imageBase64: 'eA==' }).tasks).toEqual([
      'moderation',
      'tagging',
      'ocr',
    ]);
    expect(analyzeFormFieldsSchema.parse({ tasks: 'ocr, moderation,ocr' }).tasks).toEqual([
      'ocr',
      'moderation',
    ]);
    expect(analyzeFormFieldsSchema.safeParse({ tasks: 'ocr,faces' }).success).toBe(false);
    expect(analyzeFormFieldsSchema.safeParse({ tasks: '' }).success).toBe(false);
    expect(analyzeJsonBodySchema.safeParse({ imageBase64: 'eA==', extra: 1 }).success).toBe(false);
  });

  it('keeps a reply either ok with fields or an error with a code', () => {
    const meta = { engine: 'ollama', tier: 'small', model: 'm', durationMs: 3, escalations: [] };
    const ok = { ...meta, status: 'ok', cached: false, needsGpuTier: [] };
    expect(
      moderationReplySchema.safeParse({
        ...ok,
        decision: 'allow',
        policy: 'default',
        triggeredBy: [],
        categories: [],
        reason: '',
        confidence: 0.9,
      }).success,
    ).toBe(true);
    expect(
      moderationReplySchema.safeParse({ ...ok, decision: 'allow', categories: [], reason: '' }).success,
    ).toBe(false);
    expect(moderationReplySchema.safeParse({ ...meta, status: 'ok' }).success).toBe(false);
    expect(
      moderationReplySchema.safeParse({
        ...meta,
        status: 'error',
        error: { code: 'MODEL_UNAVAILABLE', message: 'x' },
      }).success,
    ).toBe(true);
    expect(
      moderationReplySchema.safeParse({ ...meta, status: 'error', error: { code: 'NOPE', message: 'x' } })
        .success,
    ).toBe(false);
  });

  it('carries optional warnings on every task result, and keeps them through the reply', () => {
    const meta = { engine: 'ollama', tier: 'small', model: 'm', durationMs: 3, escalations: [] };
    const reply = {
      ...meta,
      status: 'ok',
      cached: false,
      needsGpuTier: [],
      decision: 'allow',
      policy: 'default',
      triggeredBy: [],
      categories: [],
      reason: '',
      confidence: 0.85,
      warnings: ['confidence: the model answered 85 for a 0-1 confidence; read as a percent, 0.85'],
    };
    expect(moderationReplySchema.parse(reply)).toMatchObject({ warnings: reply.warnings });
    expect(moderationReplySchema.safeParse({ ...reply, warnings: [1] }).success).toBe(false);
    for (const task of TASKS) expect(TASK_RESULT_SCHEMAS[task].shape).toHaveProperty('warnings');
  });

  it('maps codes to statuses in one table and prefers retryable codes', () => {
    expect(ERROR_TABLE.MODEL_UNAVAILABLE.status).toBe(503);
    expect(ERROR_TABLE.IMAGE_DECODE_FAILED.status).toBe(422);
    expect(mostActionableCode(['INVALID_MODEL_OUTPUT', 'UPSTREAM_BUSY'])).toBe('UPSTREAM_BUSY');
  });
});
