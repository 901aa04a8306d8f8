import { loadWorkerConfig } from '@argus/config';
import { CatalogError, loadModelCatalog, type ResolvedCatalog } from '@argus/inference';
import { connectNats } from '@argus/messaging';
import { createWorkerApp } from './bootstrap-worker';
import type { TaskDefinition } from './task-definition';

jest.mock('@argus/messaging', () => ({
  ...jest.requireActual<object>('@argus/messaging'),
  connectNats: jest.fn(() => Promise.reject(new Error('the boot should have stopped before connecting'))),
}));

/** A definition of OCR that names `promptVersion`; it never boots, as the catalog check comes first. */
function ocrDefinition(promptVersion: string): TaskDefinition {
  return {
    id: 'ocr',
    promptVersion,
    cpuRuntimes: [],
    cpuEngineDescription: 'none',
    boot: () => {
      throw new Error('unused');
    },
  };
}

/** The shipped catalog with one Ollama entry's prompt version changed. */
function withPromptVersion(
  catalog: ResolvedCatalog,
  tier: 'small' | 'medium' | 'large',
  promptVersion: string,
): ResolvedCatalog {
  const spec = catalog.tiers[tier];
  return {
    ...catalog,
    tiers: {
      ...catalog.tiers,
      [tier]: { ...spec, tasks: { ...spec.tasks, ocr: { ...spec.tasks.ocr, promptVersion } } },
    },
  };
}

describe("createWorkerApp's catalog check", () => {
  const shipped = loadModelCatalog({});
  const ocrPrompt = shipped.tiers.small.tasks.ocr.promptVersion;
  const config = loadWorkerConfig('ocr', {});

  beforeEach(() => {
    jest.mocked(connectNats).mockClear();
  });

  it("refuses to boot, before connecting, when an Ollama entry names another prompt than the task's", async () => {
    const catalog = withPromptVersion(shipped, 'medium', 'tagging-v1');
    const boot = createWorkerApp(ocrDefinition(ocrPrompt), config, catalog);
    await expect(boot).rejects.toBeInstanceOf(CatalogError);
    await expect(boot).rejects.toThrow(
      `Invalid model catalog ${shipped.source}:\n` +
        `  - tiers.medium.tasks.ocr.promptVersion: "tagging-v1" is not a ocr prompt; expected "${ocrPrompt}"`,
    );
    expect(connectNats).not.toHaveBeenCalled();
  });

  it("checks the catalog against the definition's prompt version, on every Ollama tier", async () => {
    const boot = createWorkerApp(ocrDefinition('ocr-v0'), config, shipped);
    for (const tier of ['small', 'medium', 'large']) {
      await expect(boot).rejects.toThrow(
        `tiers.${tier}.tasks.ocr.promptVersion: "${ocrPrompt}" is not a ocr prompt; expected "ocr-v0"`,
      );
    }
    expect(connectNats).not.toHaveBeenCalled();
  });
});
