import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { createHash } from 'node:crypto';
import { parseDataset } from './dataset';
import {
  COLLECTOR_VERSION,
  collectedInfo,
  creditFromReadme,
  cutOutWhite,
  homography,
  licenceOf,
  pdfLines,
  readManifest,
  readRcc,
  type Raw,
} from './collect-realworld';

/** A Qt resource archive (format version 1) holding `dir/<name>` for each entry, as Qt's rcc lays it out. */
function rccArchive(entries: Array<{ name: string; bytes: Buffer; compressed?: boolean }>): Buffer {
  const names: Buffer[] = [];
  let namesLength = 0;
  const nameOffset = (name: string) => {
    const offset = namesLength;
    const chars = Buffer.alloc(name.length * 2);
    for (let i = 0; i < name.length; i += 1) chars.writeUInt16BE(name.charCodeAt(i), 2 * i);
    const header = Buffer.alloc(6);
    header.writeUInt16BE(name.length, 0);
    names.push(header, chars);
    namesLength += 6 + chars.length;
    return offset;
  };
  const data: Buffer[] = [];
  let dataLength = 0;
  const dataOffset = (payload: Buffer) => {
    const offset = dataLength;
    const size = Buffer.alloc(4);
    size.writeUInt32BE(payload.length, 0);
    data.push(size, payload);
    dataLength += 4 + payload.length;
    return offset;
  };
  const node = (name: number, flags: number, a: number, b: number) => {
    const buffer = Buffer.alloc(14);
    buffer.writeUInt32BE(name, 0);
    buffer.writeUInt16BE(flags, 4);
    if (flags & 2) {
      buffer.writeUInt32BE(a, 6);
      buffer.writeUInt32BE(b, 10);
    } else {
      buffer.writeUInt32BE(b, 10);
    }
    return buffer;
  };
  const tree = [node(0, 2, 1, 1), node(nameOffset('dir'), 2, entries.length, 2)];
  for (const entry of entries) {
    let payload = entry.bytes;
    if (entry.compressed) {
      const length = Buffer.alloc(4);
      length.writeUInt32BE(entry.bytes.length, 0);
      payload = Buffer.concat([length, deflateSync(entry.bytes)]);
    }
    tree.push(node(nameOffset(entry.name), entry.compressed ? 1 : 0, 0, dataOffset(payload)));
  }
  const treeBytes = Buffer.concat(tree);
  const header = Buffer.alloc(20);
  header.write('qres', 0, 'latin1');
  header.writeUInt32BE(1, 4);
  header.writeUInt32BE(20, 8);
  header.writeUInt32BE(20 + treeBytes.length, 12);
  header.writeUInt32BE(20 + treeBytes.length + dataLength, 16);
  return Buffer.concat([header, treeBytes, ...data, ...names]);
}

describe('readRcc', () => {
  const archive = rccArchive([
    { name: 'plain.txt', bytes: Buffer.from('as stored') },
    { name: 'packed.txt', bytes: Buffer.from('zlib '.repeat(20)), compressed: true },
  ]);

  it('reads a stored file and a zlib-compressed one by path', () => {
    expect(readRcc(archive, '/dir/plain.txt').toString()).toBe('as stored');
    expect(readRcc(archive, '/dir/packed.txt').toString()).toBe('zlib '.repeat(20));
  });

  it('names what is missing, and refuses a file that is not an archive', () => {
    expect(() => readRcc(archive, '/dir/absent.webp')).toThrow(/no absent\.webp/);
    expect(() => readRcc(archive, '/dir')).toThrow(/is a directory/);
    expect(() => readRcc(Buffer.from('not an archive at all'), '/x')).toThrow(/not a Qt resource/);
  });
});

describe('licenceOf', () => {
  const copyright = [
    'Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/',
    '',
    'Files: *',
    'Copyright: 2014 Someone',
    'License: GPL-3+',
    '',
    'Files: src/activities/categorization/resource/images/tools/*',
    '       src/activities/explore_farm_animals/resource/animals/*',
    'Copyright: 2015 Photographers',
    'License: CC-BY-SA-3.0',
    '',
    'License: CC-BY-SA-3.0',
    ' The full text.',
  ].join('\n');

  it('takes the last Files paragraph whose glob matches, as DEP-5 says', () => {
    expect(licenceOf(copyright, 'src/activities/categorization/resource/images/tools/hammer2.webp')).toBe(
      'CC-BY-SA-3.0',
    );
    expect(licenceOf(copyright, 'src/activities/explore_farm_animals/resource/animals/cow.webp')).toBe(
      'CC-BY-SA-3.0',
    );
    expect(licenceOf(copyright, 'src/core/main.cpp')).toBe('GPL-3+');
  });
});

describe('creditFromReadme', () => {
  const readme = [
    'Copyright: Baran Ivo',
    'Source: https://commons.wikimedia.org/wiki/File:Cutting_tool_1.jpg',
    'License: Public Domain',
    'Files:',
    'cuttingTool.webp',
    '',
    'Copyright: Junior Libby',
    'Source: https://example.org/hammer',
    'License: CC0-1.0',
    'Files:',
    'hammer2.webp',
    'hammer3.webp',
  ].join('\n');

  it('returns the author, licence and origin of the paragraph that lists the file', () => {
    expect(creditFromReadme(readme, 'hammer3.webp')).toEqual({
      author: 'Junior Libby',
      licence: 'CC0-1.0',
      url: 'https://example.org/hammer',
    });
    expect(creditFromReadme(readme, 'cuttingTool.webp')?.licence).toBe('Public Domain');
    expect(creditFromReadme(readme, 'hammer.webp')).toBeUndefined();
  });
});

