export const TASKS = ['moderation', 'tagging', 'ocr'] as const;
export type Task = (typeof TASKS)[number];

/** Versioned NATS subjects. Workers subscribe with a queue group so each request is handled once. */
export const TASK_SUBJECTS: Readonly<Record<Task, string>> = {
  moderation: 'argus.v1.moderation.analyze',
  tagging: 'argus.v1.tagging.analyze',
  ocr: 'argus.v1.ocr.extract',
};

export const PING_SUBJECTS: Readonly<Record<Task, string>> = {
  moderation: 'argus.v1.moderation.ping',
  tagging: 'argus.v1.tagging.ping',
  ocr: 'argus.v1.ocr.ping',
};

export const MODELS_SUBJECTS: Readonly<Record<Task, string>> = {
  moderation: 'argus.v1.moderation.models',
  tagging: 'argus.v1.tagging.models',
  ocr: 'argus.v1.ocr.models',
};

export const QUEUE_GROUPS: Readonly<Record<Task, string>> = {
  moderation: 'argus-moderation',
  tagging: 'argus-product-tagging',
  ocr: 'argus-ocr',
};

/** The process name of the service that owns each task (metrics label `service`). */
export const TASK_SERVICES: Readonly<Record<Task, string>> = {
  moderation: 'moderation',
  tagging: 'product-tagging',
  ocr: 'ocr',
};

export const MESSAGE_HEADERS = {
  /** Milliseconds left of the caller's deadline when the message was sent; relative, so clocks need not agree. */
  timeoutMs: 'Argus-Timeout-Ms',
  requestId: 'Argus-Request-Id',
} as const;

/** JetStream object store bucket that holds normalised image bytes (claim check). */
export const IMAGE_BUCKET = 'argus-images';
