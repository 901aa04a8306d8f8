import { JSONCodec, headers as natsHeaders } from 'nats';
import { parseResultEvent } from './job-events';

const codec = JSONCodec();
const result = { state: 'done', reply: {}, finishedAt: '2026-11-26T00:00:00.000Z' };

describe('parseResultEvent', () => {
  it('splits the key into job, item (dots allowed) and task', () => {
    const event = parseResultEvent({
      subject: '$KV.argus-job-results.6f1c.sku.12.b.ocr',
      headers: undefined,
      data: codec.encode(result),
    });
    expect(event).toMatchObject({ jobId: '6f1c', itemId: 'sku.12.b', task: 'ocr', key: '6f1c.sku.12.b.ocr' });
  });

  it('skips deletes, purges, unknown tasks and bodies that are not results', () => {
    const deleted = natsHeaders();
    deleted.set('KV-Operation', 'DEL');
    const subject = '$KV.argus-job-results.j.i.moderation';
    expect(parseResultEvent({ subject, headers: deleted, data: new Uint8Array() })).toBeUndefined();
    expect(
      parseResultEvent({
        subject: '$KV.argus-job-results.j.i.nope',
        headers: undefined,
        data: codec.encode(result),
      }),
    ).toBeUndefined();
    expect(
      parseResultEvent({ subject, headers: undefined, data: codec.encode({ state: 'odd' }) }),
    ).toBeUndefined();
    expect(
      parseResultEvent({ subject, headers: undefined, data: new TextEncoder().encode('not json') }),
    ).toBeUndefined();
  });
});
