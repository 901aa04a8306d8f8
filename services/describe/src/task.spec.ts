import { ArgusMetrics } from '@argus/telemetry';
import { describeTask } from './task';

describe('the describe definition', () => {
  const task = describeTask.boot({
    processor: {} as never,
    runtimes: {} as never,
    metrics: new ArgusMetrics('describe'),
  });

  it('writes English unless the request names a language, and refuses a tag that is not BCP 47', () => {
    expect(task.resolve({})).toEqual({ language: 'en' });
    expect(task.resolve({ describe: { question: 'What colour?', language: 'pt-BR' } })).toEqual({
      question: 'What colour?',
      language: 'pt-BR',
    });
    expect(() => task.resolve({ describe: { language: 'not a tag!' } })).toThrow(/BCP 47/);
  });

  it('caches each question and language apart', () => {
    const plain = task.fingerprint({ language: 'en' });
    expect(task.fingerprint({ language: 'de' })).not.toBe(plain);
    expect(task.fingerprint({ language: 'en', question: 'a?' })).not.toBe(
      task.fingerprint({ language: 'en', question: 'b?' }),
    );
  });
});
