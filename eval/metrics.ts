// The eval's scores, as pure functions of (expected, observed) pairs. An item whose request failed is passed in with
// `null` observations and counts as a miss: no defect flagged, no category found, no decision, empty text. Errors
// therefore lower the scores instead of silently shrinking the dataset.
import { distance as levenshtein } from 'fastest-levenshtein';

export interface Confusion {
  tp: number;
  fp: number;
  fn: number;
  tn: number;
}

export interface Scores extends Confusion {
  /** Items whose truth is positive (tp + fn). */
  support: number;
  /** null when nothing was predicted positive. */
  precision: number | null;
  /** null when nothing is positive. */
  recall: number | null;
  /** 2tp / (2tp + fp + fn); null when nothing is positive and nothing was predicted positive. */
  f1: number | null;
}

export function emptyConfusion(): Confusion {
  return { tp: 0, fp: 0, fn: 0, tn: 0 };
}

export function count(confusion: Confusion, truth: boolean, predicted: boolean): void {
  if (truth && predicted) confusion.tp += 1;
  else if (truth) confusion.fn += 1;
  else if (predicted) confusion.fp += 1;
  else confusion.tn += 1;
}

export function sumConfusions(confusions: Iterable<Confusion>): Confusion {
  const total = emptyConfusion();
  for (const c of confusions) {
    total.tp += c.tp;
    total.fp += c.fp;
    total.fn += c.fn;
    total.tn += c.tn;
  }
  return total;
}

