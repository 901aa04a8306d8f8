import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadProductCategories } from './product-categories';

function file(content: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'argus-categories-')), 'categories.yaml');
  writeFileSync(path, content);
  return path;
}

describe('loadProductCategories', () => {
  it('ships a two-to-three level taxonomy with the usual e-commerce top levels', () => {
    const taxonomy = loadProductCategories({});
    expect(taxonomy.source).toMatch(/config\/product-categories\.yaml$/);
    expect(taxonomy.topLevels).toEqual(
      expect.arrayContaining([
        'apparel',
        'bags-accessories',
        'jewellery-watches',
        'beauty',
        'health',
        'home-kitchen',
        'furniture',
        'electronics',
        'toys-games',
        'sports-outdoors',
        'grocery',
        'books-media',
        'automotive',
        'pet-supplies',
        'office',
        'tools-diy',
        'baby',
      ]),
    );
    expect(taxonomy.paths).toEqual(
      expect.arrayContaining(['apparel/shoes', 'apparel/shoes/sneakers', 'grocery/beverages/water']),
    );
    expect(taxonomy.paths.length).toBeGreaterThanOrEqual(100);
    expect(taxonomy.paths.length).toBeLessThanOrEqual(300);
    expect(new Set(taxonomy.paths).size).toBe(taxonomy.paths.length);
    for (const path of taxonomy.paths) expect(path.split('/').length).toBeGreaterThanOrEqual(2);
  });

  it('loads a replacement file and names what is wrong with a broken one', () => {
    const good = file('version: 1\ncategories:\n  wine:\n    red: [merlot, shiraz]\n    white: []\n');
    expect(loadProductCategories({ ARGUS_PRODUCT_CATEGORIES: good }).paths).toEqual([
      'wine/red',
      'wine/red/merlot',
      'wine/red/shiraz',
      'wine/white',
    ]);
    const badName = file('version: 1\ncategories:\n  Wine:\n    red: []\n');
    expect(() => loadProductCategories({ ARGUS_PRODUCT_CATEGORIES: badName })).toThrow(/categories\.Wine/);
    const empty = file('version: 1\ncategories: {}\n');
    expect(() => loadProductCategories({ ARGUS_PRODUCT_CATEGORIES: empty })).toThrow(/no categories/);
    expect(() => loadProductCategories({ ARGUS_PRODUCT_CATEGORIES: '/nope/categories.yaml' })).toThrow(
      /cannot read product categories/,
    );
  });
});
