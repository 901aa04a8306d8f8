import { MessagingError, WorkerLostError } from '@argus/messaging';
import type { TaskRequest } from '@argus/contracts';
import { TaskDispatcher, type TaskRequester } from './task-dispatcher.service';

const request: TaskRequest = {
  requestId: 'r1',
  image: { bucket: 'b', key: 'r1', sha256: 'a'.repeat(64), width: 10, height: 10, mime: 'image/jpeg' },
  routing: { tier: 'auto', fallback: false },
  options: {},
};

function dispatcherAnswering(answer: () => Promise<unknown>) {
  const calls: Array<{ subject: string; timeoutMs: number }> = [];
  const client: TaskRequester = {
    request: (subject, _payload, options) => {
      calls.push({ subject, timeoutMs: options.timeoutMs });
      return answer();
    },
  };
  return { dispatcher: new TaskDispatcher(client), calls };
}

describe('TaskDispatcher', () => {
  it('sends to the versioned subject with the remaining budget and returns a valid reply', async () => {
    const reply = {
      status: 'ok',
      engine: 'ollama',
      tier: 'small',
      model: 'm',
      durationMs: 5,
      cached: false,
      escalations: [],
      needsGpuTier: [],
      text: 'hi',
      lines: [{ text: 'hi' }],
      mode: 'document' as const,
      language: { code: 'en', confidence: null },
      keyValues: [],
      tables: [],
      confidence: null,
    };
    const { dispatcher, calls } = dispatcherAnswering(() => Promise.resolve(reply));
    await expect(dispatcher.dispatch('ocr', request, 1234)).resolves.toEqual(reply);
    expect(calls).toEqual([{ subject: 'argus.v1.ocr.analyze', timeoutMs: 1234 }]);
  });

  it('turns a reply outside the contract into INTERNAL', async () => {
    const { dispatcher } = dispatcherAnswering(() => Promise.resolve({ status: 'ok', engine: 'ollama' }));
    const reply = await dispatcher.dispatch('moderation', request, 1000);
    expect(reply).toMatchObject({ status: 'error', error: { code: 'INTERNAL' } });
  });

  it.each([
    ['no_responders', 'MODEL_UNAVAILABLE', 'no tagging worker is running'],
    ['timeout', 'INFERENCE_TIMEOUT', 'tagging did not answer before the deadline'],
    ['disconnected', 'MODEL_UNAVAILABLE', 'gone'],
  ] as const)('maps a %s failure to %s', async (failure, code, message) => {
    const { dispatcher } = dispatcherAnswering(() => Promise.reject(new MessagingError(failure, 'gone')));
    await expect(dispatcher.dispatch('tagging', request, 1000)).resolves.toMatchObject({
      status: 'error',
      engine: 'none',
      error: { code, message },
    });
  });

  it('answers a worker that went silent (no heartbeat) with a retryable MODEL_UNAVAILABLE, saying so', async () => {
    const { dispatcher } = dispatcherAnswering(() =>
      Promise.reject(new WorkerLostError('argus.v1.ocr.extract', { silentMs: 3_000, intervalMs: 1_000 })),
    );
    const reply = await dispatcher.dispatch('ocr', request, 60_000);
    expect(reply).toMatchObject({ status: 'error', error: { code: 'MODEL_UNAVAILABLE' } });
    expect(reply.status === 'error' && reply.error.message).toMatch(/went silent: no heartbeat for 3000 ms/);
  });
});