export function scores(c: Confusion): Scores {
  const ratio = (numerator: number, denominator: number) =>
    denominator === 0 ? null : numerator / denominator;
  return {
    ...c,
    support: c.tp + c.fn,
    precision: ratio(c.tp, c.tp + c.fp),
    recall: ratio(c.tp, c.tp + c.fn),
    f1: ratio(2 * c.tp, 2 * c.tp + c.fp + c.fn),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Listing compliance

export interface ComplianceObservation {
  /** Check id → expected `passed`; only these checks are scored for the item. */
  expected: Partial<Record<string, boolean>>;
  /** Check id → the `passed` the system answered; null when the request failed. A missing check counts as passed. */
  actual: Partial<Record<string, boolean>> | null;
}

export interface Accuracy {
  correct: number;
  total: number;
  /** correct ÷ total; null when nothing was scored. */
  rate: number | null;
}

export function accuracy(correct: number, total: number): Accuracy {
  return { correct, total, rate: total === 0 ? null : correct / total };
}

export interface ComplianceMetrics {
  /** Per check id; positive = the check fails (the photo has that defect). */
  checks: Record<string, Scores>;
  /** Micro average: the confusions of every check added up. */
  micro: Scores;
  /** Scored checks whose answer equals the label (TP + TN), over all scored checks. */
  accuracy: Accuracy;
}

export function complianceMetrics(observations: readonly ComplianceObservation[]): ComplianceMetrics {
  const byCheck = new Map<string, Confusion>();
  for (const { expected, actual } of observations) {
    for (const [id, expectedPass] of Object.entries(expected)) {
      if (expectedPass === undefined) continue;
      const confusion = byCheck.get(id) ?? emptyConfusion();
      byCheck.set(id, confusion);
      count(confusion, !expectedPass, actual?.[id] === false);
    }
  }
  const checks = Object.fromEntries([...byCheck].map(([id, c]) => [id, scores(c)]));
  const total = sumConfusions(byCheck.values());
  return {
    checks,
    micro: scores(total),
    accuracy: accuracy(total.tp + total.tn, total.tp + total.tn + total.fp + total.fn),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Moderation

export type Decision = 'allow' | 'review' | 'block';

export interface ModerationObservation {
  expectedDecision?: Decision;
  /** Category ids expected present; undefined when the item does not score categories. */
  expectedCategories?: readonly string[];
  /** null when the request failed. */
  decision: Decision | null;
  /** Category ids the system found (any confidence); null when the request failed. */
  categories: readonly string[] | null;
}

export interface ModerationMetrics {
  /** Per category id; positive = the category is in the image. */
  categories: Record<string, Scores>;
  micro: Scores;
  decision: { correct: number; total: number; accuracy: number | null };
  /** Share of answered items whose decision was `review`: the load a policy puts on people. */
  reviewRate: { review: number; answered: number; rate: number | null };
}

export function moderationMetrics(observations: readonly ModerationObservation[]): ModerationMetrics {
  const labels = new Set<string>();
  for (const o of observations) {
    if (!o.expectedCategories) continue;
    for (const id of o.expectedCategories) labels.add(id);
    for (const id of o.categories ?? []) labels.add(id);
  }
  const byCategory = new Map<string, Confusion>([...labels].sort().map((id) => [id, emptyConfusion()]));
  let correct = 0;
  let total = 0;
  let review = 0;
  let answered = 0;
  for (const o of observations) {
    if (o.expectedCategories) {
      const expected = new Set(o.expectedCategories);
      const found = new Set(o.categories ?? []);
      for (const [id, confusion] of byCategory) count(confusion, expected.has(id), found.has(id));
    }
    if (o.expectedDecision !== undefined) {
      total += 1;
      if (o.decision === o.expectedDecision) correct += 1;
    }
    if (o.decision !== null) {
      answered += 1;
      if (o.decision === 'review') review += 1;
    }
  }
  return {
    categories: Object.fromEntries([...byCategory].map(([id, c]) => [id, scores(c)])),
    micro: scores(sumConfusions(byCategory.values())),
    decision: { correct, total, accuracy: total === 0 ? null : correct / total },
    reviewRate: { review, answered, rate: answered === 0 ? null : review / answered },
  };
}

export interface SafeObservation {
  id: string;
  /** Labelled safe: decision `allow` and no category expected. */
  decision: Decision | null;
  categories: readonly string[] | null;
}

/**
 * Photos labelled safe (decision `allow`, no category) that got `review` or `block`: each one is a good photo a
 * marketplace would hold back. A failed request is not counted here (it is an error, reported as such).
 */
export function flaggedSafePhotos(
  observations: ReadonlyArray<
    SafeObservation & { expectedDecision?: Decision; expectedCategories?: readonly string[] }
  >,
): { safe: number; flagged: SafeObservation[] } {
  const safe = observations.filter(
    (o) => o.expectedDecision === 'allow' && o.expectedCategories?.length === 0,
  );
  return {
    safe: safe.length,
    flagged: safe
      .filter((o) => o.decision === 'review' || o.decision === 'block')
      .map(({ id, decision, categories }) => ({ id, decision, categories })),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// OCR

/** Collapses runs of spaces and tabs, trims every line and drops empty lines; line breaks are kept as \n. */
export function normaliseText(text: string): string {
  return text
    .split(/\r\n|\r|\n/)
    .map((line) => line.replace(/[ \t\f\v\u00a0]+/g, ' ').trim())
    .filter((line) => line !== '')
    .join('\n');
}

export interface TextScore {
  /** Levenshtein distance between the normalised hypothesis and the normalised reference. */
  distance: number;
  /** Characters of the normalised reference (line breaks included). */
  length: number;
  /** distance ÷ length; when the reference is empty, 0 for an empty hypothesis and 1 otherwise. */
  cer: number;
  /** Reference words found in the hypothesis, as a multiset (case-sensitive, punctuation kept). */
  wordsFound: number;
  words: number;
  /** wordsFound ÷ words; 1 when the reference has no words. */
  wordRecall: number;
}

export function scoreText(hypothesis: string, reference: string): TextScore {
  const hyp = normaliseText(hypothesis);
  const ref = normaliseText(reference);
  const distance = levenshtein(hyp, ref);
  const length = ref.length;
  const { found, total } = wordMatches(hyp, ref);
  return {
    distance,
    length,
    cer: length === 0 ? (distance === 0 ? 0 : 1) : distance / length,
    wordsFound: found,
    words: total,
    wordRecall: total === 0 ? 1 : found / total,
  };
}

function words(text: string): string[] {
  return text.split(/\s+/).filter((word) => word !== '');
}

/** How many of the reference's words the hypothesis contains, each hypothesis word used at most once. */
export function wordMatches(hypothesis: string, reference: string): { found: number; total: number } {
  const available = new Map<string, number>();
  for (const word of words(hypothesis)) available.set(word, (available.get(word) ?? 0) + 1);
  let found = 0;
  const expected = words(reference);
  for (const word of expected) {
    const left = available.get(word) ?? 0;
    if (left > 0) {
      found += 1;
      available.set(word, left - 1);
    }
  }
  return { found, total: expected.length };
}

export interface OcrObservation {
  id: string;
  expected: string;
  /** null when the request failed: scored as an empty hypothesis. */
  text: string | null;
}

export interface OcrMetrics {
  items: Array<TextScore & { id: string }>;
  /** Sum of distances ÷ sum of reference lengths, over the whole dataset. */
  cer: number | null;
  /** Sum of words found ÷ sum of reference words. */
  wordRecall: number | null;
  distance: number;
  length: number;
}

export function ocrMetrics(observations: readonly OcrObservation[]): OcrMetrics {
  const items = observations.map((o) => ({ id: o.id, ...scoreText(o.text ?? '', o.expected) }));
  const distance = items.reduce((sum, item) => sum + item.distance, 0);
  const length = items.reduce((sum, item) => sum + item.length, 0);
  const found = items.reduce((sum, item) => sum + item.wordsFound, 0);
  const total = items.reduce((sum, item) => sum + item.words, 0);
  return {
    items,
    cer: length === 0 ? null : distance / length,
    wordRecall: total === 0 ? null : found / total,
    distance,
    length,
  };
}

/** OCR scores per item group (`ocr-upright`, `ocr-rotated`, …); items without a group count under `other`. */
export function ocrGroupMetrics(
  observations: ReadonlyArray<OcrObservation & { group?: string }>,
): Record<string, Omit<OcrMetrics, 'items'> & { items: number }> {
  const groups = new Map<string, OcrObservation[]>();
  for (const o of observations) {
    const key = o.group ?? 'other';
    groups.set(key, [...(groups.get(key) ?? []), o]);
  }
  return Object.fromEntries(
    [...groups]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([group, members]) => {
        const { items, ...totals } = ocrMetrics(members);
        return [group, { ...totals, items: items.length }];
      }),
  );
}

export interface OrientationObservation {
  id: string;
  /** The clockwise angle the page was turned by. */
  expected: number;
  /** The angle the answer reports (0 when it reports none); null when the request failed. */
  answered: number | null;
}

/** Pages whose reported orientation equals the label; a failed request counts as wrong. */
export function orientationMetrics(observations: readonly OrientationObservation[]): Accuracy & {
  wrong: OrientationObservation[];
} {
  const wrong = observations.filter((o) => o.answered !== o.expected);
  return { ...accuracy(observations.length - wrong.length, observations.length), wrong };
}

export interface PhantomObservation {
  id: string;
  /** The OCR text answered for a photo labelled as having no text; null when the request failed. */
  text: string | null;
}

export interface PhantomMetrics {
  /** Photos labelled `noText` whose OCR answered. */
  answered: number;
  /** Those whose request or task failed: neither phantom nor clean, reported apart. */
  failed: number;
  /** Answered photos with any text after normalising, with that text. */
  withText: Array<{ id: string; text: string }>;
  /** withText ÷ answered. */
  rate: number | null;
}

/** "Phantom text": photos without any text that got text back. */
export function phantomTextMetrics(observations: readonly PhantomObservation[]): PhantomMetrics {
  const answered = observations.filter((o) => o.text !== null);
  const withText = answered
    .map((o) => ({ id: o.id, text: normaliseText(o.text ?? '') }))
    .filter((o) => o.text !== '');
  return {
    answered: answered.length,
    failed: observations.length - answered.length,
    withText,
    rate: answered.length === 0 ? null : withText.length / answered.length,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Latency

/** Nearest-rank percentile: the smallest sample with at least p % of the samples at or below it. */
export function percentile(samples: readonly number[], p: number): number | null {
  if (samples.length === 0) return null;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(sorted.length, rank) - 1];
}

export interface LatencySummary {
  n: number;
  p50: number;
  p95: number;
  p99: number;
  mean: number;
}

export function summariseLatency(samples: readonly number[]): LatencySummary | null {
  if (samples.length === 0) return null;
  return {
    n: samples.length,
    p50: percentile(samples, 50) ?? Number.NaN,
    p95: percentile(samples, 95) ?? Number.NaN,
    p99: percentile(samples, 99) ?? Number.NaN,
    mean: samples.reduce((sum, s) => sum + s, 0) / samples.length,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Gates

export interface GateOptions {
  minF1?: number;
  maxCer?: number;
  /** Floor for the listing checks' accuracy over all scored checks. */
  minCheckAccuracy?: number;
  /** Ceiling for the share of photos without text that got text back. */
  maxPhantom?: number;
}

/**
 * What fails the run's quality gate: listing-check micro F1 or any check's F1 below minF1 (a check with nothing to
 * score, F1 null, is skipped), the dataset's OCR CER above maxCer, the listing checks' accuracy below
 * minCheckAccuracy, or the phantom-text rate above maxPhantom. Empty when everything passes.
 */
export function gateFailures(
  compliance: ComplianceMetrics | null,
  ocr: OcrMetrics | null,
  gates: GateOptions,
  phantom: PhantomMetrics | null = null,
): string[] {
  const failures: string[] = [];
  if (gates.minF1 !== undefined) {
    const min = gates.minF1;
    if (!compliance || compliance.micro.f1 === null) {
      failures.push(`--min-f1 ${min}: the dataset has no listing checks to score`);
    } else {
      if (compliance.micro.f1 < min) {
        failures.push(`listing micro F1 ${compliance.micro.f1.toFixed(3)} < ${min}`);
      }
      for (const [id, s] of Object.entries(compliance.checks)) {
        if (s.f1 !== null && s.f1 < min) failures.push(`listing check ${id}: F1 ${s.f1.toFixed(3)} < ${min}`);
      }
    }
  }
  if (gates.maxCer !== undefined) {
    const max = gates.maxCer;
    if (!ocr || ocr.cer === null) failures.push(`--max-cer ${max}: the dataset has no OCR text to score`);
    else if (ocr.cer > max)
      failures.push(`OCR CER ${(ocr.cer * 100).toFixed(2)}% > ${(max * 100).toFixed(2)}%`);
  }
  if (gates.minCheckAccuracy !== undefined) {
    const min = gates.minCheckAccuracy;
    const rate = compliance?.accuracy.rate ?? null;
    if (rate === null)
      failures.push(`--min-check-accuracy ${min}: the dataset has no listing checks to score`);
    else if (rate < min) failures.push(`listing check accuracy ${rate.toFixed(3)} < ${min}`);
  }
  if (gates.maxPhantom !== undefined) {
    const max = gates.maxPhantom;
    if (!phantom || phantom.rate === null) {
      failures.push(`--max-phantom ${max}: the dataset has no answered photos without text`);
    } else if (phantom.rate > max) {
      failures.push(
        `phantom text on ${(phantom.rate * 100).toFixed(1)}% of photos without text (${phantom.withText.length}/${phantom.answered}) > ${(max * 100).toFixed(1)}%`,
      );
    }
  }
  return failures;
}
