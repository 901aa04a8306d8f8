import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse, stringify } from 'yaml';
import { TASKS } from '@argus/contracts';
import { CatalogError, DEFAULT_OLLAMA_HOST, findShippedCatalog, loadModelCatalog } from './model-catalog';
import { TIER_ORDER } from './model-catalog.schema';
import { estimateVramGiB, formatGiB } from './vram-estimate';

const repoRoot = resolve(__dirname, '../../../..');
const shipped = join(repoRoot, 'config', 'model-catalog.yaml');

// A plain-object view of the YAML that specs can bend into invalid shapes.
interface Editable {
  [key: string]: Editable | string | number | null | undefined;
}

let scratch: string;
let written = 0;

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'argus-catalog-'));
});
afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

/** Writes the shipped catalog, changed by `edit`, to a temp file and returns an env that points at it. */
function catalogWith(edit: (catalog: Editable) => void, env: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  // Re-parsing without aliases gives each task its own vram object, so an edit touches one entry only.
  const catalog = JSON.parse(JSON.stringify(parse(readFileSync(shipped, 'utf8')))) as Editable;
  edit(catalog);
  const file = join(scratch, `catalog-${++written}.yaml`);
  writeFileSync(file, stringify(catalog));
  return { ...env, ARGUS_MODEL_CATALOG: file };
}

function at(catalog: Editable, ...path: string[]): Editable {
  return path.reduce((node, key) => node[key] as Editable, catalog);
}

function loadError(env: NodeJS.ProcessEnv): CatalogError {
  try {
    loadModelCatalog(env);
  } catch (error) {
    if (error instanceof CatalogError) return error;
    throw error;
  }
  throw new Error('expected loadModelCatalog to throw a CatalogError');
}

