// `npm run eval -- --dataset DIR|synthetic|realworld [--split tune|test|all] [--tier T] [--gateway URL] [--out FILE]
//                  [--concurrency N] [--min-f1 X] [--max-cer Y] [--min-check-accuracy X] [--max-phantom X]`
//
// Sends every item of a labelled dataset through POST /v1/analyze, of a running Argus or of the local stack started
// as `npm start` starts it, and scores the answers: listing checks and moderation categories (precision, recall, F1),
// decisions, OCR character error rate and word recall, and latency. Low scores are a result, not a failure: the exit
// code is 1 only when the run itself failed, or when a gate (--min-f1, --max-cer, …) is not met.
import { readFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { machine, ROOT, startBenchStack, type StackHandle } from '../bench/bench-support';
import {
  DatasetError,
  itemTasks,
  loadDataset,
  type CheckId,
  type DatasetItem,
  itemsOfSplit,
  SPLIT_CHOICES,
  type EvalTask,
  type Split,
  type SplitChoice,
} from './dataset';
import { DEFAULT_REALWORLD_DIR, ensureRealworld } from './collect-realworld';
import { DEFAULT_SYNTHETIC_DIR, ensureSynthetic, GENERATOR_VERSION } from './generate-synthetic';
import {
  accuracy,
  complianceMetrics,
  flaggedSafePhotos,
  gateFailures,
  moderationMetrics,
  ocrGroupMetrics,
  ocrMetrics,
  orientationMetrics,
  phantomTextMetrics,
  summariseLatency,
  type Accuracy,
  type ComplianceMetrics,
  type Decision,
  type LatencySummary,
  type ModerationMetrics,
  type OcrMetrics,
  type PhantomMetrics,
  type SafeObservation,
  type Scores,
} from './metrics';

const TIERS = ['cpu', 'small', 'medium', 'large', 'auto'] as const;
type TierChoice = (typeof TIERS)[number];
/** A CPU-tier tesseract pass can take seconds on a busy photo, a cold GPU model a minute: generous but bounded. */
const REQUEST_TIMEOUT_MS = 180_000;
/** UPSTREAM_BUSY (a tier's queue is full) is retried after Retry-After, this many times. */
const BUSY_RETRIES = 4;
const MAX_RETRY_WAIT_MS = 15_000;
/** Request fields an older gateway may not know; sent only when the item has them, dropped if the gateway refuses. */
const OPTIONAL_FIELDS = ['ocrMode', 'listing'] as const;

class RunError extends Error {}

// ---------------------------------------------------------------------------------------------------------------
// Arguments

export interface EvalOptions {
  dataset: string;
  /** Which items to send; undefined means the dataset's default (`test` for realworld, `all` otherwise). */
  split?: SplitChoice;
  tier: TierChoice;
  gateway?: string;
  out?: string;
  concurrency: number;
  minF1?: number;
  maxCer?: number;
  minCheckAccuracy?: number;
  maxPhantom?: number;
}

const USAGE = `usage: npm run eval -- [--dataset DIR|synthetic|realworld] [--split tune|test|all]
                     [--tier cpu|small|medium|large|auto] [--gateway URL] [--out FILE] [--concurrency N]
                     [--min-f1 X] [--max-cer Y] [--min-check-accuracy X] [--max-phantom X]`;

export function parseOptions(argv: string[]): EvalOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      dataset: { type: 'string' },
      split: { type: 'string' },
      tier: { type: 'string', default: 'cpu' },
      gateway: { type: 'string' },
      out: { type: 'string' },
      concurrency: { type: 'string', default: '2' },
      'min-f1': { type: 'string' },
      'max-cer': { type: 'string' },
      'min-check-accuracy': { type: 'string' },
      'max-phantom': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const tier = values.tier as TierChoice;
  if (!TIERS.includes(tier)) throw new RunError(`--tier must be one of ${TIERS.join(', ')}; got "${tier}"`);
  const split = values.split as SplitChoice | undefined;
  if (split !== undefined && !SPLIT_CHOICES.includes(split)) {
    throw new RunError(`--split must be one of ${SPLIT_CHOICES.join(', ')}; got "${split}"`);
  }
  const concurrency = Number(values.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new RunError(`--concurrency must be a positive integer; got "${values.concurrency}"`);
  }
  const fraction = (name: string, raw: string | undefined) => {
    if (raw === undefined) return undefined;
    const value = Number(raw);
    if (!Number.isFinite(value) || value < 0 || value > 1) {
      throw new RunError(`--${name} must be a number from 0 to 1; got "${raw}"`);
    }
    return value;
  };
  if (values.gateway !== undefined && !/^https?:\/\/[^/]+/.test(values.gateway)) {
    throw new RunError(`--gateway must be an http(s) URL; got "${values.gateway}"`);
  }
  return {
    dataset: values.dataset ?? 'synthetic',
    split,
    tier,
    gateway: values.gateway?.replace(/\/+$/, ''),
    out: values.out,
    concurrency,
    minF1: fraction('min-f1', values['min-f1']),
    maxCer: fraction('max-cer', values['max-cer']),
    minCheckAccuracy: fraction('min-check-accuracy', values['min-check-accuracy']),
    maxPhantom: fraction('max-phantom', values['max-phantom']),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Answers: parsed loosely, only the fields the scores need, so a newer gateway with more fields still works.

const taskReplySchema = z.looseObject({
  status: z.enum(['ok', 'error']),
  tier: z.string().optional(),
  engine: z.string().optional(),
  model: z.string().optional(),
  durationMs: z.number().optional(),
  cached: z.boolean().optional(),
  error: z.looseObject({ code: z.string(), message: z.string() }).optional(),
});
const taggingReplySchema = taskReplySchema.extend({
  compliance: z
    .looseObject({
      profile: z.string(),
      passed: z.boolean(),
      checks: z.array(
        z.looseObject({
          id: z.string(),
          passed: z.boolean(),
          value: z.unknown(),
          threshold: z.unknown(),
          message: z.string().optional(),
        }),
      ),
    })
    .optional(),
});
const moderationReplySchema = taskReplySchema.extend({
  decision: z.enum(['allow', 'review', 'block']).optional(),
  categories: z.array(z.looseObject({ id: z.string(), confidence: z.number().optional() })).optional(),
});
const ocrReplySchema = taskReplySchema.extend({
  text: z.string().optional(),
  orientation: z.looseObject({ angle: z.number() }).optional(),
});
const resultsSchema = z.looseObject({
  moderation: moderationReplySchema.optional(),
  tagging: taggingReplySchema.optional(),
  ocr: ocrReplySchema.optional(),
});
const answerSchema = z.looseObject({
  results: resultsSchema.optional(),
  code: z.string().optional(),
  detail: z.string().optional(),
  errors: z.array(z.looseObject({ field: z.string(), message: z.string() })).optional(),
});
type Results = z.infer<typeof resultsSchema>;

// ---------------------------------------------------------------------------------------------------------------
// Sending

interface TaskOutcome {
  status: 'ok' | 'error' | 'missing';
  tier?: string;
  engine?: string;
  durationMs?: number;
  cached?: boolean;
  error?: string;
}

export interface ItemRecord {
  id: string;
  /** The item's group and split in the dataset, when it has them. */
  group?: string;
  split?: Split;
  tasks: EvalTask[];
  httpStatus: number | null;
  roundTripMs: number | null;
  attempts: number;
  /** Why the request as a whole failed (network, timeout, an HTTP error without results). */
  error?: string;
  /** Optional fields the gateway did not know and that were sent again without. */
  dropped?: string[];
  tasksOutcome: Partial<Record<EvalTask, TaskOutcome>>;
  compliance?: {
    expected: Partial<Record<CheckId, boolean>>;
    actual: Record<string, { passed: boolean; value: unknown }> | null;
    /** Checks whose answer differs from the label. */
    wrong: string[];
  };
  moderation?: {
    expectedDecision?: Decision;
    decision: Decision | null;
    expectedCategories?: string[];
    categories: Array<{ id: string; confidence?: number }> | null;
  };
  ocr?: {
    expected: string;
    text: string | null;
    cer: number;
    wordRecall: number;
    /** The labelled clockwise turn of the page and the one answered (0 when none is reported; null on failure). */
    rotation?: { expected: number; answered: number | null };
  };
  /** A photo labelled as having no text: what OCR answered (null when it failed). */
  noText?: { text: string | null };
}

function requestBody(item: DatasetItem, image: Buffer, tier: TierChoice, drop: readonly string[]) {
  const body: Record<string, unknown> = {
    imageBase64: image.toString('base64'),
    tasks: itemTasks(item),
    tier,
  };
  const optional: Record<string, unknown> = {
    profile: item.profile,
    policy: item.policy,
    pii: item.pii,
    ocrMode: item.ocrMode,
    listing: item.listing,
  };
  for (const [key, value] of Object.entries(optional)) {
    if (value !== undefined && !drop.includes(key)) body[key] = value;
  }
  return body;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function send(
  gateway: string,
  item: DatasetItem,
  image: Buffer,
  tier: TierChoice,
): Promise<ItemRecord> {
  const record: ItemRecord = {
    id: item.id,
    ...(item.group !== undefined ? { group: item.group } : {}),
    ...(item.split !== undefined ? { split: item.split } : {}),
    tasks: itemTasks(item),
    httpStatus: null,
    roundTripMs: null,
    attempts: 0,
    tasksOutcome: {},
  };
  const dropped: string[] = [];
  let results: Results | undefined;
  for (;;) {
    record.attempts += 1;
    const started = performance.now();
    let response: Response;
    let text: string;
    try {
      response = await fetch(`${gateway}/v1/analyze`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify(requestBody(item, image, tier, dropped)),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      text = await response.text();
    } catch (error) {
      record.error = `request failed: ${error instanceof Error ? error.message : String(error)}`;
      break;
    }
    record.roundTripMs = Math.round((performance.now() - started) * 10) / 10;
    record.httpStatus = response.status;
    let answer: z.infer<typeof answerSchema> | undefined;
    try {
      const parsed = answerSchema.safeParse(JSON.parse(text));
      answer = parsed.success ? parsed.data : undefined;
    } catch {
      answer = undefined;
    }
    // A full queue clears; a tier that is down (MODEL_UNAVAILABLE, also a 503) does not, so only busy is retried.
    if (response.status === 503 && answer?.code === 'UPSTREAM_BUSY' && record.attempts <= BUSY_RETRIES) {
      const retryAfter = Number(response.headers.get('retry-after'));
      await sleep(
        Math.min(MAX_RETRY_WAIT_MS, Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : 1000),
      );
      continue;
    }
    const unknown = (answer?.errors ?? [])
      .filter((e) => e.message === 'unknown field')
      .flatMap((e) => e.field.split(',').map((field) => field.trim()))
      .filter((field) => (OPTIONAL_FIELDS as readonly string[]).includes(field) && !dropped.includes(field));
    if (response.status === 400 && unknown.length > 0) {
      dropped.push(...unknown);
      continue;
    }
    results = answer?.results;
    if (!response.ok && !results) {
      record.error = answer?.code
        ? `HTTP ${response.status} ${answer.code}: ${answer.detail ?? ''}`.trim()
        : `HTTP ${response.status}: ${text.slice(0, 200)}`;
    } else if (!answer) {
      record.error = `HTTP ${response.status}: the answer is not the expected JSON: ${text.slice(0, 200)}`;
    }
    break;
  }
  if (dropped.length > 0) record.dropped = dropped;

  for (const task of record.tasks) {
    const reply = results?.[task];
    record.tasksOutcome[task] = !reply
      ? { status: 'missing', error: record.error ?? 'the answer has no result for this task' }
      : {
          status: reply.status,
          tier: reply.tier,
          engine: reply.engine,
          durationMs: reply.durationMs,
          cached: reply.cached,
          ...(reply.status === 'error'
            ? { error: reply.error ? `${reply.error.code}: ${reply.error.message}` : 'error' }
            : {}),
        };
  }
  score(record, item, results);
  return record;
}

/** Fills the record's per-task comparisons; a task that failed contributes null observations. */
function score(record: ItemRecord, item: DatasetItem, results: Results | undefined): void {
  const { expected } = item;
  const tagging = results?.tagging?.status === 'ok' ? results.tagging : undefined;
  if (expected.compliance && record.tasks.includes('tagging')) {
    const actual = tagging?.compliance
      ? Object.fromEntries(tagging.compliance.checks.map((c) => [c.id, { passed: c.passed, value: c.value }]))
      : null;
    const wrong = Object.entries(expected.compliance)
      .filter(([id, passes]) => (actual?.[id]?.passed ?? true) !== passes)
      .map(([id]) => id);
    record.compliance = { expected: expected.compliance, actual, wrong };
  }
  const moderation = results?.moderation?.status === 'ok' ? results.moderation : undefined;
  if ((expected.decision !== undefined || expected.categories) && record.tasks.includes('moderation')) {
    record.moderation = {
      expectedDecision: expected.decision,
      decision: moderation?.decision ?? null,
      expectedCategories: expected.categories,
      categories: moderation
        ? (moderation.categories ?? []).map((c) => ({ id: c.id, confidence: c.confidence }))
        : null,
    };
  }
  const ocr = results?.ocr?.status === 'ok' ? results.ocr : undefined;
  if (expected.text !== undefined && record.tasks.includes('ocr')) {
    const one = ocrMetrics([{ id: item.id, expected: expected.text, text: ocr?.text ?? null }]).items[0];
    record.ocr = {
      expected: expected.text,
      text: ocr?.text ?? null,
      cer: one.cer,
      wordRecall: one.wordRecall,
      ...(expected.rotation !== undefined
        ? { rotation: { expected: expected.rotation, answered: ocr ? (ocr.orientation?.angle ?? 0) : null } }
        : {}),
    };
  }
  if (expected.noText && record.tasks.includes('ocr'))
    record.noText = { text: ocr ? (ocr.text ?? '') : null };
}

async function runPool<T, R>(
  items: readonly T[],
  concurrency: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const index = next;
      next += 1;
      out[index] = await work(items[index]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, lane));
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Report

export interface EvalReport {
  dataset: {
    name: string;
    dir: string;
    /** Items sent: those of the chosen split. */
    items: number;
    /** `tune`, `test` or `all`. */
    split: SplitChoice;
    generatorVersion?: number;
  };
  tier: TierChoice;
  gateway: string;
  measuredAt: string;
  machine: string;
  durationS: number;
  concurrency: number;
  errors: {
    requests: number;
    byTask: Partial<Record<EvalTask, number>>;
    /** Distinct error messages, most frequent first, with how many task results or requests had each. */
    messages: Array<{ message: string; count: number }>;
  };
  warnings: string[];
  compliance: ComplianceMetrics | null;
  /** Listing-check accuracy per item group (only for items with a group). */
  complianceGroups: Record<string, Accuracy>;
  /**
   * Check id → answers whose value was "not_checked" (text_overlay when tesseract ran out of its time budget). The
   * system reports those as passed, so on a photo with the defect they are misses.
   */
  notChecked: Record<string, number>;
  moderation: ModerationMetrics | null;
  /** Photos labelled safe (allow, no category) that got review or block. */
  safeFlagged: { safe: number; flagged: SafeObservation[] } | null;
  ocr: Omit<OcrMetrics, 'items'> | null;
  /** OCR scores per item group (only when some OCR item has a group). */
  ocrGroups: Record<string, Omit<OcrMetrics, 'items'> & { items: number }>;
  /** Photos labelled `noText` that got OCR text back. */
  phantom: PhantomMetrics | null;
  /** Pages labelled with a rotation whose reported orientation was right. */
  orientation:
    (Accuracy & { wrong: Array<{ id: string; expected: number; answered: number | null }> }) | null;
  latency: {
    roundTrip: LatencySummary | null;
    /** `${task}/${tier}` → the task's own durationMs, by the tier that actually answered. */
    tasks: Record<string, LatencySummary | null>;
  };
  gates: {
    minF1?: number;
    maxCer?: number;
    minCheckAccuracy?: number;
    maxPhantom?: number;
    failures: string[];
  };
  items: ItemRecord[];
}

function summarise(records: ItemRecord[]): {
  compliance: ComplianceMetrics | null;
  complianceGroups: Record<string, Accuracy>;
  moderation: ModerationMetrics | null;
  safeFlagged: EvalReport['safeFlagged'];
  ocr: OcrMetrics | null;
  ocrGroups: EvalReport['ocrGroups'];
  phantom: PhantomMetrics | null;
  orientation: EvalReport['orientation'];
} {
  const withCompliance = records.filter((r) => r.compliance);
  const withModeration = records.filter((r) => r.moderation);
  const withOcr = records.filter((r) => r.ocr);
  const withNoText = records.filter((r) => r.noText);
  const complianceGroups = new Map<string, Accuracy>();
  for (const record of withCompliance) {
    if (record.group === undefined) continue;
    const scored = Object.keys(record.compliance!.expected).length;
    const previous = complianceGroups.get(record.group) ?? accuracy(0, 0);
    complianceGroups.set(
      record.group,
      accuracy(previous.correct + scored - record.compliance!.wrong.length, previous.total + scored),
    );
  }
  const safe =
    withModeration.length === 0
      ? null
      : flaggedSafePhotos(
          withModeration.map((r) => ({
            id: r.id,
            expectedDecision: r.moderation!.expectedDecision,
            expectedCategories: r.moderation!.expectedCategories,
            decision: r.moderation!.decision,
            categories: r.moderation!.categories?.map((c) => c.id) ?? null,
          })),
        );
  return {
    complianceGroups: Object.fromEntries([...complianceGroups].sort(([a], [b]) => a.localeCompare(b))),
    safeFlagged: safe && safe.safe > 0 ? safe : null,
    ocrGroups: withOcr.some((r) => r.group !== undefined)
      ? ocrGroupMetrics(
          withOcr.map((r) => ({ id: r.id, group: r.group, expected: r.ocr!.expected, text: r.ocr!.text })),
        )
      : {},
    orientation: withOcr.some((r) => r.ocr!.rotation)
      ? orientationMetrics(
          withOcr.flatMap((r) => (r.ocr!.rotation ? [{ id: r.id, ...r.ocr!.rotation }] : [])),
        )
      : null,
    phantom:
      withNoText.length === 0
        ? null
        : phantomTextMetrics(withNoText.map((r) => ({ id: r.id, text: r.noText!.text }))),
    compliance:
      withCompliance.length === 0
        ? null
        : complianceMetrics(
            withCompliance.map((r) => ({
              expected: r.compliance!.expected,
              actual: r.compliance!.actual
                ? Object.fromEntries(Object.entries(r.compliance!.actual).map(([id, c]) => [id, c.passed]))
                : null,
            })),
          ),
    moderation:
      withModeration.length === 0
        ? null
        : moderationMetrics(
            withModeration.map((r) => ({
              expectedDecision: r.moderation!.expectedDecision,
              expectedCategories: r.moderation!.expectedCategories,
              decision: r.moderation!.decision,
              categories: r.moderation!.categories?.map((c) => c.id) ?? null,
            })),
          ),
    ocr:
      withOcr.length === 0
        ? null
        : ocrMetrics(withOcr.map((r) => ({ id: r.id, expected: r.ocr!.expected, text: r.ocr!.text }))),
  };
}

function errorMessages(records: ItemRecord[]): Array<{ message: string; count: number }> {
  const counts = new Map<string, number>();
  for (const record of records) {
    const messages = record.error
      ? [record.error]
      : Object.values(record.tasksOutcome).flatMap((o) => (o.status === 'ok' || !o.error ? [] : [o.error]));
    for (const message of messages) counts.set(message, (counts.get(message) ?? 0) + 1);
  }
  return [...counts]
    .map(([message, count]) => ({ message, count }))
    .sort((a, b) => b.count - a.count || a.message.localeCompare(b.message));
}

function latency(records: ItemRecord[]): EvalReport['latency'] {
  const roundTrips = records.flatMap((r) => (r.roundTripMs === null ? [] : [r.roundTripMs]));
  const byTask = new Map<string, number[]>();
  for (const record of records) {
    for (const [task, outcome] of Object.entries(record.tasksOutcome)) {
      if (outcome.durationMs === undefined || outcome.status === 'missing') continue;
      const key = `${task}/${outcome.tier ?? '?'}`;
      byTask.set(key, [...(byTask.get(key) ?? []), outcome.durationMs]);
    }
  }
  const rounded = (samples: number[]) => {
    const summary = summariseLatency(samples);
    return summary && { ...summary, mean: Math.round(summary.mean * 10) / 10 };
  };
  return {
    roundTrip: rounded(roundTrips),
    tasks: Object.fromEntries([...byTask].sort().map(([key, samples]) => [key, rounded(samples)])),
  };
}

const fixed = (value: number | null, digits = 3) => (value === null ? '–' : value.toFixed(digits));
const percent = (value: number | null, digits = 2) =>
  value === null ? '–' : `${(value * 100).toFixed(digits)}%`;
const ms = (value: number) => String(Math.round(value));

function table(header: string[], rows: Array<Array<string | number>>): string {
  return [
    `| ${header.join(' | ')} |`,
    `|${header.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`,
    ...rows.map((row) => `| ${row.join(' | ')} |`),
  ].join('\n');
}

function scoreRows(entries: Array<[string, Scores]>): Array<Array<string | number>> {
  return entries.map(([label, s]) => [label, s.support, fixed(s.precision), fixed(s.recall), fixed(s.f1)]);
}

export function markdown(report: EvalReport): string {
  const parts: string[] = [
    `## Argus eval: ${report.dataset.name}${report.dataset.split === 'all' ? '' : ` (${report.dataset.split} split)`} on tier ${report.tier}`,
    '',
    `${report.dataset.items} items, ${report.gateway}, concurrency ${report.concurrency}, ${report.durationS.toFixed(0)} s; ${report.machine}`,
  ];
  if (report.errors.requests > 0 || Object.keys(report.errors.byTask).length > 0) {
    parts.push(
      '',
      `Errors: ${report.errors.requests} failed requests; by task ${
        Object.entries(report.errors.byTask)
          .map(([task, n]) => `${task} ${n}`)
          .join(', ') || 'none'
      } (counted as misses in the scores).`,
      ...report.errors.messages.slice(0, 5).map(({ message, count }) => `- ${count} × ${message}`),
    );
  }
  for (const warning of report.warnings) parts.push('', `Warning: ${warning}`);
  if (report.compliance) {
    const { checks, micro } = report.compliance;
    parts.push(
      '',
      '### Listing compliance (positive = the check fails)',
      '',
      table(
        ['check', 'support', 'P', 'R', 'F1'],
        [...scoreRows(Object.entries(checks)), ...scoreRows([['micro avg', micro]])],
      ),
    );
    const { accuracy: overall } = report.compliance;
    parts.push(
      '',
      `Check accuracy ${percent(overall.rate, 1)} (${overall.correct}/${overall.total} scored checks right).`,
    );
    const groups = Object.entries(report.complianceGroups);
    if (groups.length > 0) {
      parts.push(
        '',
        table(
          ['listing group', 'checks', 'right', 'accuracy'],
          groups.map(([group, a]) => [group, a.total, a.correct, percent(a.rate, 1)]),
        ),
      );
    }
    const unchecked = Object.entries(report.notChecked);
    if (unchecked.length > 0) {
      parts.push(
        '',
        `Answered "not_checked" (scored as passed, as the system reports them): ${unchecked.map(([id, n]) => `${id} ${n}`).join(', ')}.`,
      );
    }
  }
  if (report.moderation) {
    const { categories, micro, decision, reviewRate } = report.moderation;
    parts.push(
      '',
      '### Moderation (positive = the category is present)',
      '',
      table(
        ['category', 'support', 'P', 'R', 'F1'],
        [...scoreRows(Object.entries(categories)), ...scoreRows([['micro avg', micro]])],
      ),
      '',
      `Decision accuracy ${percent(decision.accuracy, 1)} (${decision.correct}/${decision.total}); review rate ${percent(reviewRate.rate, 1)} (${reviewRate.review}/${reviewRate.answered}).`,
    );
    if (report.safeFlagged) {
      const { safe, flagged } = report.safeFlagged;
      parts.push(
        '',
        `Safe photos sent to review or block: ${flagged.length}/${safe}${
          flagged.length === 0
            ? '.'
            : `: ${flagged.map((f) => `${f.id} (${f.decision}: ${f.categories?.join(', ') || 'no category'})`).join('; ')}`
        }`,
      );
    }
  }
  if (report.ocr) {
    const items = report.items.filter((item) => item.ocr).length;
    parts.push(
      '',
      '### OCR',
      '',
      table(
        ['CER', 'word recall', 'items'],
        [[percent(report.ocr.cer), percent(report.ocr.wordRecall, 1), items]],
      ),
    );
    const worst = report.items
      .filter((item) => item.ocr && item.ocr.cer > 0)
      .sort((a, b) => b.ocr!.cer - a.ocr!.cer)
      .slice(0, 5);
    const groups = Object.entries(report.ocrGroups);
    if (groups.length > 0) {
      parts.push(
        '',
        table(
          ['OCR group', 'CER', 'word recall', 'items'],
          groups.map(([group, g]) => [group, percent(g.cer), percent(g.wordRecall, 1), g.items]),
        ),
      );
    }
    if (report.orientation) {
      const { correct, total, rate, wrong } = report.orientation;
      parts.push(
        '',
        `Page orientation right on ${correct}/${total} pages (${percent(rate, 1)})${
          wrong.length === 0
            ? '.'
            : `; wrong: ${wrong.map((w) => `${w.id} (${w.answered === null ? 'failed' : `${w.answered}°`} for ${w.expected}°)`).join(', ')}`
        }`,
      );
    }
    if (worst.length > 0) {
      parts.push(
        '',
        `Highest per-item CER: ${worst.map((item) => `${item.id} ${percent(item.ocr!.cer, 1)}`).join(', ')}`,
      );
    }
  }
  if (report.phantom) {
    const { answered, failed, withText, rate } = report.phantom;
    const quote = (text: string) => JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text);
    parts.push(
      '',
      '### Phantom text (photos without any text)',
      '',
      `${withText.length}/${answered} photos got text back (${percent(rate, 1)})${failed > 0 ? `; ${failed} failed` : ''}${
        withText.length === 0 ? '.' : `: ${withText.map((p) => `${p.id} ${quote(p.text)}`).join('; ')}`
      }`,
    );
  }
  const latencyRows: Array<Array<string | number>> = [];
  const addLatency = (label: string, s: LatencySummary | null) => {
    if (s) latencyRows.push([label, s.n, ms(s.p50), ms(s.p95), ms(s.p99), ms(s.mean)]);
  };
  addLatency('HTTP round trip', report.latency.roundTrip);
  for (const [key, s] of Object.entries(report.latency.tasks)) addLatency(`${key} (durationMs)`, s);
  parts.push('', '### Latency (ms)', '', table(['scope', 'n', 'p50', 'p95', 'p99', 'mean'], latencyRows));
  const wrong = report.items.filter((item) => item.compliance && item.compliance.wrong.length > 0);
  if (wrong.length > 0) {
    parts.push(
      '',
      `Listing items with a wrong check: ${wrong.map((item) => `${item.id} (${item.compliance!.wrong.join(', ')})`).join('; ')}`,
    );
  }
  return `${parts.join('\n')}\n`;
}

/** JSON as Prettier writes it with the repository's settings, so a committed results file passes `npm run lint`. */
async function formatJson(value: unknown, file: string): Promise<string> {
  const json = `${JSON.stringify(value, null, 2)}\n`;
  try {
    const prettier = await import('prettier');
    const config = (await prettier.resolveConfig(file)) ?? {};
    return await prettier.format(json, { ...config, parser: 'json', filepath: file });
  } catch {
    return json;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Main

/** A path relative to the working directory when it is inside it, else absolute. */
function shownPath(path: string): string {
  const shown = relative(process.cwd(), path);
  return shown === '' || shown.startsWith('..') ? path : shown;
}

/** Relative paths are the user's: `npm run` moves to the package root, and says in INIT_CWD where it was started. */
function invocationDir(): string {
  return process.env.INIT_CWD ?? process.cwd();
}

async function resolveDataset(
  option: string,
): Promise<{ dir: string; name: string; generatorVersion?: number }> {
  if (option === 'realworld') {
    const started = performance.now();
    const { dir, collected, info } = await ensureRealworld(DEFAULT_REALWORLD_DIR);
    process.stdout.write(
      collected
        ? `[eval] collected the real-image dataset (${info.items} items) in ${shownPath(dir)} in ${((performance.now() - started) / 1000).toFixed(0)} s\n`
        : `[eval] using the real-image dataset (${info.items} items) in ${shownPath(dir)}\n`,
    );
    for (const warning of info.warnings) process.stdout.write(`[eval] warning: ${warning}\n`);
    return { dir, name: 'realworld' };
  }
  if (option === 'synthetic') {
    return ensureSynthetic(DEFAULT_SYNTHETIC_DIR).then(({ dir, generated }) => {
      process.stdout.write(
        generated
          ? `[eval] generated the synthetic dataset (v${GENERATOR_VERSION}) in ${shownPath(dir)}\n`
          : `[eval] using the synthetic dataset (v${GENERATOR_VERSION}) in ${shownPath(dir)}\n`,
      );
      return { dir, name: 'synthetic', generatorVersion: GENERATOR_VERSION };
    });
  }
  const dir = resolve(invocationDir(), option);
  return { dir, name: basename(dir) };
}

export async function runEval(options: EvalOptions): Promise<{ report: EvalReport; outFile: string }> {
  const started = performance.now();
  const source = await resolveDataset(options.dataset);
  const loaded = loadDataset(source.dir, source.name);
  const split = options.split ?? (options.dataset === 'realworld' ? 'test' : 'all');
  const dataset = { ...loaded, items: itemsOfSplit(loaded.items, split) };
  if (dataset.items.length === 0) throw new DatasetError(`${source.name} has no items in the ${split} split`);
  const images = new Map<string, Buffer>();
  for (const item of dataset.items) {
    try {
      images.set(item.id, readFileSync(join(dataset.dir, item.image)));
    } catch (error) {
      throw new DatasetError(
        `item "${item.id}": cannot read ${item.image}: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }

  let stack: StackHandle | undefined;
  let gateway = options.gateway;
  const stackOutput: string[] = [];
  if (!gateway) {
    process.stdout.write('[eval] starting the local stack (as npm start does)…\n');
    try {
      stack = await startBenchStack(
        {},
        {
          output: (line) => {
            stackOutput.push(line);
            if (stackOutput.length > 40) stackOutput.shift();
          },
        },
      );
    } catch (error) {
      throw new RunError(
        `the local stack did not start: ${error instanceof Error ? error.message : String(error)}\n${stackOutput.join('')}`,
      );
    }
    gateway = stack.gatewayUrl;
  } else {
    try {
      await fetch(`${gateway}/healthz`, { signal: AbortSignal.timeout(10_000) });
    } catch (error) {
      throw new RunError(
        `the gateway at ${gateway} does not answer: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }

  let records: ItemRecord[];
  try {
    process.stdout.write(
      `[eval] ${dataset.items.length} items from ${dataset.dir} → ${gateway} (tier ${options.tier}, concurrency ${options.concurrency})\n`,
    );
    let done = 0;
    records = await runPool(dataset.items, options.concurrency, async (item) => {
      const record = await send(gateway, item, images.get(item.id)!, options.tier);
      done += 1;
      if (done % 10 === 0 || done === dataset.items.length) {
        process.stdout.write(`[eval] ${done}/${dataset.items.length}\n`);
      }
      return record;
    });
  } finally {
    await stack?.stop();
  }

  const scores = summarise(records);
  const byTask: Partial<Record<EvalTask, number>> = {};
  for (const record of records) {
    for (const [task, outcome] of Object.entries(record.tasksOutcome) as Array<[EvalTask, TaskOutcome]>) {
      if (outcome.status !== 'ok') byTask[task] = (byTask[task] ?? 0) + 1;
    }
  }
  const notChecked: Record<string, number> = {};
  for (const record of records) {
    for (const [id, check] of Object.entries(record.compliance?.actual ?? {})) {
      if (check.value === 'not_checked') notChecked[id] = (notChecked[id] ?? 0) + 1;
    }
  }
  const warnings: string[] = [];
  const dropped = [...new Set(records.flatMap((r) => r.dropped ?? []))];
  if (dropped.length > 0) {
    warnings.push(`the gateway does not accept ${dropped.join(', ')}; those items were sent without it`);
  }
  const tiersUsed = new Set(
    records.flatMap((r) => Object.values(r.tasksOutcome).flatMap((o) => (o.tier ? [o.tier] : []))),
  );
  if (options.tier !== 'auto' && [...tiersUsed].some((tier) => tier !== options.tier)) {
    warnings.push(`asked for tier ${options.tier}, answered by ${[...tiersUsed].join(', ')}`);
  }
  const report: EvalReport = {
    dataset: {
      name: dataset.name,
      dir: relative(ROOT, dataset.dir).startsWith('..') ? dataset.dir : relative(ROOT, dataset.dir),
      items: dataset.items.length,
      split,
      ...(source.generatorVersion !== undefined ? { generatorVersion: source.generatorVersion } : {}),
    },
    tier: options.tier,
    gateway: options.gateway ?? 'local stack (npm start)',
    measuredAt: new Date().toISOString(),
    machine: machine(),
    durationS: Math.round(performance.now() - started) / 1000,
    concurrency: options.concurrency,
    errors: { requests: records.filter((r) => r.error).length, byTask, messages: errorMessages(records) },
    warnings,
    compliance: scores.compliance,
    complianceGroups: scores.complianceGroups,
    notChecked,
    moderation: scores.moderation,
    safeFlagged: scores.safeFlagged,
    ocr: scores.ocr
      ? {
          cer: scores.ocr.cer,
          wordRecall: scores.ocr.wordRecall,
          distance: scores.ocr.distance,
          length: scores.ocr.length,
        }
      : null,
    ocrGroups: scores.ocrGroups,
    phantom: scores.phantom,
    orientation: scores.orientation,
    latency: latency(records),
    gates: {
      ...(options.minF1 !== undefined ? { minF1: options.minF1 } : {}),
      ...(options.maxCer !== undefined ? { maxCer: options.maxCer } : {}),
      ...(options.minCheckAccuracy !== undefined ? { minCheckAccuracy: options.minCheckAccuracy } : {}),
      ...(options.maxPhantom !== undefined ? { maxPhantom: options.maxPhantom } : {}),
      failures: gateFailures(
        scores.compliance,
        scores.ocr,
        {
          minF1: options.minF1,
          maxCer: options.maxCer,
          minCheckAccuracy: options.minCheckAccuracy,
          maxPhantom: options.maxPhantom,
        },
        scores.phantom,
      ),
    },
    items: records,
  };
  const outFile = options.out
    ? resolve(invocationDir(), options.out)
    : join(
        ROOT,
        'eval',
        'results',
        `${dataset.name}${split === 'all' ? '' : `-${split}`}-${options.tier}.json`,
      );
  mkdirSync(dirname(outFile), { recursive: true });
  writeFileSync(outFile, await formatJson(report, outFile));
  return { report, outFile };
}

async function main(): Promise<void> {
  let options: EvalOptions;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`[eval] ${error instanceof Error ? error.message : String(error)}\n${USAGE}\n`);
    process.exit(2);
  }
  const { report, outFile } = await runEval(options);
  process.stdout.write(`\n${markdown(report)}\n[eval] results written to ${shownPath(outFile)}\n`);
  if (report.gates.failures.length > 0) {
    process.stderr.write(
      `[eval] quality gate failed:\n${report.gates.failures.map((f) => `  - ${f}`).join('\n')}\n`,
    );
    process.exitCode = 1;
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    const message =
      error instanceof RunError || error instanceof DatasetError
        ? error.message
        : error instanceof Error
          ? (error.stack ?? error.message)
          : String(error);
    process.stderr.write(`[eval] the run failed: ${message}\n`);
    process.exit(1);
  });
}
