import { JSONCodec, type NatsConnection } from 'nats';
import type { JobMeta } from '@argus/contracts';
import { JobStore } from './job-store';

const codec = JSONCodec();

/** A KV of job metas in write order; `keys` answers in that order, as the server does (last write per key). */
function storeWith(entries: Array<[string, unknown]>) {
  const filters: string[] = [];
  const kv = {
    keys: (filter: string) => {
      filters.push(filter);
      return Promise.resolve(entries.map(([key]) => key));
    },
    get: (key: string) => {
      const found = entries.find(([name]) => name === key);
      if (!found) return Promise.resolve(null);
      const value = found[1] === undefined ? new Uint8Array() : codec.encode(found[1]);
      return Promise.resolve({ operation: found[1] === undefined ? 'DEL' : 'PUT', value });
    },
  };
  const connection = { jetstream: () => ({ views: { kv: () => Promise.resolve(kv) } }) };
  return { store: new JobStore(connection as unknown as NatsConnection, 3600), filters };
}

const meta = (jobId: string, tenant?: string): JobMeta => ({
  jobId,
  createdAt: `2026-12-06T10:00:0${jobId.slice(-1)}.000Z`,
  ...(tenant ? { tenant } : {}),
  tasks: ['moderation'],
  itemIds: ['a', 'b'],
});

describe('JobStore.listJobHeads', () => {
  it('reads job metas only (one key token), keeps id, time and tenant, and skips what is not a job', async () => {
    const { store, filters } = storeWith([
      ['job1', meta('job1', 'shop-a')],
      ['job2', meta('job2')],
      ['gone3', undefined],
      ['junk4', { not: 'a job' }],
    ]);
    expect(await store.listJobHeads(10)).toEqual({
      heads: [
        { jobId: 'job1', createdAt: '2026-12-06T10:00:01.000Z', tenant: 'shop-a' },
        { jobId: 'job2', createdAt: '2026-12-06T10:00:02.000Z' },
      ],
      truncated: false,
    });
    expect(filters).toEqual(['*']);
  });

  it('reads at most maxKeys, the most recently written, and says the list is truncated', async () => {
    const { store } = storeWith([1, 2, 3, 4, 5].map((n) => [`job${n}`, meta(`job${n}`, 'shop-a')]));
    const { heads, truncated } = await store.listJobHeads(2);
    expect(heads.map((head) => head.jobId)).toEqual(['job4', 'job5']);
    expect(truncated).toBe(true);
  });
});
