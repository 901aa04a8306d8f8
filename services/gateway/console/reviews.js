// The human review queue: pending items oldest first, one at a time with the evidence drawn on the image, decided
// with the keyboard (a allow, b block, j/k next/previous, n note), the next item loaded while this one is read.
import { html } from 'htm/preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { age, api, ApiError, imageBlobUrl, percent, session } from './api.js';
import { ImageWithBoxes } from './overlay.js';

const PAGE_SIZE = 200;

function queryString(status, filters) {
  const params = new URLSearchParams({ status, pageSize: String(PAGE_SIZE) });
  for (const name of ['policy', 'category', 'reason', 'jobId']) {
    if (filters[name]) params.set(name, filters[name]);
  }
  if (filters.minAgeMinutes)
    params.set('minAgeSeconds', String(Math.round(Number(filters.minAgeMinutes) * 60)));
  return params.toString();
}

/** Detail and image of a review, fetched once and shared by the view and the prefetch. */
function useReviewLoader() {
  const cache = useRef(new Map());
  return (id) => {
    let entry = cache.current.get(id);
    if (!entry) {
      const path = `v1/reviews/${encodeURIComponent(id)}`;
      entry = Promise.all([api(path), imageBlobUrl(`${path}/image`).catch(() => null)]).then(
        ([detail, image]) => ({ detail, image }),
      );
      entry.catch(() => cache.current.delete(id));
      cache.current.set(id, entry);
    }
    return entry;
  };
}

/** Evidence boxes, and the OCR lines where a quoted text was read. */
function evidenceBoxes(detail) {
  const evidence = detail.evidence;
  if (!evidence) return [];
  const boxes = [];
  for (const [index, hit] of evidence.categories.entries()) {
    if (hit.evidence.box) {
      boxes.push({
        key: `hit-${index}`,
        kind: 'evidence',
        ...hit.evidence.box,
        label: `${hit.id} ${percent(hit.confidence)}: ${hit.evidence.rationale}`,
      });
    }
    const quote = hit.evidence.quote?.toLowerCase();
    if (!quote) continue;
    for (const [lineIndex, line] of (evidence.ocrLines ?? []).entries()) {
      if (line.box && line.text.toLowerCase().includes(quote)) {
        boxes.push({
          key: `quote-${index}-${lineIndex}`,
          kind: 'quote',
          ...line.box,
          label: `“${line.text}” (${hit.id})`,
        });
      }
    }
  }
  return boxes;
}

function Highlighted({ text, quote }) {
  if (!quote) return text;
  const at = text.toLowerCase().indexOf(quote.toLowerCase());
  if (at < 0) return text;
  return html`${text.slice(0, at)}<mark>${text.slice(at, at + quote.length)}</mark>${text.slice(at + quote.length)}`;
}

