// The rules that keep "one task, one room" honest (docs/architecture.md): the worker runtime knows no task by name,
// no library or other service reaches into a task's folder, and every task in the registry has a definition in its own
// service folder that says it is that task.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { TASK_OPTION_SCHEMAS, TASKS } from '@argus/contracts';
import { taskDefinition } from './task-definitions';

const ROOT = join(__dirname, '..', '..');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return sources(path);
    return path.endsWith('.ts') && !path.endsWith('.spec.ts') ? [path] : [];
  });
}

describe('the layout', () => {
  it('keeps every task name out of the worker runtime (libs/worker runs any task definition)', () => {
    const names = [...TASKS, 'product-tagging', 'productTagging'];
    const pattern = new RegExp(`\\b(${names.join('|')})\\b`, 'i');
    const offending = sources(join(ROOT, 'libs', 'worker', 'src')).flatMap((file) =>
      readFileSync(file, 'utf8')
        .split('\n')
        .map((line, index) => ({ line, index }))
        .filter(({ line }) => pattern.test(line))
        .map(({ line, index }) => `${relative(ROOT, file)}:${index + 1}: ${line.trim()}`),
    );
    expect(offending).toEqual([]);
  });

  it('keeps task folders out of the libraries and out of each other, specs included', () => {
    const allSources = (dir: string): string[] =>
      readdirSync(dir).flatMap((entry) => {
        const path = join(dir, entry);
        if (statSync(path).isDirectory()) return allSources(path);
        return path.endsWith('.ts') ? [path] : [];
      });
    const imports = (file: string) =>
      [...readFileSync(file, 'utf8').matchAll(/from '@argus\/task-([a-z-]+)'/g)].map((match) => match[1]);
    const libs = allSources(join(ROOT, 'libs')).flatMap((file) =>
      imports(file).map((task) => `${relative(ROOT, file)} imports @argus/task-${task}`),
    );
    const services = readdirSync(join(ROOT, 'services')).flatMap((service) =>
      allSources(join(ROOT, 'services', service)).flatMap((file) =>
        imports(file)
          .filter((task) => task !== service)
          .map((task) => `${relative(ROOT, file)} imports @argus/task-${task}`),
      ),
    );
    expect([...libs, ...services]).toEqual([]);
  });

  it.each(TASKS)('has a definition of %s in services/%s/src/task.ts that names its own task', (task) => {
    const definition = taskDefinition(task);
    expect(definition.id).toBe(task);
    expect(statSync(join(ROOT, 'services', task, 'src', 'task.ts')).isFile()).toBe(true);
    expect(readFileSync(join(ROOT, 'services', task, 'src', 'main.ts'), 'utf8')).toContain('runWorker(');
  });

  it('keeps libs/imaging a sharp adapter: it imports sharp, Node, the shared contracts (error codes) and itself only', () => {
    const allowed = /^(sharp|node:[a-z_/]+|@argus\/contracts|\.\/[a-z-]+)$/;
    const offending = sources(join(ROOT, 'libs', 'imaging', 'src')).flatMap((file) =>
      [...readFileSync(file, 'utf8').matchAll(/from '([^']+)'/g)]
        .map((match) => match[1])
        .filter((module) => !allowed.test(module))
        .map((module) => `${relative(ROOT, file)} imports ${module}`),
    );
    expect(offending).toEqual([]);
  });

  it("names no task's option outside that task's folder and the contracts", () => {
    const fields = Object.values(TASK_OPTION_SCHEMAS).flatMap((schema) => Object.keys(schema.shape));
    const access = new RegExp(`\\b(${TASKS.join('|')})\\??\\.(${fields.join('|')})\\b`);
    const checked = [
      ...sources(join(ROOT, 'libs')).filter((file) => !file.includes(join('libs', 'contracts'))),
      ...sources(join(ROOT, 'services', 'gateway', 'src')),
    ];
    const offending = checked.flatMap((file) =>
      readFileSync(file, 'utf8')
        .split('\n')
        .map((line, index) => ({ line, index }))
        .filter(({ line }) => access.test(line))
        .map(({ line, index }) => `${relative(ROOT, file)}:${index + 1}: ${line.trim()}`),
    );
    expect(offending).toEqual([]);
  });
});
