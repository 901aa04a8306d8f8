import { ArgusError, type Task, type TaskReply, type TaskRequest } from '@argus/contracts';
import { loadGatewayConfig } from '@argus/config';
import type { NormalisedImage } from '@argus/imaging';
import { ArgusMetrics } from '@argus/telemetry';
import { AnalyzeService, type ImageWriter } from './analyze.service';
import type { ImageNormaliser } from './image-preparation';
import type { ReplyCache } from './reply-cache';
import { AnalyzeFailedError } from './problem';
import type { TaskDispatcher } from './task-dispatcher.service';

const image: NormalisedImage = {
  data: Buffer.from('normalised'),
  mime: 'image/jpeg',
  width: 2048,
  height: 1536,
  sourceFormat: 'png',
  sourceBytes: 12345,
  sourcePixels: 4000 * 3000,
  sha256: 'f'.repeat(64),
  timings: { decodeMs: 1, normaliseMs: 2 },
};

const meta = {
  engine: 'ollama' as const,
  tier: 'small' as const,
  model: 'm',
  durationMs: 1,
  escalations: [],
};
const okMeta = { ...meta, status: 'ok' as const, cached: false, needsGpuTier: [] as string[] };
const quality = {
  width: 10,
  height: 10,
  exposure: { meanLuminance: 0.5, shadowsClipped: 0, highlightsClipped: 0, verdict: 'ok' as const },
  sharpness: { laplacianVariance: 100, verdict: 'ok' as const },
};

const ok = (task: Task): TaskReply =>
  ({
    moderation: { ...okMeta, decision: 'allow', categories: [], reason: 'fine', confidence: 0.9 },
    tagging: {
      ...okMeta,
      category: 'a/b',
      attributes: {},
      attributeSources: {},
      customAttributes: null,
      colours: [],
      quality,
      condition: 'new',
      defects: [],
      photo: null,
      confidence: 0.8,
    },
    ocr: {
      ...okMeta,
      text: '',
      lines: [],
      confidence: null,
      mode: 'document',
      language: { code: 'und', confidence: null },
      keyValues: [],
      tables: [],
    },
    describe: {
      ...okMeta,
      caption: 'A red mug on a table.',
      altText: 'Red mug on a table',
      tags: ['mug'],
      language: 'en',
      answer: null,
      confidence: null,
    },
  })[task] as TaskReply;

const failed = (code: 'MODEL_UNAVAILABLE' | 'INVALID_MODEL_OUTPUT'): TaskReply => ({
  ...meta,
  status: 'error' as const,
  error: { code, message: code },
});

const routing = { tier: 'auto', fallback: false } as const;

type Replies =
  Partial<Record<Task, TaskReply>> | ((task: Task, request: TaskRequest) => TaskReply | undefined);

function setup(
  replies: Replies,
  normalise: ImageNormaliser['normalise'] = () => Promise.resolve(image),
  env: NodeJS.ProcessEnv = {},
  replyCache: Pick<ReplyCache, 'lookup'> | null = null,
) {
  const deleted: string[] = [];
  const stored: Array<{ key: string; mime: string }> = [];
  const sent: Array<{ task: Task; request: TaskRequest; timeoutMs: number }> = [];
  const store: ImageWriter = {
    put: (key, _bytes, mime) => {
      stored.push({ key, mime });
      return Promise.resolve();
    },
    delete: (key) => {
      deleted.push(key);
      return Promise.resolve();
    },
  };
  const dispatcher: Pick<TaskDispatcher, 'dispatch'> = {
    dispatch: (task, request, timeoutMs) => {
      sent.push({ task, request, timeoutMs });
      const reply = typeof replies === 'function' ? replies(task, request) : replies[task];
      return Promise.resolve(reply ?? ok(task));
    },
  };
  const metrics = new ArgusMetrics('gateway');
  const profiles = { names: ['marketplace-main', 'marketplace-secondary'] };
  const service = new AnalyzeService(
    loadGatewayConfig({ ARGUS_REQUEST_TIMEOUT_MS: '30000', ...env }),
    { normalise },
    store,
    dispatcher,
    metrics,
    profiles,
    { names: ['default', 'strict', 'wine-shop'] },
    null,
    replyCache,
  );
  return { service, stored, sent, metrics, deleted };
}

