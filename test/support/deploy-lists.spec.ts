// The deploy lists against the task registry (libs/contracts/src/tasks.ts): every list that names the workers —
// deploy/compose.yaml, the Helm chart (values, profiles, schema, templates), deploy/Dockerfile,
// deploy/prometheus/prometheus.yml, scripts/stack.mjs, nest-cli.json and the folders under services/ — has each task,
// under its service name and on its port, and no worker the registry does not know. Each check is a function of a
// list of workers, so the last block can show that a task added to (or dropped from) the registry without the lists
// following fails every one of them.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { QUEUE_GROUPS, TASK_DEFAULT_PORTS, TASK_REGISTRY, TASK_SERVICES, TASKS } from '@argus/contracts';

const ROOT = join(__dirname, '..', '..');
const CHART = join(ROOT, 'helm', 'argus');

/** What the deploy lists need to know of a task. */
interface Worker {
  task: string;
  /** Process, compose service, Helm key, Prometheus job suffix, folder under services/. */
  service: string;
  port: number;
}

const WORKERS: readonly Worker[] = TASKS.map((task) => ({
  task,
  service: TASK_SERVICES[task],
  port: TASK_DEFAULT_PORTS[task],
}));

/** The processes that are not workers but share the image and the lists. */
const GATEWAY = { service: 'gateway', port: 8080 };

type Problems = string[];

const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');
const quoted = (names: Iterable<string>) => [...names].map((name) => `"${name}"`).join(', ') || 'none';

/** Names the list has that no worker has, and workers the list lacks, as problems of `list`. */
function compareNames(
  list: string,
  what: string,
  found: Iterable<string>,
  workers: readonly Worker[],
): Problems {
  const have = new Set(found);
  const want = new Set(workers.map((worker) => worker.service));
  return [
    ...workers
      .filter((worker) => !have.has(worker.service))
      .map(
        (worker) => `${list}: task "${worker.service}" of the registry (port ${worker.port}) has no ${what}`,
      ),
    ...[...have]
      .filter((name) => !want.has(name))
      .map((name) => `${list}: ${what} "${name}" is not a task of the registry (tasks: ${quoted(want)})`),
  ];
}

// ---------------------------------------------------------------------------------------------------------------
// The lists, read once

interface ComposeService {
  image?: string;
  build?: { context?: string; dockerfile?: string };
  command?: string[] | string;
  entrypoint?: string[] | string;
  environment?: Record<string, string | number>;
}

const compose = parse(read('deploy/compose.yaml'), { merge: true }) as {
  services: Record<string, ComposeService>;
};

interface WorkerValues {
  port?: number;
  [key: string]: unknown;
}
const chartValues = parse(read('helm/argus/values.yaml')) as { workers: Record<string, WorkerValues> };
const PROFILES = readdirSync(CHART)
  .filter((name) => /^values-.+\.ya?ml$/.test(name))
  .sort();
const profiles = new Map(
  PROFILES.map((name) => [
    `helm/argus/${name}`,
    (parse(readFileSync(join(CHART, name), 'utf8')) ?? {}) as { workers?: Record<string, unknown> },
  ]),
);
const schema = JSON.parse(read('helm/argus/values.schema.json')) as {
  properties: { workers: { properties: Record<string, { type?: string; properties?: object }> } };
};
const templates = new Map(
  readdirSync(join(CHART, 'templates'))
    .sort()
    .map((name) => [`helm/argus/templates/${name}`, readFileSync(join(CHART, 'templates', name), 'utf8')]),
);

const dockerfile = read('deploy/Dockerfile');

interface ScrapeConfig {
  job_name: string;
  static_configs?: Array<{ targets: string[] }>;
}
const prometheus = parse(read('deploy/prometheus/prometheus.yml')) as { scrape_configs: ScrapeConfig[] };

interface StackService {
  name: string;
  portVar: string;
  defaultPort: number;
}
/** SERVICES of scripts/stack.mjs, as node loads it (an ES module: jest's CommonJS runtime cannot import it). */
function stackServices(): StackService[] {
  const run = spawnSync(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `const { SERVICES } = await import(${JSON.stringify(join(ROOT, 'scripts', 'stack.mjs'))});
       process.stdout.write(JSON.stringify(SERVICES));`,
    ],
    { encoding: 'utf8', cwd: ROOT },
  );
  if (run.status !== 0) throw new Error(`could not load scripts/stack.mjs: ${run.stderr}`);
  return JSON.parse(run.stdout) as StackService[];
}
const stack = stackServices();

const serviceFolders = readdirSync(join(ROOT, 'services'))
  .filter((name) => statSync(join(ROOT, 'services', name)).isDirectory())
  .sort();

