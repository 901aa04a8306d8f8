// The console's shell: sign-in, the caller's tenant and scopes, and three pages chosen by the URL fragment
// (#/reviews, #/analyse, #/jobs), so the page itself stays one public, data-free document.
import { html, render } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, session } from './api.js';
import { SignIn } from './signin.js';
import { ReviewsPage } from './reviews.js';
import { AnalysePage } from './analyse.js';
import { JobsPage } from './jobs.js';

const PAGES = [
  { id: 'reviews', title: 'Review queue', scope: 'reviews', component: ReviewsPage },
  { id: 'analyse', title: 'Analyse', scope: 'analyze', component: AnalysePage },
  { id: 'jobs', title: 'Jobs', scope: 'jobs', component: JobsPage },
];

function currentPage() {
  const id = location.hash.replace(/^#\/?/, '').split('/')[0];
  return PAGES.find((page) => page.id === id) ?? PAGES[0];
}

function ScopeMissing({ page, caller }) {
  return html`<section class="notice" role="alert">
    <h2>${page.title} needs the “${page.scope}” scope</h2>
    <p>
      The key <strong>${caller.keyId}</strong> may use: ${caller.scopes.join(', ') || 'nothing'}. Ask whoever
      runs this gateway for a key with the ${page.scope} scope, or sign in with another key.
    </p>
  </section>`;
}

function App() {
  const [caller, setCaller] = useState(undefined);
  const [signInError, setSignInError] = useState('');
  const [page, setPage] = useState(currentPage());

  const check = async () => {
    try {
      setCaller(await api('v1/whoami'));
      setSignInError('');
    } catch (error) {
      if (error instanceof ApiError && (error.status === 401 || error.status === 403)) {
        if (session.key()) setSignInError(error.message);
        session.clear();
        setCaller(null);
      } else {
        setCaller(null);
        setSignInError(`The gateway did not answer: ${error.message}`);
      }
    }
  };

  useEffect(() => {
    // With keys required and none in this tab yet, go straight to sign-in rather than send a request bound to fail.
    const keysRequired = document.querySelector('meta[name="argus-auth"]')?.content !== 'off';
    if (keysRequired && !session.key()) setCaller(null);
    else void check();
    const onHash = () => setPage(currentPage());
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, []);

  useEffect(() => {
    document.title = caller ? `${page.title} · Argus console` : 'Argus console';
  }, [page, caller]);

  if (caller === undefined) return html`<p class="boot">Checking the session…</p>`;
  if (caller === null) {
    return html`<${SignIn}
      error=${signInError}
      onSignIn=${async (key) => {
        session.setKey(key);
        await check();
      }}
    />`;
  }

  const signOut = () => {
    session.clear();
    setCaller(null);
    setSignInError('');
  };
  const Page = page.component;
  return html`<div class="shell">
    <a class="skip" href="#main">Skip to content</a>
    <header class="topbar">
      <span class="brand">Argus console</span>
      <nav aria-label="Pages">
        ${PAGES.map(
          (entry) =>
            html`<a
              href=${`#/${entry.id}`}
              aria-current=${entry.id === page.id ? 'page' : undefined}
              class=${caller.scopes.includes(entry.scope) ? '' : 'locked'}
              >${entry.title}</a
            >`,
        )}
      </nav>
      <div class="identity" data-testid="identity">
        ${
          caller.authEnabled
            ? html`<span>Key <strong>${caller.keyId}</strong></span>
                <span>Tenant <strong>${caller.tenant}</strong></span>
                <span>Scopes <strong>${caller.scopes.join(', ')}</strong></span>`
            : html`<span class="warning"
                >API keys are off on this gateway: anyone who reaches it can do everything</span
              >`
        }
        ${caller.authEnabled && html`<button type="button" class="link" onClick=${signOut}>Sign out</button>`}
      </div>
    </header>
    <main id="main" tabindex="-1">
      ${
        caller.scopes.includes(page.scope)
          ? html`<${Page} caller=${caller} />`
          : html`<${ScopeMissing} page=${page} caller=${caller} />`
      }
    </main>
  </div>`;
}

render(html`<${App} />`, document.getElementById('app'));
