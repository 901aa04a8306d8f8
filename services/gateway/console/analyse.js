// One image through POST /v1/analyze, and the answer as a picture: OCR lines and words, defects, faces and
// moderation evidence as boxes, listing checks, the decision, the tiers `auto` took, timings and the raw JSON.
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { api, percent } from './api.js';
import { ImageWithBoxes } from './overlay.js';

const TASKS = ['moderation', 'tagging', 'ocr', 'describe'];
const TIERS = ['auto', 'cpu', 'small', 'medium', 'large'];
const LAYERS = {
  'ocr-line': 'OCR lines',
  'ocr-word': 'OCR words',
  defect: 'Defects',
  face: 'Faces',
  evidence: 'Moderation evidence',
};

function ok(reply) {
  return reply && reply.status === 'ok' ? reply : null;
}

/** Every box of the answer, in pixels of the stored image (`image.width` × `image.height`). */
function answerBoxes(results) {
  const boxes = [];
  const ocr = ok(results.ocr);
  for (const [lineIndex, line] of (ocr?.lines ?? []).entries()) {
    if (line.box) {
      boxes.push({
        key: `line-${lineIndex}`,
        kind: 'ocr-line',
        ...line.box,
        label: `“${line.text}” ${percent(line.confidence)}`,
      });
    }
    for (const [wordIndex, word] of (line.words ?? []).entries()) {
      boxes.push({
        key: `word-${lineIndex}-${wordIndex}`,
        kind: 'ocr-word',
        ...word.box,
        label: `“${word.text}” ${percent(word.confidence)}`,
      });
    }
  }
  const tagging = ok(results.tagging);
  for (const [index, defect] of (tagging?.defects ?? []).entries()) {
    if (defect.box) {
      boxes.push({
        key: `defect-${index}`,
        kind: 'defect',
        ...defect.box,
        label: `${defect.type} (${defect.severity}) ${percent(defect.confidence)}`,
      });
    }
  }
  for (const [index, face] of (tagging?.people?.boxes ?? []).entries()) {
    boxes.push({
      key: `face-${index}`,
      kind: 'face',
      x: face.x,
      y: face.y,
      width: face.width,
      height: face.height,
      label: `face ${percent(face.confidence)}`,
    });
  }
  const moderation = ok(results.moderation);
  for (const [index, hit] of (moderation?.categories ?? []).entries()) {
    if (hit.evidence.box) {
      boxes.push({
        key: `hit-${index}`,
        kind: 'evidence',
        ...hit.evidence.box,
        label: `${hit.id} ${percent(hit.confidence)}: ${hit.evidence.rationale}`,
      });
    }
  }
  return boxes;
}

function TaskPath({ name, reply }) {
  if (!reply) return '';
  return html`<tr>
    <th scope="row">${name}</th>
    <td>${reply.status === 'ok' ? 'ok' : html`<span class="fail">${reply.error.code}</span>`}</td>
    <td>${reply.tier} · ${reply.engine} · ${reply.model}${reply.cached ? ' (cached)' : ''}</td>
    <td>
      ${reply.escalations.length ? reply.escalations.map((hop) => `${hop.from} → ${hop.to} (${hop.reason})`).join(', ') : 'none'}
    </td>
    <td class="number">${Math.round(reply.durationMs)} ms</td>
  </tr>`;
}

function Moderation({ reply }) {
  if (!reply) return '';
  return html`<section class="panel">
    <h3>
      Moderation: <span class=${`decision decision-${reply.decision}`}>${reply.decision}</span>
      <span class="muted">(policy ${reply.policy})</span>
    </h3>
    <p>${reply.reason}</p>
    ${
      reply.categories.length
        ? html`<ul>
            ${reply.categories.map((hit) => html`<li><strong>${hit.id}</strong> ${percent(hit.confidence)}${reply.triggeredBy.includes(hit.id) ? ' (decided it)' : ''}: ${hit.evidence.rationale}${hit.evidence.quote ? html` — “<mark>${hit.evidence.quote}</mark>”` : ''}</li>`)}
          </ul>`
        : html`<p class="muted">No category found.</p>`
    }
  </section>`;
}

