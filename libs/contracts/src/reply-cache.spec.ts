import { canonicalJson, replyCacheKey, replyCacheKeyFilter, type ReplyKeyParts } from './reply-cache';
import { taskOptionsFromFields } from './analyze.schema';
import { taskRequestSchema } from './task-messages.schema';
import { moderationDecisionSamples } from './task-results.schema';

const parts: ReplyKeyParts = {
  task: 'moderation',
  sha256: 'a'.repeat(64),
  width: 640,
  height: 480,
  routing: { tier: 'auto', fallback: false },
  options: { moderation: { policy: 'strict' }, ocr: { mode: 'document' } },
  fingerprint: 'f1',
};

describe('replyCacheKey', () => {
  it('is a KV-safe key that names the task and the upload', () => {
    const key = replyCacheKey(parts);
    expect(key).toMatch(/^reply\.moderation\.a{64}\.[0-9a-f]{32}$/);
    expect(key).toMatch(/^[-/_=.a-zA-Z0-9]+$/);
    // The filter for the upload's kept replies, as a KV key filter reads it (`*` one token).
    const [prefix, task, sha256] = replyCacheKeyFilter(parts.sha256).split('.');
    expect(key.split('.').slice(0, 3)).toEqual([prefix, 'moderation', sha256]);
    expect(task).toBe('*');
    expect(replyCacheKeyFilter(parts.sha256, 'moderation')).toBe(`reply.moderation.${'a'.repeat(64)}.*`);
  });

  it('changes with everything that changes the reply', () => {
    const key = replyCacheKey(parts);
    const variants: Array<Partial<ReplyKeyParts>> = [
      { fingerprint: 'f2' },
      { width: 641 },
      { height: 481 },
      { routing: { tier: 'small', fallback: false } },
      { routing: { tier: 'auto', fallback: true } },
      { options: { moderation: { policy: 'default' } } },
      { options: {} },
      { sha256: 'b'.repeat(64) },
      { task: 'ocr' },
    ];
    for (const variant of variants) expect(replyCacheKey({ ...parts, ...variant })).not.toBe(key);
  });

  it("ignores other tasks' options and the order of keys", () => {
    const key = replyCacheKey(parts);
    expect(replyCacheKey({ ...parts, options: { moderation: { policy: 'strict' } } })).toBe(key);
    const tagging: ReplyKeyParts = {
      ...parts,
      task: 'tagging',
      options: { tagging: { categories: ['shoes'], profile: 'marketplace-main' } },
    };
    const reordered: ReplyKeyParts = {
      ...tagging,
      options: { tagging: { profile: 'marketplace-main', categories: ['shoes'] } },
    };
    expect(replyCacheKey(reordered)).toBe(replyCacheKey(tagging));
  });
});

describe('replyCacheKey across the wire', () => {
  it.each([
    ['no options', {}],
    ['a policy', { policy: 'strict' }],
    ['OCR personal data only', { pii: 'redact' as const }],
    ['a question', { question: 'What colour is the mug?' }],
    ['a language', { language: 'de' }],
    ['tagging choices', { categories: ['shoes/sneakers'], profile: 'marketplace-main' }],
  ])("gives the gateway's options and the worker's parsed copy one key: %s", (_name, fields) => {
    const gatewayOptions = taskOptionsFromFields(fields);
    const message = JSON.parse(
      JSON.stringify({
        requestId: 'r1',
        image: { bucket: 'b', key: 'k', sha256: 'a'.repeat(64), width: 640, height: 480, mime: 'image/jpeg' },
        routing: parts.routing,
        options: gatewayOptions,
      }),
    ) as unknown;
    const workerOptions = taskRequestSchema.parse(message).options;
    for (const task of ['moderation', 'tagging', 'ocr', 'describe'] as const) {
      expect(replyCacheKey({ ...parts, task, options: workerOptions })).toBe(
        replyCacheKey({ ...parts, task, options: gatewayOptions }),
      );
    }
  });
});

describe('canonicalJson', () => {
  it('sorts object keys at every depth and keeps array order', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, 1], c: null } })).toBe('{"a":{"c":null,"d":[2,1]},"b":1}');
  });
});

describe('moderationDecisionSamples', () => {
  it('gives one sample per category found, or category none', () => {
    expect(moderationDecisionSamples({ decision: 'allow', categories: [] })).toEqual([
      { decision: 'allow', category: 'none' },
    ]);
    const hit = (id: string) => ({ id, confidence: 0.9, evidence: { rationale: 'seen' } });
    expect(
      moderationDecisionSamples({ decision: 'block', categories: [hit('violence.graphic'), hit('drugs')] }),
    ).toEqual([
      { decision: 'block', category: 'violence.graphic' },
      { decision: 'block', category: 'drugs' },
    ]);
  });
});