function ReviewItem({ detail, image }) {
  const [size, setSize] = useState(null);
  useEffect(() => {
    setSize(null);
    if (!image) return;
    const probe = new Image();
    probe.onload = () => setSize({ width: probe.naturalWidth, height: probe.naturalHeight });
    probe.src = image;
  }, [image]);
  const evidence = detail.evidence;
  const quotes = evidence?.categories.map((hit) => hit.evidence.quote).filter(Boolean) ?? [];
  return html`<div class="item">
    <div class="item-image">
      ${
        size
          ? html`<${ImageWithBoxes}
              src=${image}
              width=${size.width}
              height=${size.height}
              alt=${`The image of review ${detail.id}`}
              boxes=${evidenceBoxes(detail)}
            />`
          : html`<div class="stage stage-waiting">
              ${image === null ? 'The image has expired.' : 'Loading the image…'}
            </div>`
      }
    </div>
    <div class="item-facts">
      <h3>
        Model: <span class=${`decision decision-${detail.modelDecision}`}>${detail.modelDecision}</span>
        <span class="muted"> (${detail.reason === 'audit' ? 'audit sample' : 'sent by the policy'})</span>
      </h3>
      <p>${evidence?.reason ?? detail.modelReason}</p>
      <table class="facts">
        <caption>
          Categories found
        </caption>
        <thead>
          <tr>
            <th scope="col">Category</th>
            <th scope="col">Confidence</th>
            <th scope="col">Review at</th>
            <th scope="col">Block at</th>
            <th scope="col">Evidence</th>
          </tr>
        </thead>
        <tbody>
          ${(evidence?.categories ?? detail.categories.map((id) => ({ id, evidence: {} }))).map(
            (hit) =>
              html`<tr>
                <th scope="row">${hit.id}</th>
                <td>${percent(hit.confidence)}</td>
                <td>${percent(evidence?.thresholds[hit.id]?.review)}</td>
                <td>${percent(evidence?.thresholds[hit.id]?.block)}</td>
                <td>
                  ${hit.evidence.rationale ?? ''}${hit.evidence.quote ? html` — “<mark>${hit.evidence.quote}</mark>”` : ''}
                </td>
              </tr>`,
          )}
        </tbody>
      </table>
      ${
        evidence?.signals.length
          ? html`<p class="muted">
              Weak signals (did not count):
              ${evidence.signals.map((hit) => `${hit.id} ${percent(hit.confidence)}`).join(', ')}
            </p>`
          : ''
      }
      ${
        evidence?.ocrLines?.length
          ? html`<details open=${quotes.length > 0}>
              <summary>Text read in the image (${evidence.ocrLines.length} lines)</summary>
              <ol class="ocr-text">
                ${evidence.ocrLines.map((line) => html`<li><${Highlighted} text=${line.text} quote=${quotes.find((quote) => line.text.toLowerCase().includes(quote.toLowerCase()))} /></li>`)}
              </ol>
            </details>`
          : ''
      }
      <dl class="meta">
        <dt>Policy</dt>
        <dd>
          ${detail.policy}${evidence?.policyDescription ? html` <span class="muted">— ${evidence.policyDescription}</span>` : ''}
        </dd>
        <dt>Tier and model</dt>
        <dd>${detail.tier} · ${detail.model} · confidence ${percent(detail.confidence)}</dd>
        <dt>Job</dt>
        <dd><code>${detail.jobId}</code></dd>
        <dt>Item</dt>
        <dd><code>${detail.itemId}</code></dd>
        <dt>Waiting</dt>
        <dd>${age(detail.createdAt)} (since ${new Date(detail.createdAt).toLocaleString()})</dd>
      </dl>
    </div>
  </div>`;
}

function ResolvedList({ reviews }) {
  if (!reviews.length) return html`<p class="empty">Nothing resolved matches these filters.</p>`;
  return html`<table class="list" data-testid="resolved">
    <caption>
      Resolved reviews, oldest first
    </caption>
    <thead>
      <tr>
        <th scope="col">Item</th>
        <th scope="col">Model</th>
        <th scope="col">Person</th>
        <th scope="col">Agreed</th>
        <th scope="col">Who</th>
        <th scope="col">When</th>
        <th scope="col">Note</th>
      </tr>
    </thead>
    <tbody>
      ${reviews.map((review) => {
        const human = review.resolution?.decision;
        const agreed =
          review.modelDecision === 'review'
            ? 'model undecided'
            : human === review.modelDecision
              ? 'yes'
              : 'no, overruled';
        return html`<tr>
          <th scope="row">
            <code>${review.itemId}</code> <span class="muted">${review.categories.join(', ')}</span>
          </th>
          <td>${review.modelDecision}</td>
          <td><span class=${`decision decision-${human}`}>${human}</span></td>
          <td>${agreed}</td>
          <td>${review.resolution?.reviewer}</td>
          <td>${review.resolution ? new Date(review.resolution.resolvedAt).toLocaleString() : ''}</td>
          <td>${review.resolution?.note ?? ''}</td>
        </tr>`;
      })}
    </tbody>
  </table>`;
}

