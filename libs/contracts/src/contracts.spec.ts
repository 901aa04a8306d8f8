import {
  analyzeFormFieldsSchema,
  analyzeJsonBodySchema,
  ERROR_TABLE,
  modelOutputJsonSchema,
  moderationReplySchema,
  mostActionableCode,
  MODEL_OUTPUT_SCHEMAS,
  TASK_RESULT_SCHEMAS,
  LEGACY_TASK_SUBJECTS,
  QUEUE_GROUPS,
  TASK_SERVICES,
  TASK_SUBJECTS,
  TASKS,
  namedOptionsOf,
  taskOptionsFromFields,
  taskRequestSchema,
  withDefaultPolicy,
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

  it('names each task once: subject, queue group and service all derive from its id', () => {
    for (const task of TASKS) {
      expect(TASK_SUBJECTS[task]).toBe(`argus.v1.${task}.analyze`);
      expect(QUEUE_GROUPS[task]).toBe(`argus-${task}`);
      expect(TASK_SERVICES[task]).toBe(task);
    }
    expect(LEGACY_TASK_SUBJECTS.ocr?.subject).toBe('argus.v1.ocr.extract');
  });
});

describe('task options', () => {
  const base = {
    requestId: 'r1',
    image: { bucket: 'b', key: 'k', sha256: 'a'.repeat(64), width: 10, height: 10, mime: 'image/jpeg' },
  };

  it("puts the body's flat option fields under the task they belong to, and no empty entries", () => {
    expect(taskOptionsFromFields({})).toEqual({});
    expect(
      taskOptionsFromFields({
        policy: 'strict',
        profile: 'marketplace-secondary',
        listing: { colour: 'red' },
        pii: 'redact',
      }),
    ).toEqual({
      moderation: { policy: 'strict' },
      tagging: { profile: 'marketplace-secondary', listing: { colour: 'red' } },
      ocr: { mode: 'document', pii: 'redact' },
    });
    expect(taskOptionsFromFields({ ocrMode: 'label' })).toEqual({ ocr: { mode: 'label' } });
  });

  it("reads a 0.1 gateway's top-level option fields into options, so a rolling upgrade loses none", () => {
    const legacy = taskRequestSchema.parse({
      ...base,
      policy: 'strict',
      profile: 'marketplace-secondary',
      pii: 'flag',
      tagging: { categories: ['home/kitchen'] },
      ocr: { mode: 'scene' },
    });
    expect(legacy.options).toEqual({
      moderation: { policy: 'strict' },
      tagging: { categories: ['home/kitchen'], profile: 'marketplace-secondary' },
      ocr: { mode: 'scene', pii: 'flag' },
    });
    expect(legacy).not.toHaveProperty('policy');
    expect(taskRequestSchema.parse(base).options).toEqual({});
  });

  it('refuses an option a task does not have', () => {
    expect(
      taskRequestSchema.safeParse({ ...base, options: { ocr: { mode: 'document', colour: 'x' } } }).success,
    ).toBe(false);
    expect(taskRequestSchema.safeParse({ ...base, options: { translate: {} } }).success).toBe(false);
  });

  it("lists the options that name a file entry, with the field the body uses, and applies a key's default policy", () => {
    const options = { moderation: { policy: 'strict' }, tagging: { profile: 'marketplace-secondary' } };
    expect(namedOptionsOf(options)).toEqual([
      { field: 'policy', names: 'moderation-policies', value: 'strict' },
      { field: 'profile', names: 'listing-profiles', value: 'marketplace-secondary' },
    ]);
    expect(withDefaultPolicy({}, 'wine-shop')).toEqual({ moderation: { policy: 'wine-shop' } });
    expect(withDefaultPolicy(options, 'wine-shop')).toBe(options);
    expect(withDefaultPolicy({ ocr: { mode: 'label' } }, undefined)).toEqual({ ocr: { mode: 'label' } });
  });
});
