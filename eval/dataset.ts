// The eval dataset format: a folder with `dataset.jsonl`, one labelled item per line, images beside it. Every line is
// validated; a bad line fails the whole run with its line number, because a silently skipped item changes every
// score computed from the rest.
import { readFileSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { z } from 'zod';
import { CPU_COMPLIANCE_CHECK_IDS, type Task } from '@argus/contracts';

export const DATASET_FILE = 'dataset.jsonl';

/** The tasks the datasets label and the eval scores; describe has no labelled set yet (docs/eval.md). */
const TASK_IDS = ['moderation', 'tagging', 'ocr'] as const satisfies readonly Task[];
export type EvalTask = (typeof TASK_IDS)[number];

/** The checks the synthetic dataset labels: those measured on every tier. */
export const CHECK_IDS = CPU_COMPLIANCE_CHECK_IDS;
export type CheckId = (typeof CHECK_IDS)[number];

export const SPLITS = ['tune', 'test'] as const;
export type Split = (typeof SPLITS)[number];
/** What a run can ask for: one split, or every item. */
export const SPLIT_CHOICES = [...SPLITS, 'all'] as const;
export type SplitChoice = (typeof SPLIT_CHOICES)[number];

const expectedSchema = z.strictObject({
  decision: z.enum(['allow', 'review', 'block']).optional(),
  /** Moderation category ids expected present; every other category is expected absent. */
  categories: z.array(z.string().min(1)).optional(),
  /** Check id → whether the check is expected to pass; only listed checks are scored. */
  compliance: z.partialRecord(z.enum(CHECK_IDS), z.boolean()).optional(),
  /** The expected OCR text, lines in reading order joined by \n. */
  text: z.string().optional(),
  /** The photo has no text at all: any OCR text is phantom text. */
  noText: z.literal(true).optional(),
  /** The upright page was turned clockwise by this angle to make the image; `text` is the upright reading. */
  rotation: z.union([z.literal(0), z.literal(90), z.literal(180), z.literal(270)]).optional(),
});

export const datasetItemSchema = z
  .strictObject({
    id: z.string().min(1),
    /** Relative to the dataset folder. */
    image: z.string().min(1),
    tasks: z.array(z.enum(TASK_IDS)).min(1).optional(),
    profile: z.string().min(1).optional(),
    policy: z.string().min(1).optional(),
    ocrMode: z.enum(['document', 'label', 'scene']).optional(),
    pii: z.enum(['off', 'flag', 'redact']).optional(),
    listing: z.record(z.string(), z.unknown()).optional(),
    /** Which part of a dataset tuning may look at (`tune`) and which part is reported (`test`). */
    split: z.enum(SPLITS).optional(),
    /** A kind of item the report shows apart (`ocr-upright`, `ocr-rotated`, `no-text`, …). */
    group: z.string().min(1).optional(),
    /** The expected text was typed by a person looking at the photo, not extracted from a document. */
    handTranscribed: z.boolean().optional(),
    expected: expectedSchema,
  })
  .superRefine((item, ctx) => {
    if (isAbsolute(item.image) || item.image.split(/[\\/]/).includes('..')) {
      ctx.addIssue({ code: 'custom', path: ['image'], message: 'must be a path inside the dataset folder' });
    }
  });
export type DatasetItem = z.infer<typeof datasetItemSchema>;

export interface Dataset {
  name: string;
  dir: string;
  items: DatasetItem[];
}

export class DatasetError extends Error {}

/** The tasks an item is sent with: its own list, or those its expectations need. */
export function itemTasks(item: DatasetItem): EvalTask[] {
  if (item.tasks) return item.tasks;
  const tasks: EvalTask[] = [];
  const { expected } = item;
  if (expected.decision !== undefined || expected.categories !== undefined) tasks.push('moderation');
  if (expected.compliance !== undefined) tasks.push('tagging');
  if (expected.text !== undefined || expected.noText) tasks.push('ocr');
  return tasks.length > 0 ? tasks : [...TASK_IDS];
}

/** Keeps the items of the chosen split; `all` keeps every item, with or without a split. */
export function itemsOfSplit(items: readonly DatasetItem[], split: SplitChoice): DatasetItem[] {
  return split === 'all' ? [...items] : items.filter((item) => item.split === split);
}

/** Parses dataset.jsonl text; blank lines are allowed, anything else that is not a valid item throws. */
export function parseDataset(text: string, source = DATASET_FILE): DatasetItem[] {
  const items: DatasetItem[] = [];
  const seen = new Map<string, number>();
  text.split('\n').forEach((raw, index) => {
    const line = index + 1;
    if (raw.trim() === '') return;
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch (error) {
      throw new DatasetError(
        `${source}:${line}: not valid JSON (${error instanceof Error ? error.message : String(error)})`,
      );
    }
    const parsed = datasetItemSchema.safeParse(json);
    if (!parsed.success) {
      const issues = parsed.error.issues
        .map((issue) => `${issue.path.join('.') || '(item)'}: ${issue.message}`)
        .join('; ');
      throw new DatasetError(`${source}:${line}: invalid item: ${issues}`);
    }
    const first = seen.get(parsed.data.id);
    if (first !== undefined) {
      throw new DatasetError(`${source}:${line}: id "${parsed.data.id}" is already used on line ${first}`);
    }
    seen.set(parsed.data.id, line);
    items.push(parsed.data);
  });
  if (items.length === 0) throw new DatasetError(`${source}: no items`);
  return items;
}

export function loadDataset(dir: string, name: string): Dataset {
  const folder = resolve(dir);
  const file = join(folder, DATASET_FILE);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new DatasetError(`cannot read ${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const shown = relative(process.cwd(), file);
  return { name, dir: folder, items: parseDataset(text, shown.startsWith('..') ? file : shown) };
}
