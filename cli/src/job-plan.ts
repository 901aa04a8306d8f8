import { assignItemIds, itemIdSchema, MAX_JOB_ITEMS } from '@argus/contracts';
import type { ImageFile } from './image-files';

export interface PlannedItem {
  /** The item id sent as the upload's filename; the gateway keeps it as is. */
  id: string;
  file: ImageFile;
}

/** The relative path with `/` as `_`, when that is a valid item id; otherwise undefined. */
export function idFromRelativePath(relativePath: string): string | undefined {
  const candidate = relativePath.split('/').join('_');
  return itemIdSchema.safeParse(candidate).success ? candidate : undefined;
}

/**
 * Stable ids, unique across the whole run: the id derived from the relative path when it is valid and not taken
 * by an earlier file, else `item-N` (N the 1-based position among all images).
 */
export function planItems(files: readonly ImageFile[]): PlannedItem[] {
  const seen = new Set<string>();
  const candidates = files.map((file) => {
    const id = idFromRelativePath(file.relative);
    if (id === undefined || seen.has(id)) return undefined;
    seen.add(id);
    return id;
  });
  const ids = assignItemIds(candidates);
  return files.map((file, index) => ({ id: ids[index], file }));
}

/** Jobs hold at most MAX_JOB_ITEMS items; a bigger set becomes several jobs, in order. */
export function chunk<T>(items: readonly T[], size: number = MAX_JOB_ITEMS): T[][] {
  if (!Number.isInteger(size) || size < 1)
    throw new RangeError(`chunk size must be a positive integer: ${size}`);
  const chunks: T[][] = [];
  for (let start = 0; start < items.length; start += size) chunks.push(items.slice(start, start + size));
  return chunks;
}
