import type { ReportItem, ReportStatus } from './report';

export interface Summary {
  total: number;
  byStatus: Record<ReportStatus, number>;
  /** Moderation decision → items; `none` for items without an ok moderation reply. */
  decisions: Map<string, number>;
  /** Failed compliance check id → items. */
  failedChecks: Map<string, number>;
  /** Error code → items that have it. */
  errors: Map<string, number>;
  /** Chunks of the plan that never became a job. */
  jobsNotCreated: number;
}

const increment = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + 1);

export function summarize(items: readonly ReportItem[], jobsNotCreated = 0): Summary {
  const summary: Summary = {
    total: items.length,
    byStatus: { pending: 0, done: 0, failed: 0, dead: 0, cancelled: 0 },
    decisions: new Map(),
    failedChecks: new Map(),
    errors: new Map(),
    jobsNotCreated,
  };
  for (const item of items) {
    summary.byStatus[item.status]++;
    if (item.decision !== null || Object.hasOwn(item.results, 'moderation')) {
      increment(summary.decisions, item.decision ?? 'none');
    }
    for (const check of new Set(item.failedChecks)) increment(summary.failedChecks, check);
    for (const code of new Set(item.errors.map((error) => error.code))) increment(summary.errors, code);
  }
  return summary;
}

/** 0 when every item is done without an error and every job was created; 1 otherwise. */
export function exitCodeFor(summary: Summary): 0 | 1 {
  const clean =
    summary.jobsNotCreated === 0 &&
    summary.total > 0 &&
    summary.byStatus.done === summary.total &&
    summary.errors.size === 0;
  return clean ? 0 : 1;
}

function section(heading: string, rows: ReadonlyArray<readonly [string, number]>): string[] {
  const body = rows.length > 0 ? rows : ([['(none)', 0]] as const);
  const width = Math.max(heading.length, ...body.map(([name]) => name.length));
  const numbers = Math.max('count'.length, ...body.map(([, count]) => String(count).length));
  return [
    `${heading.padEnd(width)}  ${'count'.padStart(numbers)}`,
    `${'-'.repeat(width)}  ${'-'.repeat(numbers)}`,
    ...body.map(([name, count]) =>
      rows.length > 0 ? `${name.padEnd(width)}  ${String(count).padStart(numbers)}` : name,
    ),
  ];
}

const sorted = (map: Map<string, number>) =>
  [...map.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));

/** The plain-text summary printed at the end of a run. */
export function renderSummary(summary: Summary): string {
  const { byStatus } = summary;
  const items: Array<[string, number]> = [
    ['total', summary.total],
    ['done', byStatus.done],
    ['failed', byStatus.failed],
  ];
  for (const state of ['dead', 'cancelled', 'pending'] as const) {
    if (byStatus[state] > 0) items.push([state, byStatus[state]]);
  }
  if (summary.jobsNotCreated > 0) items.push(['jobs not created', summary.jobsNotCreated]);
  return [
    ...section('items', items),
    '',
    ...section('decision', sorted(summary.decisions)),
    '',
    ...section('failed check', sorted(summary.failedChecks)),
    '',
    ...section('error', sorted(summary.errors)),
    '',
  ].join('\n');
}