const nestCli = JSON.parse(read('nest-cli.json')) as {
  projects: Record<string, { type: string; root: string; entryFile?: string; sourceRoot?: string }>;
};

// ---------------------------------------------------------------------------------------------------------------
// The checks

/**
 * deploy/compose.yaml. A worker service is one that runs the Argus image (built from deploy/Dockerfile) with a
 * first argument other than `gateway`: the image's launcher runs dist/services/<argument>/src/main.js.
 */
function checkCompose(workers: readonly Worker[]): Problems {
  const list = 'deploy/compose.yaml';
  const problems: Problems = [];
  const argusImage = (service: ComposeService) =>
    service.build?.dockerfile === 'deploy/Dockerfile' || /\$\{ARGUS_IMAGE\b/.test(service.image ?? '');
  const runs = (service: ComposeService): string => {
    const command = service.command ?? [];
    return (Array.isArray(command) ? command : command.split(/\s+/)).at(0) ?? '(no command)';
  };
  const workerServices = Object.entries(compose.services).filter(
    ([, service]) => argusImage(service) && runs(service) !== GATEWAY.service,
  );
  problems.push(
    ...compareNames(
      list,
      'worker service (the Argus image run with the task as its command)',
      workerServices.map(([, service]) => runs(service)),
      workers,
    ),
  );
  for (const [name, service] of workerServices) {
    const task = runs(service);
    if (name !== task)
      problems.push(`${list}: service "${name}" runs ${task}; name it "${task}" after its task`);
  }
  for (const worker of workers) {
    const service = compose.services[worker.service] as ComposeService | undefined;
    if (!service) continue; // reported above, or under another name
    const port = service.environment?.HTTP_PORT;
    if (String(port) !== String(worker.port))
      problems.push(
        `${list}: service "${worker.service}" has HTTP_PORT ${String(port)}; the registry's port is ${worker.port}`,
      );
  }
  return problems;
}

/** helm/argus: values.yaml's workers and ports, the profiles, the schema, the worker list and the templates. */
function checkChart(workers: readonly Worker[]): Problems {
  const problems: Problems = [];
  const values = 'helm/argus/values.yaml';
  problems.push(...compareNames(values, 'key under workers', Object.keys(chartValues.workers), workers));
  for (const worker of workers) {
    if (!(worker.service in chartValues.workers)) continue;
    const port = chartValues.workers[worker.service].port;
    if (port !== worker.port)
      problems.push(
        `${values}: workers.${worker.service}.port is ${String(port)}; the registry's port is ${worker.port}`,
      );
  }
  const known = new Set(workers.map((worker) => worker.service));
  for (const [profile, settings] of profiles) {
    for (const key of Object.keys(settings.workers ?? {}))
      if (!known.has(key)) problems.push(`${profile}: workers.${key} is not a task of the registry`);
  }

  // The schema's real worker objects (a renamed key is admitted with no type, so that the chart can explain it).
  const schemaWorkers = Object.entries(schema.properties.workers.properties)
    .filter(([, property]) => property.type === 'object')
    .map(([key]) => key);
  problems.push(
    ...compareNames(
      'helm/argus/values.schema.json (run node scripts/sync-chart-assets.mjs)',
      'object under workers',
      schemaWorkers,
      workers,
    ),
  );

  const helpers = templates.get('helm/argus/templates/_helpers.tpl') ?? '';
  const names = /\{\{-? define "argus\.workerNames" -?\}\}([\s\S]*?)\{\{-? end -?\}\}/.exec(helpers);
  if (!names)
    problems.push('helm/argus/templates/_helpers.tpl: no define "argus.workerNames" (the worker list)');
  else
    problems.push(
      ...compareNames(
        'helm/argus/templates/_helpers.tpl',
        'entry in argus.workerNames',
        names[1].trim().split(/\s+/).filter(Boolean),
        workers,
      ),
    );

  // Workers are rendered per key of .Values.workers, named by argus.workerService: never by a literal name.
  for (const [file, source] of templates) {
    if (file.endsWith('_helpers.tpl')) continue;
    const reads = source.match(/\.Values\.workers\b[.\w]*/g) ?? [];
    const ranges = [...source.matchAll(/range \$(\w+), \$\w+ := \$?\.Values\.workers\b(?!\.)/g)];
    if (reads.length !== ranges.length)
      problems.push(
        `${file}: reads .Values.workers other than as "range $key, $worker := .Values.workers" (${reads.join(', ')}), so its workers may not be the registry's`,
      );
    for (const [, key] of ranges)
      if (!source.includes(`include "argus.workerService" $${key}`))
        problems.push(
          `${file}: ranges over .Values.workers without naming each worker by argus.workerService`,
        );
    for (const [, component] of source.matchAll(/"component" "([^"]+)"/g))
      if (component !== GATEWAY.service && component !== 'ollama')
        problems.push(
          `${file}: names the component "${component}" literally; workers come from .Values.workers`,
        );
  }
  return problems;
}

/** deploy/Dockerfile: the sources it copies, the launcher's services, the health check's ports and EXPOSE. */
function checkDockerfile(workers: readonly Worker[]): Problems {
  const list = 'deploy/Dockerfile';
  const problems: Problems = [];
  const copiesAll = /^COPY services \.\/services\/?$/m.test(dockerfile);
  if (!copiesAll) {
    const copied = [...dockerfile.matchAll(/^COPY services\/([\w-]+)\/? /gm)].map((match) => match[1]);
    problems.push(
      ...compareNames(
        list,
        'COPY of its services/ folder',
        copied.filter((name) => name !== GATEWAY.service),
        workers,
      ),
    );
  }
  if (!/^RUN npm run build$/m.test(dockerfile))
    problems.push(`${list}: does not build the services (npm run build)`);

  const launcher = /^case "\$service" in\n\s*([\w|-]+)\) ;;$/m.exec(dockerfile);
  if (!launcher) problems.push(`${list}: no launcher case listing the services`);
  else
    problems.push(
      ...compareNames(
        list,
        "entry in the launcher's case list",
        launcher[1].split('|').filter((name) => name !== GATEWAY.service),
        workers,
      ),
    );

  const defaults = /^const defaults = \{([^}]*)\};$/m.exec(dockerfile);
  if (!defaults) problems.push(`${list}: no default ports in the health check`);
  else {
    const ports = new Map(
      [...defaults[1].matchAll(/'?([\w-]+)'?: (\d+)/g)].map((match) => [match[1], Number(match[2])]),
    );
    problems.push(
      ...compareNames(
        list,
        'default port in the health check',
        [...ports.keys()].filter((name) => name !== GATEWAY.service),
        workers,
      ),
    );
    for (const worker of workers) {
      const port = ports.get(worker.service);
      if (port !== undefined && port !== worker.port)
        problems.push(
          `${list}: the health check's default port of ${worker.service} is ${port}; the registry's port is ${worker.port}`,
        );
    }
  }

  const exposed = new Set((/^EXPOSE (.+)$/m.exec(dockerfile)?.[1] ?? '').split(/\s+/).map(Number));
  for (const worker of workers)
    if (!exposed.has(worker.port)) problems.push(`${list}: EXPOSE lacks ${worker.port} (${worker.service})`);
  return problems;
}