describe('loadModelCatalog', () => {
  describe('the shipped catalog', () => {
    const catalog = loadModelCatalog({});

    it('loads from config/model-catalog.yaml with no warnings and every tier enabled', () => {
      expect(catalog.source).toBe(shipped);
      expect(catalog.warnings).toEqual([]);
      expect(catalog.enabled).toEqual(['cpu', 'small', 'medium', 'large']);
    });

    it('fits every default model into its tier budget', () => {
      for (const tier of TIER_ORDER) {
        const spec = catalog.tiers[tier];
        for (const task of TASKS) {
          const entry = spec.tasks[task];
          if (spec.engine === 'cpu') {
            expect(entry.vramEstimateGiB).toBeUndefined();
            continue;
          }
          expect(entry.vramEstimateGiB).toBeGreaterThan(0);
          expect(entry.vramEstimateGiB).toBeLessThanOrEqual(spec.vramBudgetGiB);
        }
      }
    });

    it('ships the documented defaults', () => {
      const models = TIER_ORDER.map((tier) => [tier, catalog.tiers[tier].tasks.ocr.model]);
      expect(models).toEqual([
        ['cpu', 'ppocr-v4-tesseract-eng'],
        ['small', 'qwen2.5vl:3b'],
        ['medium', 'qwen2.5vl:7b'],
        ['large', 'qwen2.5vl:72b'],
      ]);
      expect(catalog.tiers.small.vramBudgetGiB).toBe(8);
      expect(catalog.tiers.medium.vramBudgetGiB).toBe(24);
      expect(catalog.tiers.large.vramBudgetGiB).toBe(80);
      expect(catalog.tiers.small.tasks.moderation.vramEstimateGiB).toBeCloseTo(3.8885, 4);
      expect(catalog.tiers.large.tasks.ocr.vramEstimateGiB).toBeCloseTo(64.518, 3);
    });

    it('matches the default catalog table in docs/models.md', () => {
      const docs = readFileSync(join(repoRoot, 'docs', 'models.md'), 'utf8');
      const section = docs.slice(
        docs.indexOf('## The default catalog'),
        docs.indexOf('Runner settings per tier'),
      );
      const rows = section
        .split('\n')
        .filter((line) => /^\| (cpu|small|medium|large) /.test(line))
        .map((line) => line.split('|').map((cell) => cell.trim().replaceAll('`', '')));
      const expected = TIER_ORDER.flatMap((tier) =>
        TASKS.map((task) => {
          const { model, input, vramEstimateGiB } = catalog.tiers[tier].tasks[task];
          const size = 'longSide' in input ? `long side ${input.longSide}` : `square ${input.square}`;
          const estimate = vramEstimateGiB === undefined ? '—' : formatGiB(vramEstimateGiB);
          return [tier, task, model, size, estimate];
        }),
      );
      expect(rows.map((cells) => cells.slice(1, 6))).toEqual(expected);
    });

    it('derives concurrency from (parallel + 1) × replicas (cpu: parallel × replicas) and uses OLLAMA_HOST for tiers without a url', () => {
      expect(TIER_ORDER.map((tier) => catalog.tiers[tier].concurrency)).toEqual([1, 3, 5, 5]);
      expect(catalog.tiers.small.url).toBe(DEFAULT_OLLAMA_HOST);
      expect(catalog.tiers.cpu.url).toBeUndefined();
    });
  });

  it('finds the shipped catalog from the compiled dist/ tree as well as from the sources', () => {
    expect(findShippedCatalog(join(repoRoot, 'dist', 'libs', 'inference', 'src', 'catalog'))).toBe(shipped);
    expect(findShippedCatalog(__dirname)).toBe(shipped);
  });

  it('rejects a model over its tier budget, naming the tier, the model and both numbers', () => {
    const env = catalogWith((catalog) => {
      const large = at(catalog, 'tiers', 'large', 'tasks', 'moderation');
      const medium = at(catalog, 'tiers', 'medium', 'tasks', 'moderation');
      medium.model = large.model;
      medium.vram = large.vram;
    });
    const error = loadError(env);
    expect(error.message).toContain(env.ARGUS_MODEL_CATALOG);
    expect(error.message).toContain(
      "medium tier: qwen2.5vl:72b needs an estimated 64.5 GiB of VRAM but the tier's budget is 24 GiB",
    );
  });

  it('lets a measured overrideGiB decide the fit', () => {
    const env = catalogWith((catalog) => {
      for (const task of TASKS) at(catalog, 'tiers', 'small', 'tasks', task, 'vram').overrideGiB = 9;
    });
    expect(loadError(env).message).toContain('small tier: qwen2.5vl:3b needs an estimated 9.0 GiB');
  });

  it('rejects one model listed with two different sizes in a tier', () => {
    const env = catalogWith((catalog) => {
      at(catalog, 'tiers', 'small', 'tasks', 'ocr', 'vram').weightsGiB = 2;
    });
    expect(loadError(env).message).toContain(
      'tiers.small.tasks.ocr.vram: qwen2.5vl:3b already has different vram figures under moderation',
    );
  });

  it('fails on an unknown key and names its path', () => {
    const env = catalogWith((catalog) => {
      const ocr = at(catalog, 'tiers', 'small', 'tasks', 'ocr');
      ocr.modle = ocr.model;
    });
    const error = loadError(env);
    expect(error.message).toContain(env.ARGUS_MODEL_CATALOG);
    expect(error.message).toContain('tiers.small.tasks.ocr.modle: unknown key');
  });

  it('names the path of a field with a wrong value', () => {
    const env = catalogWith((catalog) => {
      at(catalog, 'tiers', 'large').parallel = 'four';
      at(catalog, 'tiers', 'medium', 'tasks', 'tagging').input = { longSide: 10 };
      at(catalog, 'tiers', 'small', 'tasks', 'moderation').input = { side: 1008 };
    });
    const { message } = loadError(env);
    expect(message).toContain('tiers.large.parallel');
    expect(message).toContain('tiers.medium.tasks.tagging.input.longSide: must be at least 28 px');
    expect(message).toContain(
      'tiers.small.tasks.moderation.input: must be either { longSide: N } or { square: N }',
    );
  });

  it('fails when a promptVersion does not belong to its task', () => {
    const env = catalogWith((catalog) => {
      at(catalog, 'tiers', 'medium', 'tasks', 'ocr').promptVersion = 'tagging-v1';
      at(catalog, 'tiers', 'cpu', 'tasks', 'moderation').promptVersion = 'moderation-v2';
    });
    const { message } = loadError(env);
    expect(message).toContain('tiers.medium.tasks.ocr.promptVersion: "tagging-v1" is not a ocr prompt');
    expect(message).toContain('expected "ocr-v2"');
    expect(message).toContain('tiers.cpu.tasks.moderation.promptVersion');
  });

  it('requires engine cpu on the cpu tier and ollama elsewhere', () => {
    const env = catalogWith((catalog) => {
      at(catalog, 'tiers', 'cpu').engine = 'ollama';
      at(catalog, 'tiers', 'small').engine = 'cpu';
    });
    const { message } = loadError(env);
    expect(message).toContain('tiers.cpu.engine: the cpu tier must use engine "cpu"');
    expect(message).toContain('tiers.small.engine');
  });

  it('names the file when it cannot be read', () => {
    const missing = join(scratch, 'nope.yaml');
    expect(loadError({ ARGUS_MODEL_CATALOG: missing }).message).toContain(
      `Cannot read the model catalog ${missing} (from ARGUS_MODEL_CATALOG)`,
    );
  });

  describe('environment overrides', () => {
    it('takes tier URLs from ARGUS_TIER_<NAME>_URL, then the catalog, then OLLAMA_HOST', () => {
      const env = catalogWith(
        (catalog) => {
          at(catalog, 'tiers', 'medium').url = 'http://gpu-24:11434/';
        },
        { ARGUS_TIER_SMALL_URL: 'http://gpu-8:11434', OLLAMA_HOST: 'ollama-shared' },
      );
      const { tiers } = loadModelCatalog(env);
      expect(tiers.small.url).toBe('http://gpu-8:11434');
      expect(tiers.medium.url).toBe('http://gpu-24:11434');
      // Ollama's own spelling of OLLAMA_HOST: a bare host means http on port 11434.
      expect(tiers.large.url).toBe('http://ollama-shared:11434');
    });

    it('overrides concurrency per tier and defaults the queue to twice the concurrency when the file omits it', () => {
      const env = catalogWith(
        (catalog) => {
          delete at(catalog, 'tiers', 'large').queueLimit;
        },
        { ARGUS_TIER_LARGE_CONCURRENCY: '8', ARGUS_TIER_CPU_CONCURRENCY: '2' },
      );
      const { tiers } = loadModelCatalog(env);
      expect(tiers.large.concurrency).toBe(8);
      expect(tiers.large.queueLimit).toBe(16);
      expect(tiers.cpu.concurrency).toBe(2);
      expect(tiers.medium.concurrency).toBe(5);
    });

    it('restricts the enabled tiers with ARGUS_TIERS, keeping cpu', () => {
      expect(loadModelCatalog({ ARGUS_TIERS: 'cpu,small' }).enabled).toEqual(['cpu', 'small']);
      expect(loadModelCatalog({ ARGUS_TIERS: ' Large , medium' }).enabled).toEqual([
        'cpu',
        'medium',
        'large',
      ]);
      expect(loadModelCatalog({ ARGUS_TIERS: '' }).enabled).toEqual(TIER_ORDER);
    });

    it('rejects bad values and names each variable', () => {
      const { message } = loadError({
        ARGUS_TIERS: 'small,xl',
        ARGUS_TIER_MEDIUM_URL: 'ftp://gpu',
        ARGUS_TIER_SMALL_CONCURRENCY: '0',
      });
      expect(message).toContain('ARGUS_TIERS: unknown tier "xl"');
      expect(message).toContain('ARGUS_TIER_MEDIUM_URL must be a URL');
      expect(message).toContain(
        'ARGUS_TIER_SMALL_CONCURRENCY must be a whole number of at least 1 (got "0")',
      );
    });
  });

  describe('forTask', () => {
    it('lists the enabled tiers cheapest first with the model for the task', () => {
      const choices = loadModelCatalog({ ARGUS_TIERS: 'large,small' }).forTask('ocr');
      expect(choices.map((choice) => [choice.tier, choice.model.model])).toEqual([
        ['cpu', 'ppocr-v4-tesseract-eng'],
        ['small', 'qwen2.5vl:3b'],
        ['large', 'qwen2.5vl:72b'],
      ]);
      expect(choices.every((choice) => choice.spec.name === choice.tier && choice.model.task === 'ocr')).toBe(
        true,
      );
    });

    it('walks all four tiers in TIER_ORDER by default', () => {
      expect(
        loadModelCatalog({})
          .forTask('moderation')
          .map((choice) => choice.tier),
      ).toEqual(['cpu', 'small', 'medium', 'large']);
    });
  });

  describe('warnings', () => {
    it('reports distinct models that cannot all stay loaded, and qwen2.5vl inputs over the pixel cap', () => {
      const env = catalogWith((catalog) => {
        Object.assign(at(catalog, 'tiers', 'small', 'tasks', 'tagging'), {
          model: 'gemma3:4b',
          input: { square: 896 },
          vram: { weightsGiB: 2.29, projectorGiB: 0.78, kvCacheKiBPerToken: 136 },
        });
        at(catalog, 'tiers', 'small', 'tasks', 'ocr').input = { longSide: 1568 };
      });
      const { warnings, tiers } = loadModelCatalog(env);
      const gemma = tiers.small.tasks.tagging;
      expect(gemma.vramEstimateGiB).toBeCloseTo(
        estimateVramGiB(gemma.vram!, { contextLength: 8192, parallel: 2 }),
        9,
      );
      expect(warnings).toEqual([
        expect.stringContaining('small tier, ocr: qwen2.5vl:3b input longSide 1568 allows 2.46 MP'),
        expect.stringContaining('small tier: its 2 models need an estimated 9.5 GiB together'),
      ]);
    });

    it('leaves disabled tiers out of the warnings', () => {
      const env = catalogWith(
        (catalog) => {
          at(catalog, 'tiers', 'large', 'tasks', 'ocr').input = { longSide: 1600 };
        },
        { ARGUS_TIERS: 'small' },
      );
      expect(loadModelCatalog(env).warnings).toEqual([]);
    });
  });
});