function ListingChecks({ reply }) {
  const compliance = reply?.compliance;
  if (!compliance) return '';
  return html`<section class="panel">
    <h3>
      Listing checks (${compliance.profile}):
      <span class=${compliance.passed ? 'pass' : 'fail'}>${compliance.passed ? 'pass' : 'fail'}</span>
    </h3>
    <table class="facts" data-testid="checks">
      <thead>
        <tr>
          <th scope="col">Check</th>
          <th scope="col">Result</th>
          <th scope="col">Value</th>
          <th scope="col">Threshold</th>
          <th scope="col">Why</th>
        </tr>
      </thead>
      <tbody>
        ${compliance.checks.map(
          (check) =>
            html`<tr>
              <th scope="row">${check.id}</th>
              <td class=${check.passed ? 'pass' : 'fail'}>${check.passed ? 'pass' : 'fail'}</td>
              <td>${String(check.value)}</td>
              <td>${String(check.threshold)}</td>
              <td>${check.message}</td>
            </tr>`,
        )}
      </tbody>
    </table>
  </section>`;
}

export function AnalysePage({ caller }) {
  const [file, setFile] = useState(null);
  const [preview, setPreview] = useState(null);
  const [imageUrl, setImageUrl] = useState('');
  const [tasks, setTasks] = useState(['moderation', 'ocr']);
  const [tier, setTier] = useState('auto');
  const [policy, setPolicy] = useState(caller.policy);
  const [profile, setProfile] = useState(caller.defaultProfile);
  const [answer, setAnswer] = useState(null);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const [layers, setLayers] = useState({
    'ocr-line': true,
    'ocr-word': false,
    defect: true,
    face: true,
    evidence: true,
  });
  const [dragging, setDragging] = useState(false);

  useEffect(() => {
    if (!file) return setPreview(null);
    const url = URL.createObjectURL(file);
    setPreview(url);
    return () => URL.revokeObjectURL(url);
  }, [file]);

  const pick = (picked) => {
    if (!picked) return;
    setFile(picked);
    setImageUrl('');
    setAnswer(null);
  };

  const submit = async (event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    const form = new FormData();
    if (file) form.set('image', file, file.name);
    else form.set('imageUrl', imageUrl.trim());
    form.set('tasks', tasks.join(','));
    form.set('tier', tier);
    if (tasks.includes('moderation')) form.set('policy', policy);
    if (tasks.includes('tagging')) form.set('profile', profile);
    try {
      setAnswer(await api('v1/analyze', { method: 'POST', body: form }));
    } catch (failure) {
      setAnswer(null);
      setError(failure);
    } finally {
      setBusy(false);
    }
  };

  const toggleTask = (task) =>
    setTasks(tasks.includes(task) ? tasks.filter((name) => name !== task) : [...tasks, task]);
  const results = answer?.results ?? {};
  const boxes = answer ? answerBoxes(results).filter((box) => layers[box.kind]) : [];
  const ocr = ok(results.ocr);
  const total = Object.values(results).reduce((sum, reply) => sum + (reply?.durationMs ?? 0), 0);

  return html`<section class="analyse" aria-labelledby="analyse-title">
    <h1 id="analyse-title">Analyse an image</h1>
    <form class="analyse-form" onSubmit=${submit}>
      <div
        class=${`drop ${dragging ? 'dragging' : ''}`}
        onDragOver=${(event) => {
          event.preventDefault();
          setDragging(true);
        }}
        onDragLeave=${() => setDragging(false)}
        onDrop=${(event) => {
          event.preventDefault();
          setDragging(false);
          pick(event.dataTransfer.files[0]);
        }}
      >
        <label for="image-file">Drop an image here, or pick one</label>
        <input
          id="image-file"
          type="file"
          accept="image/*"
          onChange=${(event) => pick(event.currentTarget.files[0])}
        />
        <label for="image-url">…or the address of one (the gateway fetches it)</label>
        <input
          id="image-url"
          type="url"
          value=${imageUrl}
          placeholder="https://…"
          onInput=${(event) => {
            setImageUrl(event.currentTarget.value);
            setFile(null);
          }}
        />
      </div>
      <fieldset>
        <legend>Tasks</legend>
        ${TASKS.map((task) => html`<label class="check"><input type="checkbox" checked=${tasks.includes(task)} onChange=${() => toggleTask(task)} /> ${task}</label>`)}
      </fieldset>
      <label
        >Tier
        <select value=${tier} onChange=${(event) => setTier(event.currentTarget.value)}>
          ${TIERS.map((name) => html`<option value=${name}>${name}</option>`)}
        </select></label
      >
      <label
        >Policy
        <select value=${policy} onChange=${(event) => setPolicy(event.currentTarget.value)}>
          ${caller.policies.map((name) => html`<option value=${name}>${name}</option>`)}
        </select></label
      >
      <label
        >Profile
        <select value=${profile} onChange=${(event) => setProfile(event.currentTarget.value)}>
          ${caller.profiles.map((name) => html`<option value=${name}>${name}</option>`)}
        </select></label
      >
      <button type="submit" disabled=${busy || !tasks.length || (!file && !imageUrl.trim())}>
        ${busy ? 'Analysing…' : 'Analyse'}
      </button>
    </form>
    ${error && html`<p class="error" role="alert">${error.code ? `${error.code}: ` : ''}${error.message}${error.traceId ? ` (trace ${error.traceId})` : ''}</p>`}
    ${
      answer &&
      html`<div class="answer">
        <div class="answer-image">
          <fieldset class="layers">
            <legend>Show</legend>
            ${Object.entries(LAYERS).map(([kind, label]) => html`<label class="check"><input type="checkbox" checked=${layers[kind]} onChange=${() => setLayers({ ...layers, [kind]: !layers[kind] })} /> <span class=${`swatch swatch-${kind}`}></span>${label}</label>`)}
          </fieldset>
          <${ImageWithBoxes}
            src=${preview}
            width=${answer.image.width}
            height=${answer.image.height}
            alt="The analysed image"
            boxes=${boxes}
            placeholder="The gateway fetched this image; your browser does not, so the boxes are drawn on its outline."
          />
          <p class="muted">
            ${answer.image.width} × ${answer.image.height} px as stored (${answer.image.format},
            ${answer.image.bytes} bytes). Hover or focus a box for its text and confidence.
          </p>
        </div>
        <div class="answer-facts">
          <dl class="meta">
            <dt>Trace id</dt>
            <dd>
              <code data-testid="trace-id">${answer.traceId}</code>
              ${/^0+$/.test(answer.traceId) ? html` <span class="muted">(not sampled: tracing is off)</span>` : ''}
            </dd>
            <dt>Analysis id</dt>
            <dd><code>${answer.id}</code></dd>
          </dl>
          <${Moderation} reply=${ok(results.moderation)} />
          <${ListingChecks} reply=${ok(results.tagging)} />
          ${
            ocr &&
            html`<section class="panel">
              <h3>Text (${ocr.lines.length} lines, ${ocr.language.code})</h3>
              <ol class="ocr-text">
                ${ocr.lines.map((line) => html`<li>${line.text} <span class="muted">${percent(line.confidence)}</span></li>`)}
              </ol>
            </section>`
          }
          ${
            ok(results.describe) &&
            html`<section class="panel">
              <h3>Description</h3>
              <p>${results.describe.caption}</p>
            </section>`
          }
          <section class="panel">
            <h3>Tiers and timings</h3>
            <table class="facts">
              <thead>
                <tr>
                  <th scope="col">Task</th>
                  <th scope="col">Status</th>
                  <th scope="col">Answered by</th>
                  <th scope="col">Escalations</th>
                  <th scope="col">Time</th>
                </tr>
              </thead>
              <tbody>
                ${TASKS.map((task) => html`<${TaskPath} name=${task} reply=${results[task]} />`)}
              </tbody>
              <tfoot>
                <tr>
                  <th scope="row" colspan="4">Sum of tasks (they run in parallel)</th>
                  <td class="number">${Math.round(total)} ms</td>
                </tr>
              </tfoot>
            </table>
          </section>
          <details class="raw">
            <summary>Raw JSON</summary>
            <pre data-testid="raw-json">${JSON.stringify(answer, null, 2)}</pre>
          </details>
        </div>
      </div>`
    }
  </section>`;
}
