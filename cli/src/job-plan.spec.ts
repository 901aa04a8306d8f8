import { itemIdSchema, MAX_JOB_ITEMS } from '@argus/contracts';
import { chunk, idFromRelativePath, planItems } from './job-plan';

const file = (relative: string) => ({ path: `/data/${relative}`, relative });

describe('idFromRelativePath', () => {
  it('turns folders into underscores when the result is a valid item id', () => {
    expect(idFromRelativePath('shop/shoes/red-1.jpg')).toBe('shop_shoes_red-1.jpg');
    expect(idFromRelativePath('a.png')).toBe('a.png');
  });

  it.each(['with space.jpg', 'ümlaut.jpg', '.hidden.jpg', 'x..y.jpg', `${'a'.repeat(130)}.jpg`])(
    'gives up on %s',
    (relative) => {
      expect(idFromRelativePath(relative)).toBeUndefined();
    },
  );
});

describe('planItems', () => {
  it('keeps derived ids, gives item-N (1-based position) to the rest, and never repeats an id', () => {
    const plan = planItems([
      file('a/b_c.jpg'),
      file('a b.jpg'),
      file('a_b/c.jpg'), // derives a_b_c.jpg, taken by the first
      file('item-4.jpg'),
      file('x.jpg'),
    ]);
    expect(plan.map((item) => [item.id, item.file.relative])).toEqual([
      ['a_b_c.jpg', 'a/b_c.jpg'],
      ['item-2', 'a b.jpg'],
      ['item-3', 'a_b/c.jpg'],
      ['item-4.jpg', 'item-4.jpg'],
      ['x.jpg', 'x.jpg'],
    ]);
  });

  it('skips an item-N that a file already claimed', () => {
    const plan = planItems([file('item-2'), file('bad name.jpg')]);
    expect(plan.map((item) => item.id)).toEqual(['item-2', 'item-2-2']);
  });

  it('is stable: the same files give the same ids', () => {
    const files = ['z.jpg', 'q q.png', 'dir/y.gif'].map(file);
    expect(planItems(files)).toEqual(planItems(files));
  });

  it('assigns valid, unique ids to 2,500 files and splits them into jobs of at most 1000', () => {
    const files = Array.from({ length: 2500 }, (_, i) => file(i % 2 ? `dir/p${i}.jpg` : `bad name ${i}.jpg`));
    const plan = planItems(files);
    expect(new Set(plan.map((item) => item.id)).size).toBe(2500);
    for (const item of plan) expect(itemIdSchema.safeParse(item.id).success).toBe(true);
    const jobs = chunk(plan);
    expect(MAX_JOB_ITEMS).toBe(1000);
    expect(jobs.map((job) => job.length)).toEqual([1000, 1000, 500]);
    expect(jobs.flat()).toEqual(plan);
  });
});

describe('chunk', () => {
  it('splits at the size and keeps order', () => {
    expect(chunk([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
    expect(chunk([1, 2], 2)).toEqual([[1, 2]]);
    expect(chunk([], 2)).toEqual([]);
  });

  it('refuses a size below 1', () => {
    expect(() => chunk([1], 0)).toThrow(RangeError);
  });
});