/** deploy/prometheus/prometheus.yml: a job argus-<service> scraping <service>:<port> per task, and no other. */
function checkPrometheus(workers: readonly Worker[]): Problems {
  const list = 'deploy/prometheus/prometheus.yml';
  const problems: Problems = [];
  const jobs = new Map(
    prometheus.scrape_configs
      .filter((config) => config.job_name.startsWith('argus-'))
      .map((config) => [
        config.job_name.slice('argus-'.length),
        (config.static_configs ?? []).flatMap((entry) => entry.targets),
      ]),
  );
  problems.push(
    ...compareNames(
      list,
      'scrape job argus-<task>',
      [...jobs.keys()].filter((name) => name !== GATEWAY.service),
      workers,
    ),
  );
  for (const worker of workers) {
    const targets = jobs.get(worker.service);
    const want = `${worker.service}:${worker.port}`;
    if (targets && !(targets.length === 1 && targets[0] === want))
      problems.push(
        `${list}: job argus-${worker.service} scrapes ${quoted(targets)}; the registry wants "${want}"`,
      );
  }
  return problems;
}

/** scripts/stack.mjs: SERVICES starts every task under its service name on its port. */
function checkStack(workers: readonly Worker[]): Problems {
  const list = 'scripts/stack.mjs (SERVICES)';
  const problems: Problems = [];
  problems.push(
    ...compareNames(
      list,
      'worker entry',
      stack.map((service) => service.name).filter((name) => name !== GATEWAY.service),
      workers,
    ),
  );
  for (const worker of workers) {
    const entry = stack.find((service) => service.name === worker.service);
    if (!entry) continue;
    if (entry.defaultPort !== worker.port)
      problems.push(
        `${list}: ${worker.service} starts on ${entry.defaultPort}; the registry's port is ${worker.port}`,
      );
    const portVar = `ARGUS_${worker.task.toUpperCase()}_PORT`;
    if (entry.portVar !== portVar)
      problems.push(`${list}: ${worker.service} takes its port from ${entry.portVar}, not ${portVar}`);
  }
  return problems;
}

