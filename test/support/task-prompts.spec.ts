// Each task's prompt lives in its own folder (services/<task>/src/prompt.ts) and its worker checks the catalog against
// it at boot; this checks the shipped catalog against every task's definition before any worker starts.
import { TASKS } from '@argus/contracts';
import { checkPromptVersions, loadModelCatalog } from '@argus/inference';
import { taskDefinition } from './task-definitions';

describe('the shipped model catalog', () => {
  const catalog = loadModelCatalog({});

  it.each(TASKS)("names %s's prompt version on every Ollama tier", (task) => {
    expect(() => {
      checkPromptVersions(catalog, task, taskDefinition(task).promptVersion);
    }).not.toThrow();
  });
});
