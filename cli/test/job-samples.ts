// Job status bodies and task replies as the gateway sends them, validated against the contracts so the CLI's specs
// cannot drift from what the gateway really answers.
import {
  jobStatusSchema,
  moderationReplySchema,
  ocrReplySchema,
  taggingReplySchema,
  type JobItemStatus,
  type JobStatus,
  type ModerationReply,
  type OcrReply,
  type TaggingReply,
} from '@argus/contracts';

const meta = {
  engine: 'cpu',
  tier: 'cpu',
  model: 'nsfwjs',
  durationMs: 12,
  escalations: [],
} as const;

export function moderationOk(
  decision: 'allow' | 'review' | 'block',
  categories: Array<{ id: string; confidence: number }> = [],
): ModerationReply {
  return moderationReplySchema.parse({
    ...meta,
    status: 'ok',
    cached: false,
    needsGpuTier: [],
    decision,
    policy: 'default',
    triggeredBy: decision === 'allow' ? [] : categories.map((category) => category.id),
    categories: categories.map((category) => ({ ...category, evidence: { rationale: 'seen' } })),
    reason: 'a photo',
    confidence: 0.9,
  });
}

export function taggingOk(category: string | null, failedChecks: string[] = []): TaggingReply {
  const checks = ['background_white', 'sharpness', 'min_resolution'].map((id) => ({
    id,
    passed: !failedChecks.includes(id),
    value: 1,
    threshold: 1,
    message: id,
  }));
  return taggingReplySchema.parse({
    ...meta,
    status: 'ok',
    cached: false,
    needsGpuTier: [],
    category,
    attributes: {},
    attributeSources: {},
    customAttributes: null,
    colours: [],
    quality: {
      width: 640,
      height: 480,
      exposure: { meanLuminance: 0.5, shadowsClipped: 0, highlightsClipped: 0, verdict: 'ok' },
      sharpness: { laplacianVariance: 300, verdict: 'ok' },
    },
    condition: null,
    defects: [],
    photo: null,
    confidence: null,
    compliance: { profile: 'default', passed: failedChecks.length === 0, checks },
  });
}

export function ocrOk(text: string): OcrReply {
  return ocrReplySchema.parse({
    ...meta,
    status: 'ok',
    cached: false,
    needsGpuTier: [],
    text,
    lines: text.split('\n').map((line) => ({ text: line })),
    confidence: 0.8,
    mode: 'scene',
    language: { code: 'en', confidence: 0.9 },
    keyValues: [],
    tables: [],
  });
}

export function errorReply(code: string, message: string): ModerationReply {
  return moderationReplySchema.parse({ ...meta, status: 'error', error: { code, message } });
}

export function jobStatus(
  jobId: string,
  items: JobItemStatus[],
  overrides: Partial<JobStatus> = {},
): JobStatus {
  const count = (status: JobItemStatus['status']) => items.filter((item) => item.status === status).length;
  const pending = count('pending');
  return jobStatusSchema.parse({
    jobId,
    status: pending === 0 ? 'completed' : 'running',
    createdAt: '2026-11-26T10:00:00.000Z',
    tasks: ['moderation', 'tagging', 'ocr'],
    counts: {
      total: items.length,
      done: count('done'),
      failed: count('failed'),
      dead: count('dead'),
      cancelled: count('cancelled'),
      pending,
    },
    percent: items.length === 0 ? 100 : (100 * (items.length - pending)) / items.length,
    items,
    page: { number: 1, size: 1000, totalItems: items.length },
    ...overrides,
  });
}