describe('AnalyzeService', () => {
  it('deletes the stored image after the answer with ARGUS_RETENTION=0, and keeps it otherwise', async () => {
    const input = { bytes: Buffer.from('x'), tasks: ['moderation' as const], routing, options: {} };
    const eager = setup({}, undefined, { ARGUS_RETENTION: '0' });
    const response = await eager.service.analyze(input);
    await new Promise((resolve) => setImmediate(resolve));
    expect(eager.deleted).toEqual([response.id]);
    const kept = setup({});
    await kept.service.analyze(input);
    await new Promise((resolve) => setImmediate(resolve));
    expect(kept.deleted).toEqual([]);
  });

  it('stores the image once and sends every task a reference to it under the deadline', async () => {
    const { service, stored, sent } = setup({});
    const response = await service.analyze({
      bytes: Buffer.from('x'),
      tasks: ['moderation', 'tagging', 'ocr'],
      routing: { tier: 'medium', fallback: true },
      options: {},
    });
    expect(stored).toHaveLength(1);
    expect(sent.map((s) => s.task)).toEqual(['moderation', 'tagging', 'ocr']);
    for (const { request, timeoutMs } of sent) {
      expect(request.routing).toEqual({ tier: 'medium', fallback: true });
      expect(request.image).toMatchObject({
        key: stored[0].key,
        mime: 'image/jpeg',
        width: 2048,
        height: 1536,
      });
      expect(timeoutMs).toBeGreaterThan(29_000);
      expect(timeoutMs).toBeLessThanOrEqual(30_000);
    }
    expect(response.image).toEqual({
      sha256: image.sha256,
      width: 2048,
      height: 1536,
      format: 'png',
      bytes: 12345,
    });
    expect(Object.keys(response.results)).toEqual(['moderation', 'tagging', 'ocr']);
  });

  it('returns the other results when one task fails', async () => {
    const { service } = setup({ tagging: failed('INVALID_MODEL_OUTPUT') });
    const response = await service.analyze({
      bytes: Buffer.from('x'),
      tasks: ['moderation', 'tagging'],
      routing,
      options: {},
    });
    expect(response.results.moderation?.status).toBe('ok');
    expect(response.results.tagging).toMatchObject({
      status: 'error',
      error: { code: 'INVALID_MODEL_OUTPUT' },
    });
  });

  it('fails the request with the most actionable code when every task fails', async () => {
    const { service } = setup({
      moderation: failed('INVALID_MODEL_OUTPUT'),
      ocr: failed('MODEL_UNAVAILABLE'),
    });
    const error: unknown = await service
      .analyze({ bytes: Buffer.from('x'), tasks: ['moderation', 'ocr'], routing, options: {} })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AnalyzeFailedError);
    expect((error as AnalyzeFailedError).code).toBe('MODEL_UNAVAILABLE');
    expect(Object.keys((error as AnalyzeFailedError).results)).toEqual(['moderation', 'ocr']);
  });

  it('rejects an unknown listing profile naming the field, and forwards a known one', async () => {
    const { service, sent } = setup({});
    await expect(
      service.analyze({
        bytes: Buffer.from('x'),
        tasks: ['tagging'],
        routing,
        options: { tagging: { profile: 'ebay-main' } },
      }),
    ).rejects.toMatchObject({ code: 'INVALID_REQUEST', errors: [{ field: 'profile' }] });
    await service.analyze({
      bytes: Buffer.from('x'),
      tasks: ['tagging'],
      routing,
      options: { tagging: { profile: 'marketplace-secondary' } },
    });
    expect(sent[0]?.request.options).toEqual({ tagging: { profile: 'marketplace-secondary' } });
  });

  it('rejects an unknown moderation policy naming the field, and forwards a known one', async () => {
    const { service, sent } = setup({});
    await expect(
      service.analyze({
        bytes: Buffer.from('x'),
        tasks: ['moderation'],
        routing,
        options: { moderation: { policy: 'lenient' } },
      }),
    ).rejects.toMatchObject({ code: 'INVALID_REQUEST', errors: [{ field: 'policy' }] });
    await service.analyze({
      bytes: Buffer.from('x'),
      tasks: ['moderation'],
      routing,
      options: { moderation: { policy: 'wine-shop' } },
    });
    expect(sent[0]?.request.options).toEqual({ moderation: { policy: 'wine-shop' } });
  });

  it('sends nothing when the image is rejected, and records the outcome', async () => {
    const { service, stored, sent, metrics } = setup({}, () =>
      Promise.reject(new ArgusError('UNSUPPORTED_MEDIA_TYPE', 'svg')),
    );
    await expect(
      service.analyze({ bytes: Buffer.from('<svg/>'), tasks: ['ocr'], routing, options: {} }),
    ).rejects.toThrow('svg');
    expect(stored).toHaveLength(0);
    expect(sent).toHaveLength(0);
    expect(await metrics.registry.getSingleMetricAsString('argus_image_duration_seconds')).toContain(
      'outcome="unsupported_media_type"',
    );
  });
});