describe('collectedInfo', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'realworld-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('accepts a finished collection of the same manifest by the same collector, and nothing else', () => {
    const manifest = join(dir, 'manifest.jsonl');
    writeFileSync(manifest, '{"kind":"source"}\n');
    const sha = createHash('sha256').update('{"kind":"source"}\n').digest('hex');
    const write = (version: number, manifestSha256: string) => {
      writeFileSync(
        join(dir, 'collected.json'),
        JSON.stringify({ collectorVersion: version, manifestSha256 }),
      );
    };
    writeFileSync(join(dir, 'dataset.jsonl'), '{}\n');
    write(COLLECTOR_VERSION, sha);
    expect(collectedInfo(dir, manifest)?.manifestSha256).toBe(sha);
    write(COLLECTOR_VERSION + 1, sha);
    expect(collectedInfo(dir, manifest)).toBeUndefined();
    write(COLLECTOR_VERSION, 'another manifest');
    expect(collectedInfo(dir, manifest)).toBeUndefined();
    write(COLLECTOR_VERSION, sha);
    rmSync(join(dir, 'dataset.jsonl'));
    expect(collectedInfo(dir, manifest)).toBeUndefined();
  });
});

describe('pdfLines', () => {
  it('reads the lines in order with their boxes, decoding entities and ligatures', () => {
    const xhtml = `<page><flow><block>
      <line xMin="57.0" yMin="83.5" xMax="363.2" yMax="92.1">
        <word xMin="57" yMin="83" xMax="70" yMax="92">grep(1)</word>
        <word xMin="72" yMin="83" xMax="90" yMax="92">&amp;</word>
        <word xMin="92" yMin="83" xMax="120" yMax="92">&lt;ﬁle&gt;</word>
      </line>
      <line xMin="57.0" yMin="95.0" xMax="200.0" yMax="104.0"><word>second</word></line>
    </block></flow></page>`;
    expect(pdfLines(xhtml)).toEqual([
      { xMin: 57, yMin: 83.5, xMax: 363.2, yMax: 92.1, text: 'grep(1) & <file>' },
      { xMin: 57, yMin: 95, xMax: 200, yMax: 104, text: 'second' },
    ]);
  });
});

describe('homography', () => {
  it('maps the four corners onto their targets', () => {
    const from: Array<[number, number]> = [
      [10, 5],
      [95, 0],
      [100, 80],
      [0, 100],
    ];
    const to: Array<[number, number]> = [
      [0, 0],
      [100, 0],
      [100, 100],
      [0, 100],
    ];
    const [a, b, c, d, e, f, g, h] = homography(from, to);
    for (const [i, [x, y]] of from.entries()) {
      const w = g * x + h * y + 1;
      expect((a * x + b * y + c) / w).toBeCloseTo(to[i][0], 6);
      expect((d * x + e * y + f) / w).toBeCloseTo(to[i][1], 6);
    }
  });
});

describe('cutOutWhite', () => {
  /** A 40×30 white photo with a grey vignette speck in a corner and a dark product holding a white window. */
  function photo(): Raw {
    const width = 40;
    const height = 30;
    const data = Buffer.alloc(width * height * 4, 255);
    const paint = (x0: number, y0: number, x1: number, y1: number, v: number) => {
      for (let y = y0; y < y1; y += 1) {
        for (let x = x0; x < x1; x += 1) data.fill(v, (y * width + x) * 4, (y * width + x) * 4 + 3);
      }
    };
    paint(0, 0, 2, 2, 200); // a darker corner, not backdrop by colour, but a speck by size
    paint(10, 8, 30, 22, 40); // the product
    paint(16, 12, 24, 18, 255); // a white window inside it: enclosed, so it stays
    return { data, width, height, channels: 4 };
  }

  it('cuts the edge-connected white away, drops specks, keeps enclosed white and trims to the product', () => {
    const cut = cutOutWhite(photo());
    expect([cut.width, cut.height]).toEqual([20, 14]);
    const alpha = (x: number, y: number) => cut.data[(y * cut.width + x) * 4 + 3];
    expect(alpha(0, 0)).toBe(255);
    expect(alpha(10, 7)).toBe(255); // the white window inside the product
  });
});

describe('the committed manifest', () => {
  const manifest = readManifest();

  it('is valid, with unique ids, every item in a split and a group', () => {
    const ids = manifest.items.map((item) => item.id);
    expect(new Set(ids).size).toBe(ids.length);
    const lines = manifest.items.map((item) =>
      JSON.stringify({ id: item.id, image: `images/${item.id}.jpg`, ...item.item }),
    );
    const items = parseDataset(lines.join('\n'));
    expect(items.every((item) => item.split !== undefined && item.group !== undefined)).toBe(true);
  });

  it('keeps roughly two in five items of every larger group for tuning', () => {
    const groups = new Map<string, { tune: number; total: number }>();
    for (const { item } of manifest.items) {
      const group = String(item.group);
      const counts = groups.get(group) ?? { tune: 0, total: 0 };
      counts.total += 1;
      if (item.split === 'tune') counts.tune += 1;
      groups.set(group, counts);
    }
    for (const { tune, total } of groups.values()) {
      if (total < 5) continue;
      expect(tune / total).toBeGreaterThanOrEqual(0.3);
      expect(tune / total).toBeLessThanOrEqual(0.5);
    }
  });

  it('uses none of the excluded sources', () => {
    const excluded = /tesseract|leptonica|opencv|tuxpaint|skimage|scikit|sklearn|matplotlib|scribus/i;
    for (const source of manifest.sources) expect(source.package).not.toMatch(excluded);
    for (const item of manifest.items) expect(item.file).not.toMatch(excluded);
  });
});
