// The tenant's jobs (GET /v1/jobs, newest first, more by cursor), and one job opened from the list or by its id:
// state, progress, items with their failures, and cancel.
import { html } from 'htm/preact';
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { age, api } from './api.js';

const LIST_LIMIT = 20;

export function JobsPage() {
  const [jobId, setJobId] = useState('');
  const [job, setJob] = useState(null);
  const [error, setError] = useState('');
  const [page, setPage] = useState(1);
  const [jobs, setJobs] = useState(null);
  const [cursor, setCursor] = useState(undefined);
  const [truncated, setTruncated] = useState(false);
  const [listError, setListError] = useState('');
  const [loading, setLoading] = useState(false);
  const detailTitle = useRef(null);
  const focusDetail = useRef(false);

  /** The first page again, or (`more`) the page after the last one loaded. */
  const load = async (more = false) => {
    setListError('');
    setLoading(true);
    try {
      const after = more && cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
      const answer = await api(`v1/jobs?limit=${LIST_LIMIT}${after}`);
      setJobs((loaded) => (more && loaded ? [...loaded, ...answer.jobs] : answer.jobs));
      setCursor(answer.nextCursor);
      setTruncated(answer.truncated);
    } catch (failure) {
      setListError(failure.message);
    } finally {
      setLoading(false);
    }
  };
  useEffect(() => void load(), []);
  // A layout effect, so focus moves in the same task that shows the job and no keystroke lands on the list between.
  useLayoutEffect(() => {
    if (job && focusDetail.current) {
      focusDetail.current = false;
      detailTitle.current?.focus();
    }
  }, [job]);

  /** Keeps the list's row of a job in step with what its detail says. */
  const updateRow = (status) =>
    setJobs((loaded) =>
      loaded?.map((row) =>
        row.jobId === status.jobId
          ? {
              ...row,
              status: status.status,
              counts: status.counts,
              percent: status.percent,
              ...(status.cancelledAt ? { cancelledAt: status.cancelledAt } : {}),
            }
          : row,
      ),
    );

  const open = async (id = jobId, number = page) => {
    setError('');
    try {
      const status = await api(`v1/jobs/${encodeURIComponent(id.trim())}?page=${number}&pageSize=100`);
      setJob(status);
      updateRow(status);
    } catch (failure) {
      setJob(null);
      setError(failure.message);
    }
  };
  const openFromList = (id) => {
    setJobId(id);
    setPage(1);
    focusDetail.current = true;
    void open(id, 1);
  };
  const cancel = async () => {
    if (!confirm(`Cancel job ${job.jobId}? Items already in a worker finish; the rest are not analysed.`))
      return;
    try {
      const status = await api(`v1/jobs/${encodeURIComponent(job.jobId)}`, { method: 'DELETE' });
      setJob(status);
      updateRow(status);
    } catch (failure) {
      setError(failure.message);
    }
  };
  const turn = (number) => {
    setPage(number);
    void open(job.jobId, number);
  };

  return html`<section aria-labelledby="jobs-title">
    <h1 id="jobs-title">Jobs</h1>
    <div class="buttons">
      <button type="button" onClick=${() => load()} disabled=${loading}>Refresh list</button>
    </div>
    ${listError && html`<p class="error" role="alert">${listError}</p>`}
    ${truncated && html`<p class="notice">Only the most recent jobs were read: older jobs may be missing here (open them by id).</p>`}
    ${
      jobs &&
      (jobs.length === 0
        ? html`<p class="empty">
            No jobs yet. Jobs are created with <code>POST /v1/jobs</code> or <code>argus jobs</code>.
          </p>`
        : html`<table class="list" data-testid="job-list">
            <caption>
              Your tenant's jobs, newest first (${jobs.length} shown)
            </caption>
            <thead>
              <tr>
                <th scope="col">Job</th>
                <th scope="col">State</th>
                <th scope="col">Progress</th>
                <th scope="col">Items</th>
                <th scope="col">Created</th>
              </tr>
            </thead>
            <tbody>
              ${jobs.map(
                (row) =>
                  html`<tr key=${row.jobId} aria-current=${job?.jobId === row.jobId ? 'true' : undefined}>
                    <th scope="row">
                      <button
                        type="button"
                        class="link"
                        onClick=${() => openFromList(row.jobId)}
                        aria-label=${`Open job ${row.jobId}`}
                      >
                        <code>${row.jobId.slice(0, 8)}</code>
                      </button>
                    </th>
                    <td><span class=${`state state-${row.status}`}>${row.status}</span></td>
                    <td>
                      <progress max="100" value=${row.percent} aria-label=${`Progress of job ${row.jobId}`}>
                        ${row.percent}%
                      </progress>
                      ${Math.round(row.percent)}%${row.counts.failed + row.counts.dead > 0 ? ` · ${row.counts.failed + row.counts.dead} failed` : ''}
                    </td>
                    <td class="number">${row.itemCount}</td>
                    <td>
                      <time datetime=${row.createdAt} title=${new Date(row.createdAt).toLocaleString()}
                        >${age(row.createdAt)} ago</time
                      >
                    </td>
                  </tr>`,
              )}
            </tbody>
          </table>`)
    }
    ${cursor && html`<div class="buttons"><button type="button" onClick=${() => load(true)} disabled=${loading}>Load more jobs</button></div>`}
    <form
      class="filters"
      onSubmit=${(event) => {
        event.preventDefault();
        setPage(1);
        void open(jobId, 1);
      }}
    >
      <label
        >Job id
        <input value=${jobId} onInput=${(event) => setJobId(event.currentTarget.value)} size="40" required
      /></label>
      <button type="submit">Open</button>
      ${job && html`<button type="button" onClick=${() => open(job.jobId, page)}>Refresh</button>`}
    </form>
    ${error && html`<p class="error" role="alert">${error}</p>`}
    ${
      job &&
      html`<div class="job">
        <h2 tabindex="-1" ref=${detailTitle}>
          <code>${job.jobId}</code> <span class=${`state state-${job.status}`}>${job.status}</span>
        </h2>
        <progress max="100" value=${job.percent} aria-label="Progress">${job.percent}%</progress>
        <p>
          ${Math.round(job.percent)}% · ${job.counts.total} items: ${job.counts.done} done,
          ${job.counts.pending} pending, ${job.counts.failed} failed, ${job.counts.dead} dead,
          ${job.counts.cancelled} cancelled · tasks ${job.tasks.join(', ')} · created
          ${new Date(job.createdAt).toLocaleString()}
        </p>
        ${(job.status === 'queued' || job.status === 'running') && html`<button type="button" class="block" onClick=${cancel}>Cancel job</button>`}
        <table class="list">
          <caption>
            Items, page ${job.page.number} (${job.page.totalItems} in all)
          </caption>
          <thead>
            <tr>
              <th scope="col">Item</th>
              <th scope="col">State</th>
              <th scope="col">Moderation</th>
              <th scope="col">Failures</th>
            </tr>
          </thead>
          <tbody>
            ${job.items.map(
              (item) =>
                html`<tr>
                  <th scope="row"><code>${item.id}</code></th>
                  <td>${item.status}</td>
                  <td>
                    ${item.review ? `${item.review.decision} (by ${item.review.reviewer})` : (item.results.moderation?.decision ?? '')}
                  </td>
                  <td>
                    ${item.errors.map((failure) => html`<div class="fail">${failure.task}: ${failure.code} — ${failure.message}</div>`)}
                  </td>
                </tr>`,
            )}
          </tbody>
        </table>
        <div class="buttons">
          <button type="button" disabled=${job.page.number <= 1} onClick=${() => turn(job.page.number - 1)}>
            Previous page
          </button>
          <button
            type="button"
            disabled=${job.page.number * job.page.size >= job.page.totalItems}
            onClick=${() => turn(job.page.number + 1)}
          >
            Next page
          </button>
        </div>
      </div>`
    }
  </section>`;
}