/** services/<service>/src/main.ts starts the task's worker for every task; nest-cli.json has the same projects. */
function checkFolders(workers: readonly Worker[]): Problems {
  const problems: Problems = [];
  problems.push(
    ...compareNames(
      'services/',
      'worker folder',
      serviceFolders.filter((name) => name !== GATEWAY.service),
      workers,
    ),
  );
  for (const worker of workers) {
    const main = join('services', worker.service, 'src', 'main.ts');
    if (!serviceFolders.includes(worker.service)) continue;
    if (!existsSync(join(ROOT, main))) {
      problems.push(`${main}: missing`);
      continue;
    }
    if (!read(main).includes('runWorker(')) problems.push(`${main}: does not start a worker (runWorker)`);
    // The worker serves its task: runWorker('<task>'), or a task definition with that id beside main.ts.
    const sources = readdirSync(join(ROOT, 'services', worker.service, 'src'))
      .filter((name) => name.endsWith('.ts') && !name.endsWith('.spec.ts'))
      .map((name) => read(join('services', worker.service, 'src', name)));
    if (!sources.some((source) => source.includes(`'${worker.task}'`)))
      problems.push(`services/${worker.service}/src: no source names its task '${worker.task}'`);
  }

  const list = 'nest-cli.json';
  const applications = Object.entries(nestCli.projects).filter(
    ([, project]) => project.type === 'application',
  );
  problems.push(
    ...compareNames(
      list,
      'application project',
      applications.map(([name]) => name).filter((name) => name !== GATEWAY.service),
      workers,
    ),
  );
  for (const [name, project] of applications) {
    const root = `services/${name}`;
    if (
      project.root !== root ||
      project.entryFile !== `${root}/src/main` ||
      project.sourceRoot !== `${root}/src`
    )
      problems.push(`${list}: project "${name}" does not point at ${root} (root, entryFile, sourceRoot)`);
  }
  return problems;
}

const CHECKS = {
  'deploy/compose.yaml': checkCompose,
  'helm/argus': checkChart,
  'deploy/Dockerfile': checkDockerfile,
  'deploy/prometheus/prometheus.yml': checkPrometheus,
  'scripts/stack.mjs': checkStack,
  'services/ and nest-cli.json': checkFolders,
} as const;
const LISTS = Object.keys(CHECKS) as Array<keyof typeof CHECKS>;

// ---------------------------------------------------------------------------------------------------------------

describe('the task registry', () => {
  it('gives each task one name: service, queue group argus-<task> and folder services/<task>', () => {
    expect(TASKS.length).toBeGreaterThan(0);
    for (const task of TASKS) {
      expect({ task, service: TASK_SERVICES[task], queue: QUEUE_GROUPS[task] }).toEqual({
        task,
        service: task,
        queue: `argus-${task}`,
      });
      expect(TASK_DEFAULT_PORTS[task]).toBe(TASK_REGISTRY[task].port);
    }
    expect(new Set(TASKS.map((task) => TASK_DEFAULT_PORTS[task])).size).toBe(TASKS.length);
  });
});

describe('the deploy lists agree with the task registry', () => {
  it.each(LISTS)('%s', (list) => {
    expect(CHECKS[list](WORKERS)).toEqual([]);
  });
});

describe('the checks themselves', () => {
  const added: Worker = { task: 'thumbnails', service: 'thumbnails', port: 9199 };
  const dropped = WORKERS.at(-1)!;

  it.each(LISTS)('%s: a task added to the registry but not to the list fails', (list) => {
    const problems = CHECKS[list]([...WORKERS, added]);
    expect(problems).toEqual(expect.arrayContaining([expect.stringContaining('"thumbnails"')]));
  });

  it.each(LISTS)('%s: a worker the registry no longer has fails', (list) => {
    const problems = CHECKS[list](WORKERS.filter((worker) => worker !== dropped));
    expect(problems).toEqual(
      expect.arrayContaining([expect.stringMatching(new RegExp(`"${dropped.service}" is not a task`))]),
    );
  });

  it('a port that differs from the registry fails where the lists carry ports', () => {
    const moved = WORKERS.map((worker, index) =>
      index === 0 ? { ...worker, port: worker.port + 1000 } : worker,
    );
    for (const list of LISTS.filter((name) => name !== 'services/ and nest-cli.json')) {
      expect({ list, problems: CHECKS[list](moved) }).toEqual({
        list,
        problems: expect.arrayContaining([expect.stringContaining(String(moved[0].port))]) as unknown,
      });
    }
  });
});
