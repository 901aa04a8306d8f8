import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from './args';
import { findImages, isImagePath } from './image-files';

describe('isImagePath', () => {
  it.each(['a.jpg', 'a.JPEG', 'b.png', 'c.webp', 'd.gif', 'e.tiff', 'e.tif', 'f.avif', 'g.HEIC'])(
    '%s is an image',
    (name) => {
      expect(isImagePath(name)).toBe(true);
    },
  );
  it.each(['notes.txt', 'photo.jpg.bak', 'raw.cr2', 'README', '.jpg.txt', 'jpg'])('%s is not', (name) => {
    expect(isImagePath(name)).toBe(false);
  });
});

describe('findImages', () => {
  let root: string;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'argus-cli-walk-'));
    await mkdir(join(root, 'shop', 'shoes', 'deep'), { recursive: true });
    await mkdir(join(root, 'other'));
    for (const file of [
      'shop/b.png',
      'shop/a.JPG',
      'shop/notes.txt',
      'shop/shoes/s1.webp',
      'shop/shoes/deep/s2.heic',
      'shop/shoes/deep/data.json',
      'other/c.gif',
    ]) {
      await writeFile(join(root, file), 'x');
    }
  });

  afterEach(() => rm(root, { recursive: true, force: true }));

  it('walks folders recursively, keeps images by extension, counts the rest as skipped, sorted', async () => {
    const found = await findImages(['shop'], root);
    expect(found.images.map((image) => image.relative)).toEqual([
      'shop/a.JPG',
      'shop/b.png',
      'shop/shoes/deep/s2.heic',
      'shop/shoes/s1.webp',
    ]);
    expect(found.images[0]?.path).toBe(join(root, 'shop', 'a.JPG'));
    expect(found.skipped).toBe(2);
  });

  it('takes single files and folders together, each image once', async () => {
    const found = await findImages(['other/c.gif', 'shop/shoes', 'other', 'shop/notes.txt'], root);
    expect(found.images.map((image) => image.relative)).toEqual([
      'other/c.gif',
      'shop/shoes/deep/s2.heic',
      'shop/shoes/s1.webp',
    ]);
    expect(found.skipped).toBe(2); // notes.txt named directly + deep/data.json
  });

  it('names files outside the working directory relative to the folder given', async () => {
    const found = await findImages([join(root, 'shop', 'shoes')], join(root, 'other'));
    expect(found.images.map((image) => image.relative)).toEqual(['shoes/deep/s2.heic', 'shoes/s1.webp']);
  });

  it('does not loop on a folder symlink that points back up', async () => {
    await symlink(join(root, 'shop'), join(root, 'shop', 'shoes', 'loop'));
    const found = await findImages(['shop'], root);
    expect(found.images).toHaveLength(4);
  });

  it('finds nothing in a folder without images', async () => {
    await mkdir(join(root, 'empty'));
    await writeFile(join(root, 'empty', 'readme.md'), '#');
    expect(await findImages(['empty'], root)).toEqual({ images: [], skipped: 1 });
  });

  it('is a usage error when a path does not exist', async () => {
    await expect(findImages(['shop', 'nope'], root)).rejects.toThrow(
      new UsageError('no such file or folder: nope'),
    );
  });
});