describe('AnalyzeService with an upload it has normalised before', () => {
  /** A normaliser that counts its calls and keeps the caller's hash, as ImageProcessor does. */
  function counting() {
    const calls: string[] = [];
    const normalise: ImageNormaliser['normalise'] = (_bytes, _limits, knownSha256) => {
      calls.push('normalise');
      return Promise.resolve({ ...image, sha256: knownSha256 ?? image.sha256 });
    };
    return { calls, normalise };
  }
  const cachedOk = (task: Task): TaskReply => ({ ...ok(task), cached: true }) as TaskReply;
  const miss: TaskReply = {
    ...meta,
    status: 'error',
    error: { code: 'NOT_FOUND', message: 'no cached answer' },
  };
  const sentAs = (sent: Array<{ task: Task; request: TaskRequest }>) =>
    sent.map(({ task, request }) => `${task}${request.cacheOnly ? ' cache-only' : ''}`);

  it('asks the workers for cached answers and neither normalises nor stores it again', async () => {
    const { calls, normalise } = counting();
    const { service, stored, sent } = setup(
      (task, request) => (request.cacheOnly ? cachedOk(task) : ok(task)),
      normalise,
    );
    const input = { bytes: Buffer.from('same photo'), tasks: ['moderation' as const], routing, options: {} };
    const first = await service.analyze(input);
    const second = await service.analyze(input);
    expect(calls).toEqual(['normalise']);
    expect(stored).toHaveLength(1);
    expect(sentAs(sent)).toEqual(['moderation', 'moderation cache-only']);
    expect(sent[1].request.image).toMatchObject({ sha256: first.image.sha256, width: 2048, height: 1536 });
    expect(sent[1].timeoutMs).toBeLessThanOrEqual(1_000);
    expect(second.image).toEqual(first.image);
    expect(second.results.moderation).toMatchObject({ status: 'ok', cached: true });
  });

  it('sends only the tasks without a cached answer down the full path, and keeps the request order', async () => {
    const { calls, normalise } = counting();
    const { service, stored, sent } = setup((task, request) => {
      if (!request.cacheOnly) return ok(task);
      return task === 'ocr' ? cachedOk(task) : miss;
    }, normalise);
    const input = {
      bytes: Buffer.from('same photo'),
      tasks: ['moderation' as const, 'ocr' as const],
      routing,
      options: {},
    };
    await service.analyze(input);
    const second = await service.analyze(input);
    expect(calls).toEqual(['normalise', 'normalise']);
    expect(stored).toHaveLength(2);
    expect(sentAs(sent)).toEqual([
      'moderation',
      'ocr',
      'moderation cache-only',
      'ocr cache-only',
      'moderation',
    ]);
    expect(Object.keys(second.results)).toEqual(['moderation', 'ocr']);
    expect(second.results.ocr).toMatchObject({ status: 'ok', cached: true });
    expect(second.results.moderation).toMatchObject({ status: 'ok', cached: false });
  });

  it('answers a repeat from the replies workers kept, with no worker round trip, when every task has one', async () => {
    const { calls, normalise } = counting();
    const lookups: Array<{ task: Task; sha256: string; width: number }> = [];
    const kept: Pick<ReplyCache, 'lookup'> = {
      lookup: (task, seen) => {
        lookups.push({ task, sha256: seen.sha256, width: seen.width });
        return Promise.resolve({ ...ok(task), durationMs: 900 } as Extract<TaskReply, { status: 'ok' }>);
      },
    };
    const { service, stored, sent, metrics } = setup({}, normalise, {}, kept);
    const input = {
      bytes: Buffer.from('same photo'),
      tasks: ['ocr' as const, 'moderation' as const],
      routing,
      options: {},
    };
    const first = await service.analyze(input);
    expect(lookups).toEqual([]);
    const second = await service.analyze(input);
    expect(calls).toEqual(['normalise']);
    expect(stored).toHaveLength(1);
    expect(sentAs(sent)).toEqual(['ocr', 'moderation']);
    expect(lookups.map(({ task }) => task).sort()).toEqual(['moderation', 'ocr']);
    expect(lookups[0]).toMatchObject({ sha256: first.image.sha256, width: 2048 });
    expect(second.image).toEqual(first.image);
    expect(Object.keys(second.results)).toEqual(['ocr', 'moderation']);
    expect(second.results.moderation).toMatchObject({ status: 'ok', cached: true });
    expect(second.results.moderation?.durationMs).toBeLessThan(900);
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/argus_cache_lookups_total\{[^}]*task="moderation"[^}]*result="hit"[^}]*\} 1/);
    expect(text).toMatch(
      /argus_moderation_decisions_total\{[^}]*decision="allow"[^}]*category="none"[^}]*\} 1/,
    );
  });

  it('asks the workers only for the tasks the reply cache has not kept', async () => {
    const kept: Pick<ReplyCache, 'lookup'> = {
      lookup: (task) =>
        Promise.resolve(task === 'ocr' ? (ok(task) as Extract<TaskReply, { status: 'ok' }>) : undefined),
    };
    const { normalise } = counting();
    const { service, sent } = setup(
      (task, request) => (request.cacheOnly ? cachedOk(task) : ok(task)),
      normalise,
      {},
      kept,
    );
    const input = {
      bytes: Buffer.from('same photo'),
      tasks: ['moderation' as const, 'ocr' as const],
      routing,
      options: {},
    };
    await service.analyze(input);
    const second = await service.analyze(input);
    expect(sentAs(sent)).toEqual(['moderation', 'ocr', 'moderation cache-only']);
    expect(second.results.ocr).toMatchObject({ status: 'ok', cached: true });
    expect(second.results.moderation).toMatchObject({ status: 'ok', cached: true });
  });

  it('does not remember an upload no task could answer', async () => {
    const { calls, normalise } = counting();
    const { service, sent } = setup({ moderation: failed('MODEL_UNAVAILABLE') }, normalise);
    const input = { bytes: Buffer.from('same photo'), tasks: ['moderation' as const], routing, options: {} };
    await expect(service.analyze(input)).rejects.toBeInstanceOf(AnalyzeFailedError);
    await expect(service.analyze(input)).rejects.toBeInstanceOf(AnalyzeFailedError);
    expect(calls).toEqual(['normalise', 'normalise']);
    expect(sentAs(sent)).toEqual(['moderation', 'moderation']);
  });

  it('never asks for cached answers with ARGUS_CACHE_TTL_SECONDS=0', async () => {
    const { calls, normalise } = counting();
    const { service, sent } = setup({}, normalise, { ARGUS_CACHE_TTL_SECONDS: '0' });
    const input = { bytes: Buffer.from('same photo'), tasks: ['moderation' as const], routing, options: {} };
    await service.analyze(input);
    await service.analyze(input);
    expect(calls).toEqual(['normalise', 'normalise']);
    expect(sentAs(sent)).toEqual(['moderation', 'moderation']);
  });
});
