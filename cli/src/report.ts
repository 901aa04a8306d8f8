import { stringify } from 'csv-stringify/sync';
import {
  describeReplySchema,
  moderationReplySchema,
  ocrReplySchema,
  taggingReplySchema,
} from '@argus/contracts';
import type { JobItemStatus, JobStatus, OkReply, Task, TaskReply } from './gateway-api';
import type { PlannedItem } from './job-plan';

export const OCR_EXCERPT_CHARS = 500;

/** An item's status: the job's item status, or `failed` when its job could not be created. */
export type ReportStatus = JobItemStatus['status'];

export interface ReportError {
  /** Absent when the whole job failed (it could not be created, or it was lost). */
  task?: Task;
  code: string;
  message: string;
}

export interface ReportItem {
  file: string;
  itemId: string;
  jobId: string | null;
  status: ReportStatus;
  /** Moderation's decision; null without an ok moderation reply. */
  decision: OkReply<'moderation'>['decision'] | null;
  moderationCategories: Array<{ id: string; confidence: number }>;
  /** Ids of the listing-compliance checks that did not pass (tagging). */
  failedChecks: string[];
  /** Tagging's product category. */
  category: string | null;
  /** The OCR text, whitespace collapsed, cut at OCR_EXCERPT_CHARS. */
  ocrText: string | null;
  /** Describe's alt text, and its answer when a question was asked. */
  altText: string | null;
  answer: string | null;
  errors: ReportError[];
  /** Each task's reply, exactly as the gateway returned it. */
  results: JobItemStatus['results'];
}

/** What became of one chunk of the plan: a job and its final status, or the reason it has none. */
export type JobOutcome =
  | { items: readonly PlannedItem[]; jobId: string; status: JobStatus }
  | { items: readonly PlannedItem[]; jobId: string | null; error: { code: string; message: string } };

export function buildReport(outcomes: readonly JobOutcome[]): ReportItem[] {
  return outcomes.flatMap((outcome) => {
    if ('error' in outcome) {
      return outcome.items.map((item) => ({
        ...emptyItem(item, outcome.jobId),
        status: 'failed' as const,
        errors: [{ ...outcome.error }],
      }));
    }
    const byId = new Map(outcome.status.items.map((item) => [item.id, item]));
    return outcome.items.map((item) => {
      const status = byId.get(item.id);
      if (!status) {
        return {
          ...emptyItem(item, outcome.jobId),
          status: 'failed' as const,
          errors: [{ code: 'NOT_FOUND', message: `job ${outcome.jobId} has no item ${item.id}` }],
        };
      }
      return itemFromStatus(item, outcome.jobId, status);
    });
  });
}

function emptyItem(item: PlannedItem, jobId: string | null): Omit<ReportItem, 'status' | 'errors'> {
  return {
    file: item.file.relative,
    itemId: item.id,
    jobId,
    decision: null,
    moderationCategories: [],
    failedChecks: [],
    category: null,
    ocrText: null,
    altText: null,
    answer: null,
    results: {},
  };
}

/** Reads decision, categories, failed checks, product category and OCR text out of the task replies. */
export function itemFromStatus(item: PlannedItem, jobId: string, status: JobItemStatus): ReportItem {
  const report: ReportItem = {
    ...emptyItem(item, jobId),
    status: status.status,
    errors: status.errors.map(({ task, code, message }) => ({ task, code, message })),
    results: status.results,
  };
  const addReplyError = (task: Task, error: { code: string; message: string }) => {
    if (!report.errors.some((known) => known.task === task && known.code === error.code)) {
      report.errors.push({ task, ...error });
    }
  };

  // An item's results are untyped in the document (`{ [task]: unknown }`): each reply is read through the contracts'
  // schema, whose output must be the reply /v1/analyze declares for that task.
  const moderation = moderationReplySchema.safeParse(status.results.moderation);
  if (moderation.success) {
    const reply: TaskReply<'moderation'> = moderation.data;
    if (reply.status === 'ok') {
      report.decision = reply.decision;
      report.moderationCategories = reply.categories.map(({ id, confidence }) => ({ id, confidence }));
    } else addReplyError('moderation', reply.error);
  }
  const tagging = taggingReplySchema.safeParse(status.results.tagging);
  if (tagging.success) {
    const reply: TaskReply<'tagging'> = tagging.data;
    if (reply.status === 'ok') {
      report.category = reply.category;
      report.failedChecks = reply.compliance.checks.filter((check) => !check.passed).map((check) => check.id);
    } else addReplyError('tagging', reply.error);
  }
  const ocr = ocrReplySchema.safeParse(status.results.ocr);
  if (ocr.success) {
    const reply: TaskReply<'ocr'> = ocr.data;
    if (reply.status === 'ok') report.ocrText = excerpt(reply.text);
    else addReplyError('ocr', reply.error);
  }
  const describe = describeReplySchema.safeParse(status.results.describe);
  if (describe.success) {
    const reply: TaskReply<'describe'> = describe.data;
    if (reply.status === 'ok') {
      report.altText = reply.altText;
      report.answer = reply.answer?.text ?? null;
    } else addReplyError('describe', reply.error);
  }
  return report;
}

export function excerpt(text: string, max = OCR_EXCERPT_CHARS): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}

export const CSV_COLUMNS = [
  'file',
  'item_id',
  'job_id',
  'status',
  'decision',
  'moderation_categories',
  'failed_checks',
  'category',
  'ocr_text',
  'error_code',
  'error_message',
  // Added in 0.2 at the end, so readers of 0.1 reports by column position still find theirs.
  'alt_text',
  'answer',
] as const;
export type CsvRow = Record<(typeof CSV_COLUMNS)[number], string>;

export function csvRow(item: ReportItem): CsvRow {
  return {
    file: item.file,
    item_id: item.itemId,
    job_id: item.jobId ?? '',
    status: item.status,
    decision: item.decision ?? '',
    moderation_categories: item.moderationCategories.map((category) => category.id).join(';'),
    failed_checks: item.failedChecks.join(';'),
    category: item.category ?? '',
    ocr_text: item.ocrText ?? '',
    alt_text: item.altText ?? '',
    answer: item.answer ?? '',
    error_code: [...new Set(item.errors.map((error) => error.code))].join(';'),
    error_message: errorMessages(item.errors),
  };
}

/** One message per distinct text, prefixed by the tasks that reported it: `moderation, ocr: not an image`. */
function errorMessages(errors: readonly ReportError[]): string {
  const tasksByMessage = new Map<string, string[]>();
  for (const error of errors) {
    const tasks = tasksByMessage.get(error.message) ?? [];
    if (error.task) tasks.push(error.task);
    tasksByMessage.set(error.message, tasks);
  }
  return [...tasksByMessage]
    .map(([message, tasks]) => (tasks.length > 0 ? `${tasks.join(', ')}: ${message}` : message))
    .join('; ');
}

/**
 * RFC 4180 CSV with a header row. Cells that a spreadsheet would run as a formula (leading =, +, -, @) are
 * prefixed with `'`, since OCR text and file names come from untrusted images.
 */
export function toCsv(items: readonly ReportItem[]): string {
  return stringify(items.map(csvRow), {
    header: true,
    columns: [...CSV_COLUMNS],
    escape_formulas: true,
    record_delimiter: 'unix',
  });
}

export function toJson(items: readonly ReportItem[], meta: { gateway: string; createdAt: string }): string {
  return `${JSON.stringify({ ...meta, items }, null, 2)}\n`;
}
