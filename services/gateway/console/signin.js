import { html } from 'htm/preact';
import { useState } from 'preact/hooks';

/** The key is checked against GET /v1/whoami before it is kept; a wrong one is said so, not stored. */
export function SignIn({ onSignIn, error }) {
  const [key, setKey] = useState('');
  const [busy, setBusy] = useState(false);
  const submit = async (event) => {
    event.preventDefault();
    setBusy(true);
    try {
      await onSignIn(key.trim());
    } finally {
      setBusy(false);
    }
  };
  return html`<main id="main" class="signin">
    <h1>Sign in to the Argus console</h1>
    <form onSubmit=${submit}>
      <label for="api-key">API key</label>
      <input
        id="api-key"
        type="password"
        autocomplete="off"
        spellcheck="false"
        value=${key}
        onInput=${(event) => setKey(event.currentTarget.value)}
        required
      />
      <p class="hint">
        Kept in this browser tab only (sessionStorage) and sent as X-API-Key with each request. Closing the
        tab signs you out.
      </p>
      ${error && html`<p class="error" role="alert">${error}</p>`}
      <button type="submit" disabled=${busy || !key.trim()}>Sign in</button>
    </form>
  </main>`;
}
