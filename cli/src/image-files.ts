import { readdir, realpath, stat } from 'node:fs/promises';
import { basename, dirname, extname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { UsageError } from './args';

/** Images are recognised by extension; the gateway sniffs the bytes and fails the item when they lie. */
export const IMAGE_EXTENSIONS: ReadonlySet<string> = new Set([
  '.jpg',
  '.jpeg',
  '.png',
  '.webp',
  '.gif',
  '.tif',
  '.tiff',
  '.avif',
  '.heic',
]);

export interface ImageFile {
  /** Absolute path. */
  path: string;
  /** Path relative to the working directory (or to the named folder's parent when outside it), with `/`. */
  relative: string;
}

export interface ImageSearch {
  images: ImageFile[];
  /** Files that are not images by extension. */
  skipped: number;
}

export function isImagePath(path: string): boolean {
  return IMAGE_EXTENSIONS.has(extname(path).toLowerCase());
}

/**
 * Walks files and folders recursively; each image once, sorted by relative path. A path that does not exist is a
 * UsageError. Folder symlinks are followed once (a loop is not walked twice).
 */
export async function findImages(inputs: readonly string[], cwd: string): Promise<ImageSearch> {
  const found = new Map<string, ImageFile>();
  const seenFolders = new Set<string>();
  let skipped = 0;

  const visit = async (path: string, anchor: string): Promise<void> => {
    const info = await stat(path).catch(() => undefined);
    if (!info) return; // a dangling link inside a folder
    if (info.isDirectory()) {
      const real = await realpath(path);
      if (seenFolders.has(real)) return;
      seenFolders.add(real);
      const entries = (await readdir(path)).sort();
      for (const entry of entries) await visit(join(path, entry), anchor);
      return;
    }
    if (!info.isFile()) return;
    if (!isImagePath(path)) {
      skipped++;
      return;
    }
    const real = await realpath(path);
    if (!found.has(real)) found.set(real, { path, relative: relativeName(path, cwd, anchor) });
  };

  for (const input of inputs) {
    const path = resolve(cwd, input);
    const info = await stat(path).catch(() => undefined);
    if (!info) throw new UsageError(`no such file or folder: ${input}`);
    await visit(path, dirname(path));
  }
  const images = [...found.values()].sort((a, b) =>
    a.relative < b.relative ? -1 : a.relative > b.relative ? 1 : 0,
  );
  return { images, skipped };
}

function relativeName(path: string, cwd: string, anchor: string): string {
  const fromCwd = relative(cwd, path);
  const inside = fromCwd !== '' && !fromCwd.startsWith('..') && !isAbsolute(fromCwd);
  const name = inside ? fromCwd : relative(anchor, path) || basename(path);
  return name.split(sep).join('/');
}
