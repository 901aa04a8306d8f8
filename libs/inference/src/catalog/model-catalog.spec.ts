import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse, stringify } from 'yaml';
import { TASKS } from '@argus/contracts';
import {
  CatalogError,
  checkPromptVersions,
  DEFAULT_OLLAMA_HOST,
  findShippedCatalog,
  loadModelCatalog,
} from './model-catalog';
import { TIER_ORDER, type ModelInputSpec } from './model-catalog.schema';
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

/** The input column of docs/models.md's default catalog table. */
function describeInputForDocs(input: ModelInputSpec): string {
  if ('family' in input) {
    return 'maxPixels' in input && input.maxPixels !== undefined
      ? `family ${input.family}, maxPixels ${input.maxPixels}`
      : `family ${input.family}`;
  }
  return 'longSide' in input ? `long side ${input.longSide}` : `square ${input.square}`;
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
          const size = describeInputForDocs(input);
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
      'tiers.small.tasks.moderation.input: must be { family: qwen2.5vl | qwen3-vl | gemma3 | mllama }, ' +
        '{ longSide: N } or { square: N }',
    );
  });

  describe('input rules', () => {
    it('makes a model whose tag names a vision family use that family, naming the path', () => {
      const env = catalogWith((catalog) => {
        at(catalog, 'tiers', 'small', 'tasks', 'ocr').input = { longSide: 1428 };
        Object.assign(at(catalog, 'tiers', 'medium', 'tasks', 'tagging'), {
          model: 'gemma3:12b',
          input: { family: 'qwen2.5vl' },
        });
        Object.assign(at(catalog, 'tiers', 'large', 'tasks', 'moderation'), {
          model: 'llama3.2-vision:90b',
          input: { square: 1120 },
        });
      });
      const { message } = loadError(env);
      expect(message).toContain(
        'tiers.small.tasks.ocr.input: qwen2.5vl:3b is a qwen2.5vl model, so its input must be { family: qwen2.5vl }',
      );
      expect(message).toContain('{ longSide: 1428 } would be resized again inside Ollama');
      expect(message).toContain(
        'tiers.medium.tasks.tagging.input: gemma3:12b is a gemma3 model, so its input must be { family: gemma3 }',
      );
      expect(message).toContain(
        'tiers.large.tasks.moderation.input: llama3.2-vision:90b is a mllama model, so its input must be ' +
          '{ family: mllama }',
      );
    });

    it('accepts any rule for a model of no known family, and the family rules on theirs', () => {
      const env = catalogWith((catalog) => {
        Object.assign(at(catalog, 'tiers', 'small', 'tasks', 'ocr'), {
          model: 'granite3.2-vision:2b',
          input: { longSide: 1024 },
        });
        Object.assign(at(catalog, 'tiers', 'medium', 'tasks', 'ocr'), {
          model: 'gemma3:12b',
          input: { family: 'gemma3' },
        });
        Object.assign(at(catalog, 'tiers', 'large', 'tasks', 'ocr'), {
          model: 'qwen3-vl:32b',
          input: { family: 'qwen3-vl', maxPixels: 1_000_000 },
        });
        at(catalog, 'tiers', 'large').parallel = 1;
      });
      const { tiers } = loadModelCatalog(env);
      expect(tiers.small.tasks.ocr.input).toEqual({ longSide: 1024 });
      expect(tiers.large.tasks.ocr.input).toEqual({ family: 'qwen3-vl', maxPixels: 1_000_000 });
    });

    it('refuses parallel > 1 on a tier with a model Ollama runs one request at a time (mllama, qwen3-vl)', () => {
      const env = catalogWith((catalog) => {
        Object.assign(at(catalog, 'tiers', 'medium', 'tasks', 'ocr'), {
          model: 'llama3.2-vision:11b',
          input: { family: 'mllama' },
        });
      });
      expect(() => loadModelCatalog(env)).toThrow(
        /tiers\.medium\.parallel: llama3\.2-vision:11b .* is a mllama model, which Ollama runs one request at a time/,
      );
    });

    it('refuses a family rule on the cpu tier', () => {
      const env = catalogWith((catalog) => {
        at(catalog, 'tiers', 'cpu', 'tasks', 'tagging').input = { family: 'qwen2.5vl' };
      });
      expect(loadError(env).message).toContain(
        'tiers.cpu.tasks.tagging.input: the cpu engines take { longSide: N } or { square: N }, not the qwen2.5vl ' +
          "family's rule",
      );
    });

    it('bounds maxPixels by the family and names an unknown family', () => {
      const env = catalogWith((catalog) => {
        at(catalog, 'tiers', 'small', 'tasks', 'moderation').input = {
          family: 'qwen2.5vl',
          maxPixels: 3_000_000,
        };
        at(catalog, 'tiers', 'small', 'tasks', 'tagging').input = { family: 'qwen2.5vl', maxPixels: 5000 };
        at(catalog, 'tiers', 'medium', 'tasks', 'ocr').input = { family: 'qwen25vl' };
        at(catalog, 'tiers', 'large', 'tasks', 'ocr').input = { family: 'gemma3', maxPixels: 1000 };
      });
      const { message } = loadError(env);
      expect(message).toContain(
        "tiers.small.tasks.moderation.input.maxPixels: must be at most 2097152 px, Ollama's cap for the family",
      );
      expect(message).toContain('tiers.small.tasks.tagging.input.maxPixels: must be at least 12544 px');
      expect(message).toContain(
        'tiers.medium.tasks.ocr.input: family must be one of qwen2.5vl, qwen3-vl, gemma3, mllama',
      );
      expect(message).toContain('tiers.large.tasks.ocr.input.maxPixels: unknown key');
    });
  });

  it('fails when a cpu entry names a prompt version, which the cpu engines do not have', () => {
    const env = catalogWith((catalog) => {
      at(catalog, 'tiers', 'cpu', 'tasks', 'moderation').promptVersion = 'moderation-v2';
    });
    const { message } = loadError(env);
    expect(message).toContain(
      'tiers.cpu.tasks.moderation.promptVersion: the cpu engines use "cpu-v1", not "moderation-v2"',
    );
  });

  // The Ollama entries' prompt versions belong to each task's prompt (services/<task>/src/prompt.ts): the file loads,
  // and the task's worker checks its own entries at boot (libs/worker/src/bootstrap-worker.spec.ts).
  describe('checkPromptVersions', () => {
    it("fails when a task's Ollama entry names another prompt, listing each such entry", () => {
      const catalog = loadModelCatalog(
        catalogWith((edited) => {
          at(edited, 'tiers', 'medium', 'tasks', 'ocr').promptVersion = 'tagging-v1';
          at(edited, 'tiers', 'large', 'tasks', 'ocr').promptVersion = 'ocr-v1';
        }),
      );
      const expected = catalog.tiers.small.tasks.ocr.promptVersion;
      let error: unknown;
      try {
        checkPromptVersions(catalog, 'ocr', expected);
      } catch (thrown) {
        error = thrown;
      }
      expect(error).toBeInstanceOf(CatalogError);
      const { message } = error as CatalogError;
      expect(message).toContain(`Invalid model catalog ${catalog.source}:`);
      expect(message).toContain(
        `tiers.medium.tasks.ocr.promptVersion: "tagging-v1" is not a ocr prompt; expected "${expected}"`,
      );
      expect(message).toContain(`tiers.large.tasks.ocr.promptVersion: "ocr-v1" is not a ocr prompt`);
      expect(message).not.toContain('tiers.small');
    });

    it('checks disabled tiers too, and never the cpu tier', () => {
      const catalog = loadModelCatalog({ ARGUS_TIERS: 'small' });
      expect(catalog.enabled).toEqual(['cpu', 'small']);
      for (const task of TASKS) {
        const expected = catalog.tiers.small.tasks[task].promptVersion;
        expect(() => {
          checkPromptVersions(catalog, task, expected);
        }).not.toThrow();
        expect(() => {
          checkPromptVersions(catalog, task, `${expected}-next`);
        }).toThrow(/tiers\.small\.[^]*tiers\.medium\.[^]*tiers\.large\./);
      }
    });
  });

  it('reads numPredict and think per Ollama task entry; think is false and numPredict derived when absent', () => {
    const shipped = loadModelCatalog({});
    for (const tier of ['small', 'medium', 'large'] as const) {
      for (const task of TASKS) {
        expect(shipped.tiers[tier].tasks[task]).toMatchObject({ think: false });
        // OCR's answer grows with the text in the image, so the shipped catalog gives it the cap; the others derive it.
        expect(shipped.tiers[tier].tasks[task].numPredict).toBe(task === 'ocr' ? 2048 : undefined);
      }
    }
    const catalog = loadModelCatalog(
      catalogWith((edited) => {
        Object.assign(at(edited, 'tiers', 'small', 'tasks', 'ocr'), { numPredict: 3000, think: true });
      }),
    );
    expect(catalog.tiers.small.tasks.ocr).toMatchObject({ numPredict: 3000, think: true });
    expect(catalog.tiers.small.tasks.moderation.numPredict).toBeUndefined();
  });

  it('rejects a numPredict whose repair call could not fit the context', () => {
    const tooLong = catalogWith((catalog) => {
      at(catalog, 'tiers', 'medium', 'tasks', 'ocr').numPredict = 5000;
    });
    expect(loadError(tooLong).message).toContain(
      "tiers.medium.tasks.ocr.numPredict: 5000 tokens is more than half the tier's 8192-token context",
    );
    const tooShort = catalogWith((catalog) => {
      at(catalog, 'tiers', 'small', 'tasks', 'tagging').numPredict = 10;
    });
    expect(loadError(tooShort).message).toContain(
      'tiers.small.tasks.tagging.numPredict: must be at least 64 tokens',
    );
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

    it('overrides concurrency per tier and defaults the cpu queue to twice the concurrency when the file omits it', () => {
      const env = catalogWith(
        (catalog) => {
          delete at(catalog, 'tiers', 'cpu').queueLimit;
        },
        { ARGUS_TIER_LARGE_CONCURRENCY: '8', ARGUS_TIER_CPU_CONCURRENCY: '2' },
      );
      const { tiers } = loadModelCatalog(env);
      expect(tiers.large.concurrency).toBe(8);
      expect(tiers.cpu.concurrency).toBe(2);
      expect(tiers.cpu.queueLimit).toBe(4);
      // parallel × replicas + spare (one per replica by default): the slots all workers share.
      expect(tiers.medium.concurrency).toBe(5);
    });

    it('sizes an Ollama tier’s shared slots as parallel × replicas + spare, one spare per replica by default', () => {
      const env = catalogWith((catalog) => {
        Object.assign(at(catalog, 'tiers', 'small'), { parallel: 2, replicas: 3 });
        delete at(catalog, 'tiers', 'small').spare;
        Object.assign(at(catalog, 'tiers', 'medium'), { parallel: 4, replicas: 2, spare: 0 });
      });
      const { tiers } = loadModelCatalog(env);
      expect(tiers.small.concurrency).toBe(2 * 3 + 3);
      expect(tiers.medium.concurrency).toBe(4 * 2);
    });

    it('refuses a queueLimit on an Ollama tier, whose callers wait for a shared slot instead', () => {
      const env = catalogWith((catalog) => {
        at(catalog, 'tiers', 'small').queueLimit = 4;
      });
      expect(() => loadModelCatalog(env)).toThrow(/tiers\.small\.queueLimit: unknown key/);
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
    it('reports distinct models that cannot all stay loaded', () => {
      const env = catalogWith((catalog) => {
        Object.assign(at(catalog, 'tiers', 'small', 'tasks', 'tagging'), {
          model: 'gemma3:4b',
          input: { family: 'gemma3' },
          vram: { weightsGiB: 2.29, projectorGiB: 0.78, kvCacheKiBPerToken: 136 },
        });
      });
      const { warnings, tiers } = loadModelCatalog(env);
      const gemma = tiers.small.tasks.tagging;
      expect(gemma.vramEstimateGiB).toBeCloseTo(
        estimateVramGiB(gemma.vram!, { contextLength: 8192, parallel: 2 }),
        9,
      );
      expect(warnings).toEqual([
        expect.stringContaining('small tier: its 2 models need an estimated 9.5 GiB together'),
      ]);
    });

    it('reports an input whose image tokens crowd the context, counted by the family rule', () => {
      // OCR raised to Ollama's cap may send 2,097,152 px = 2674 tokens: with 2048 for the prompt and answer, more than
      // 4096. Moderation and tagging stop at 1,003,520 px = 1280 tokens and fit.
      const env = catalogWith((catalog) => {
        at(catalog, 'tiers', 'small').contextLength = 4096;
        at(catalog, 'tiers', 'small', 'tasks', 'ocr').input = { family: 'qwen2.5vl' };
      });
      expect(loadModelCatalog(env).warnings).toEqual([
        'small tier, ocr: qwen2.5vl:3b input { family: qwen2.5vl } can take 2674 image tokens, leaving less than ' +
          '2048 of the 4096-token context for the prompt and the answer',
      ]);
    });

    it('leaves disabled tiers out of the warnings', () => {
      const env = catalogWith(
        (catalog) => {
          at(catalog, 'tiers', 'large').contextLength = 4096;
        },
        { ARGUS_TIERS: 'small' },
      );
      expect(loadModelCatalog(env).warnings).toEqual([]);
    });
  });
});
