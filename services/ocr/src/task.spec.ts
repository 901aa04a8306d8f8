import type { OcrResult } from '@argus/contracts';
import { ImageContext } from '@argus/inference';
import { ArgusMetrics } from '@argus/telemetry';
import { ocrTask, piiPostprocessor } from './task';

const result: OcrResult = {
  text: 'Call +44 20 7946 0958 or write to ana@example.com',
  lines: [{ text: 'Call +44 20 7946 0958 or write to ana@example.com' }],
  confidence: 0.9,
  mode: 'document',
  language: { code: 'en', confidence: 0.9 },
  keyValues: [],
  tables: [],
};

describe('the OCR definition', () => {
  const task = ocrTask.boot({
    processor: {} as never,
    runtimes: {} as never,
    metrics: new ArgusMetrics('ocr'),
  });

  it('reads in document mode unless the request names another', () => {
    expect(task.resolve({})).toEqual({ mode: 'document' });
    expect(task.resolve({ ocr: { mode: 'label', pii: 'redact' } })).toEqual({ mode: 'label', pii: 'redact' });
  });

  it('fingerprints the mode, not the PII handling, which is applied after the cache', () => {
    const label = task.fingerprint({ mode: 'label' });
    expect(task.fingerprint({ mode: 'label', pii: 'redact' })).toBe(label);
    expect(task.fingerprint({ mode: 'scene' })).not.toBe(label);
  });

  it('flags or redacts personal data after routing, and leaves the text alone when PII is off', async () => {
    const image = ImageContext.of(Buffer.from('not read'));
    expect(await piiPostprocessor.run(image, { mode: 'document' }, result)).toEqual({});
    const flagged = await piiPostprocessor.run(image, { mode: 'document', pii: 'flag' }, result);
    expect(flagged.pii).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ kind: 'phone' }),
        expect.objectContaining({ kind: 'email' }),
      ]),
    );
    const redacted = await piiPostprocessor.run(image, { mode: 'document', pii: 'redact' }, result);
    expect(JSON.stringify(redacted)).not.toContain('ana@example.com');
  });
});
