import { resolve } from 'node:path';
import { z } from 'zod';
import { findShippedFile, loadYamlConfig } from './yaml-config';

const SLUG = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
const slug = z.string().regex(SLUG, 'category names are lowercase words joined by -');

/** Most vision-model grammars and prompts stay small with a few hundred paths; more is a copy-paste slip. */
export const MAX_TAXONOMY_PATHS = 1_000;

/** `top: { second: [leaf, ...] }`; an empty list (or nothing) makes the second level a leaf. */
export const productCategoriesFileSchema = z.strictObject({
  version: z.literal(1),
  categories: z.record(slug, z.record(slug, z.array(slug).nullable())),
});

/** The category taxonomy: every path a model may answer, in file order. */
export interface ProductCategories {
  source: string;
  /** Second-level nodes and leaves, e.g. `apparel/shoes` and `apparel/shoes/sneakers`. */
  paths: string[];
  /** The top levels, e.g. `apparel`. */
  topLevels: string[];
}

/** Paths of a parsed taxonomy: each second level, followed by its leaves. */
export function categoryPaths(file: z.infer<typeof productCategoriesFileSchema>): string[] {
  const paths: string[] = [];
  for (const [top, seconds] of Object.entries(file.categories)) {
    for (const [second, leaves] of Object.entries(seconds)) {
      paths.push(`${top}/${second}`);
      for (const leaf of leaves ?? []) paths.push(`${top}/${second}/${leaf}`);
    }
  }
  return paths;
}

/** The product category taxonomy, from ARGUS_PRODUCT_CATEGORIES or the shipped file; validated once at boot. */
export function loadProductCategories(env: NodeJS.ProcessEnv = process.env): ProductCategories {
  const variable = env.ARGUS_PRODUCT_CATEGORIES;
  const source = variable
    ? resolve(variable)
    : findShippedFile(
        'config/product-categories.yaml',
        'set ARGUS_PRODUCT_CATEGORIES to a product category file',
      );
  const schema = productCategoriesFileSchema.superRefine((file, ctx) => {
    const paths = categoryPaths(file);
    if (paths.length === 0) ctx.addIssue({ code: 'custom', message: 'the taxonomy has no categories' });
    if (paths.length > MAX_TAXONOMY_PATHS) {
      ctx.addIssue({
        code: 'custom',
        message: `the taxonomy has ${paths.length} paths; at most ${MAX_TAXONOMY_PATHS} are allowed`,
      });
    }
    const seen = new Set<string>();
    for (const path of paths) {
      if (seen.has(path)) ctx.addIssue({ code: 'custom', message: `${path} is listed twice` });
      seen.add(path);
    }
  });
  const file = loadYamlConfig(schema, source, 'product categories');
  return { source, paths: categoryPaths(file), topLevels: Object.keys(file.categories) };
}