export function ReviewsPage({ caller }) {
  const [status, setStatus] = useState('pending');
  const [filters, setFilters] = useState({
    policy: '',
    category: '',
    reason: '',
    jobId: '',
    minAgeMinutes: '',
  });
  const [list, setList] = useState(null);
  const [index, setIndex] = useState(0);
  const [current, setCurrent] = useState(null);
  const [note, setNote] = useState('');
  const [reviewer, setReviewer] = useState(session.reviewer() || caller.keyId || 'console');
  const [message, setMessage] = useState(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const load = useReviewLoader();
  const noteField = useRef(null);

  const refresh = async () => {
    setError('');
    try {
      const answer = await api(`v1/reviews?${queryString(status, filters)}`);
      setList(answer);
      setIndex(0);
    } catch (failure) {
      setError(failure.message);
    }
  };
  useEffect(() => void refresh(), [status]);

  const reviews = list?.reviews ?? [];
  const selected = reviews[index];

  useEffect(() => {
    setCurrent(null);
    setNote('');
    if (status !== 'pending' || !selected) return;
    let live = true;
    load(selected.id).then(
      (loaded) => live && setCurrent(loaded),
      (failure) => live && setError(failure.message),
    );
    // Prefetch the next item while the moderator reads this one.
    const next = reviews[index + 1];
    if (next) load(next.id).catch(() => undefined);
    return () => {
      live = false;
    };
  }, [selected?.id, status]);

  const drop = (id) => {
    setList((previous) => ({
      ...previous,
      reviews: previous.reviews.filter((review) => review.id !== id),
      page: { ...previous.page, total: Math.max(0, previous.page.total - 1) },
    }));
    setIndex((previous) => Math.min(previous, Math.max(0, reviews.length - 2)));
  };

  const decide = async (decision) => {
    if (!selected || busy) return;
    setBusy(true);
    session.setReviewer(reviewer);
    try {
      await api(`v1/reviews/${encodeURIComponent(selected.id)}`, {
        method: 'POST',
        body: { decision, reviewer: reviewer || 'console', ...(note.trim() ? { note: note.trim() } : {}) },
      });
      setMessage({
        kind: 'ok',
        text: `${decision === 'allow' ? 'Allowed' : 'Blocked'} ${selected.itemId} (job ${selected.jobId.slice(0, 8)}).`,
      });
      drop(selected.id);
    } catch (failure) {
      if (failure instanceof ApiError && failure.status === 409) {
        setMessage({
          kind: 'conflict',
          text: `Someone else already resolved ${selected.itemId}; skipped to the next item.`,
        });
        drop(selected.id);
      } else {
        setMessage({ kind: 'error', text: failure.message });
      }
    } finally {
      setBusy(false);
    }
  };

  const move = (step) => setIndex((previous) => Math.max(0, Math.min(reviews.length - 1, previous + step)));

  useEffect(() => {
    const onKey = (event) => {
      if (status !== 'pending' || event.ctrlKey || event.metaKey || event.altKey) return;
      const target = event.target;
      if (target instanceof HTMLElement && target.closest('input, textarea, select, [contenteditable]'))
        return;
      const actions = {
        a: () => decide('allow'),
        b: () => decide('block'),
        j: () => move(1),
        k: () => move(-1),
        n: () => noteField.current?.focus(),
      };
      const action = actions[event.key];
      if (!action) return;
      event.preventDefault();
      void action();
    };
    addEventListener('keydown', onKey);
    return () => removeEventListener('keydown', onKey);
  });

  const counts = useMemo(() => {
    const byReason = {};
    const byCategory = {};
    for (const review of reviews) {
      byReason[review.reason] = (byReason[review.reason] ?? 0) + 1;
      for (const category of review.categories.length ? review.categories : ['none']) {
        byCategory[category] = (byCategory[category] ?? 0) + 1;
      }
    }
    return { byReason, byCategory };
  }, [list]);

  const setFilter = (name) => (event) => setFilters({ ...filters, [name]: event.currentTarget.value });

  return html`<section class="reviews" aria-labelledby="reviews-title">
    <div class="page-head">
      <h1 id="reviews-title">Review queue</h1>
      <div class="tabs" role="group" aria-label="Which reviews">
        <button type="button" aria-pressed=${status === 'pending'} onClick=${() => setStatus('pending')}>
          Pending
        </button>
        <button type="button" aria-pressed=${status === 'resolved'} onClick=${() => setStatus('resolved')}>
          Resolved
        </button>
      </div>
    </div>
    <form
      class="filters"
      onSubmit=${(event) => {
        event.preventDefault();
        void refresh();
      }}
    >
      <label
        >Policy
        <select value=${filters.policy} onChange=${setFilter('policy')}>
          <option value="">any</option>
          ${caller.policies.map((name) => html`<option value=${name}>${name}</option>`)}
        </select></label
      >
      <label
        >Category
        <input
          value=${filters.category}
          onInput=${setFilter('category')}
          placeholder="e.g. alcohol"
          size="14"
      /></label>
      <label
        >Reason
        <select value=${filters.reason} onChange=${setFilter('reason')}>
          <option value="">any</option>
          <option value="policy">policy</option>
          <option value="audit">audit</option>
        </select></label
      >
      <label>Job <input value=${filters.jobId} onInput=${setFilter('jobId')} size="14" /></label>
      <label
        >Older than (min)
        <input
          type="number"
          min="0"
          value=${filters.minAgeMinutes}
          onInput=${setFilter('minAgeMinutes')}
          size="5"
      /></label>
      <button type="submit">Apply</button>
    </form>
    ${error && html`<p class="error" role="alert">${error}</p>`}
    ${
      list &&
      html`<p class="counts" data-testid="counts">
        <strong>${list.page.total}</strong> ${status} ${list.page.total === 1 ? 'review' : 'reviews'}
        ${Object.entries(counts.byReason).map(([reason, count]) => html` · ${reason} ${count}`)}
        ${Object.entries(counts.byCategory).map(([category, count]) => html` · <span class="chip">${category} ${count}</span>`)}
      </p>`
    }
    ${
      status === 'resolved'
        ? html`<${ResolvedList} reviews=${reviews} />`
        : html`<div class="queue-layout">
            <ol class="queue" aria-label="Pending reviews, oldest first">
              ${reviews.map(
                (review, position) =>
                  html`<li key=${review.id}>
                    <button
                      type="button"
                      aria-current=${position === index ? 'true' : undefined}
                      onClick=${() => setIndex(position)}
                    >
                      <span>${review.itemId}</span>
                      <span class="muted"
                        >${review.categories.join(', ') || 'no category'} · ${age(review.createdAt)}</span
                      >
                    </button>
                  </li>`,
              )}
            </ol>
            <div class="current" aria-live="polite">
              ${message && html`<p class=${`flash flash-${message.kind}`} role="status" data-testid="flash">${message.text}</p>`}
              ${
                !selected
                  ? html`<p class="empty">
                      ${list ? 'The queue is empty. Nothing waits for a person.' : 'Loading the queue…'}
                    </p>`
                  : html`<h2 class="item-title">
                        Item ${index + 1} of ${reviews.length}: <code>${selected.itemId}</code>
                      </h2>
                      ${
                        current && current.detail.id === selected.id
                          ? html`<${ReviewItem} detail=${current.detail} image=${current.image} />`
                          : html`<div class="stage stage-waiting">Loading…</div>`
                      }
                      <div class="decide">
                        <label for="review-note">Note (optional)</label>
                        <textarea
                          id="review-note"
                          ref=${noteField}
                          rows="2"
                          maxlength="2000"
                          value=${note}
                          onInput=${(event) => setNote(event.currentTarget.value)}
                        ></textarea>
                        <label for="reviewer">Reviewer</label>
                        <input
                          id="reviewer"
                          value=${reviewer}
                          onInput=${(event) => setReviewer(event.currentTarget.value)}
                        />
                        <div class="buttons">
                          <button type="button" onClick=${() => move(-1)} disabled=${index === 0}>
                            Previous <kbd>k</kbd>
                          </button>
                          <button
                            type="button"
                            class="allow"
                            disabled=${busy}
                            onClick=${() => decide('allow')}
                          >
                            Allow <kbd>a</kbd>
                          </button>
                          <button
                            type="button"
                            class="block"
                            disabled=${busy}
                            onClick=${() => decide('block')}
                          >
                            Block <kbd>b</kbd>
                          </button>
                          <button
                            type="button"
                            onClick=${() => move(1)}
                            disabled=${index >= reviews.length - 1}
                          >
                            Next <kbd>j</kbd>
                          </button>
                        </div>
                        <p class="muted">
                          Shortcuts: <kbd>a</kbd> allow, <kbd>b</kbd> block, <kbd>j</kbd>/<kbd>k</kbd>
                          next/previous, <kbd>n</kbd> write a note.
                        </p>
                      </div>`
              }
            </div>
          </div>`
    }
  </section>`;
}
