/**
 * The task registry: every name a task goes by, derived from its one id. The id is the API's task name and results
 * key, the service (process, metrics `service` label, compose service, Helm values key, Prometheus job), the NATS
 * subject token, the queue group's and the JetStream consumer's suffix, and the folder `services/<id>`. Deploy
 * lists (compose, chart, Dockerfile, Prometheus, scripts/stack.mjs) are checked against this table by
 * test/support/deploy-lists.spec.ts.
 */
export const TASK_REGISTRY = {
  moderation: { port: 9101, byDefault: true, summary: 'is this image safe to publish, and why' },
  tagging: {
    port: 9102,
    byDefault: true,
    summary: 'category, attributes, condition, defects and listing-photo compliance',
  },
  ocr: { port: 9103, byDefault: true, summary: 'text with boxes, key-values and tables' },
  // Added in 0.2: asked for by name, so a request without `tasks` costs what it cost in 0.1.
  describe: {
    port: 9104,
    byDefault: false,
    summary: 'captions, alt text and answers to questions about an image',
  },
} as const satisfies Record<string, { port: number; byDefault: boolean; summary: string }>;

export type Task = keyof typeof TASK_REGISTRY;
export const TASKS = Object.keys(TASK_REGISTRY) as [Task, ...Task[]];
/** The tasks a request that names none gets. */
export const DEFAULT_TASKS: readonly Task[] = TASKS.filter((task) => TASK_REGISTRY[task].byDefault);

/** A value for every task in the registry, derived from its id. */
export function perTask<Value>(make: (task: Task) => Value): Readonly<Record<Task, Value>> {
  return Object.fromEntries(TASKS.map((task) => [task, make(task)])) as Record<Task, Value>;
}

/** Versioned NATS subjects. Workers subscribe with a queue group so each request is handled once. */
export const TASK_SUBJECTS = perTask((task) => `argus.v1.${task}.analyze`);

/**
 * Subjects a worker still answers for callers of an earlier release, with the release that drops them. OCR's
 * subject ended `.extract` until 0.2; a gateway of 0.1 sends there during a rolling upgrade.
 */
export const LEGACY_TASK_SUBJECTS: Readonly<Partial<Record<Task, { subject: string; removedIn: string }>>> = {
  ocr: { subject: 'argus.v1.ocr.extract', removedIn: '0.3.0' },
};

export const PING_SUBJECTS = perTask((task) => `argus.v1.${task}.ping`);

export const MODELS_SUBJECTS = perTask((task) => `argus.v1.${task}.models`);

export const QUEUE_GROUPS = perTask((task) => `argus-${task}`);

/** The process name of the service that owns each task (metrics label `service`): the task's id. */
export const TASK_SERVICES = perTask((task) => task);

/** Per-task default HTTP port for probes and metrics. */
export const TASK_DEFAULT_PORTS = perTask((task) => TASK_REGISTRY[task].port);

export const MESSAGE_HEADERS = {
  /** Milliseconds left of the caller's deadline when the message was sent; relative, so clocks need not agree. */
  timeoutMs: 'Argus-Timeout-Ms',
  requestId: 'Argus-Request-Id',
} as const;

/** JetStream object store bucket that holds normalised image bytes (claim check). */
export const IMAGE_BUCKET = 'argus-images';
