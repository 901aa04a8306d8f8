// setupFilesAfterEnv of the integration and e2e projects (jest.config.js): every response a test receives from an Argus
// gateway through fetch is checked against docs/openapi.json (openapi-conformance.ts), and a test fails in afterEach
// with the list of what the document does not describe. Tests use fetch only (no app.inject, no supertest); code of
// the stack that runs in process (the gateway's own URL intake) goes through the same wrapper. The CLI runs as its
// own process in its test, so its traffic is not seen here; its client is typed from the document instead.
//
// Which responses come from a gateway: the first time an origin answers a request whose path looks like the
// gateway's (a documented path, or anything under /v1/), the origin is asked once for /openapi.json; it is a gateway
// when that is the Argus document (its info.title). Workers share /healthz, /readyz and /metrics with the gateway but
// serve no document; the Ollama stand-in (/api/*), Prometheus, OTLP collectors and photo servers are never asked or
// are answered 404. An origin that stops answering is forgotten, so a port reused by another server is asked again.
import { conformanceProblems, openApiDocument } from './openapi-conformance';

/** Content types whose body never ends by itself: reading a clone would wait for the stream to close. */
const STREAMING_TYPES = new Set(['text/event-stream', 'application/x-ndjson']);
/** Bodies worth parsing: the only ones checked against a schema. */
const JSON_TYPES = new Set(['application/json', 'application/problem+json']);
const IDENTITY_PATH = '/openapi.json';
const IDENTITY_TIMEOUT_MS = 5_000;

interface ConformanceState {
  validated: number;
  violations: string[];
  pending: string[];
  gateways: Map<string, Promise<boolean>>;
}

const state: ConformanceState = { validated: 0, violations: [], pending: [], gateways: new Map() };
const originalFetch = globalThis.fetch;
const title = (openApiDocument().info as { title?: string } | undefined)?.title;
const documentedPaths = Object.keys(openApiDocument().paths as Record<string, unknown>).map(
  (template) => new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`),
);

function looksLikeGatewayPath(path: string): boolean {
  return path.startsWith('/v1/') || documentedPaths.some((pattern) => pattern.test(path));
}

async function askIfGateway(origin: string): Promise<boolean> {
  try {
    const response = await originalFetch(`${origin}${IDENTITY_PATH}`, {
      signal: AbortSignal.timeout(IDENTITY_TIMEOUT_MS),
    });
    if (response.status !== 200) {
      await response.body?.cancel();
      return false;
    }
    const body = (await response.json().catch(() => undefined)) as { info?: { title?: unknown } } | undefined;
    return body?.info?.title === title;
  } catch {
    // Not known either way (the server went away mid-question): ask again next time.
    state.gateways.delete(origin);
    return false;
  }
}

function isGateway(origin: string): Promise<boolean> {
  let known = state.gateways.get(origin);
  if (!known) {
    known = askIfGateway(origin);
    state.gateways.set(origin, known);
  }
  return known;
}

function methodOf(input: Parameters<typeof fetch>[0], init: Parameters<typeof fetch>[1]): string {
  if (init?.method) return init.method.toUpperCase();
  if (typeof input === 'object' && 'method' in input && typeof input.method === 'string') {
    return input.method.toUpperCase();
  }
  return 'GET';
}

async function check(method: string, response: Response): Promise<void> {
  let url: URL;
  try {
    url = new URL(response.url);
  } catch {
    return;
  }
  if (!/^https?:$/.test(url.protocol) || !looksLikeGatewayPath(url.pathname)) return;
  if (!(await isGateway(url.origin))) return;
  const contentType = response.headers.get('content-type') ?? undefined;
  const type = contentType?.split(';')[0]?.trim().toLowerCase() ?? '';
  let body: string | undefined;
  if (JSON_TYPES.has(type) && !STREAMING_TYPES.has(type) && method !== 'HEAD') {
    body = await response
      .clone()
      .text()
      .catch(() => undefined);
  }
  state.validated += 1;
  const problems = conformanceProblems({
    method,
    url: `${url.pathname}${url.search}`,
    status: response.status,
    headers: response.headers,
    contentType,
    body,
  });
  state.violations.push(...problems);
  state.pending.push(...problems);
}

const conformingFetch: typeof fetch = async (input, init) => {
  const method = methodOf(input, init);
  let response: Response;
  try {
    response = await originalFetch(input, init);
  } catch (error) {
    // A server that stopped answering may come back as something else on the same port.
    try {
      const target = new URL(typeof input === 'object' && 'url' in input ? input.url : String(input));
      state.gateways.delete(target.origin);
    } catch {
      // not a URL we track
    }
    throw error;
  }
  // Redirects followed by fetch end on another URL; the check is of the final answer, by its own URL.
  await check(method, response);
  return response;
};

globalThis.fetch = conformingFetch;

function takePending(): string[] {
  return state.pending.splice(0, state.pending.length);
}

function failure(problems: string[]): Error {
  const lines = problems.map((problem) => `  - ${problem}`).join('\n');
  return new Error(
    `OpenAPI conformance: ${problems.length} response problem(s) against docs/openapi.json:\n${lines}\n` +
      'Fix the behaviour, or the contracts/generator (npm run openapi), whichever is wrong.',
  );
}

afterEach(() => {
  const problems = takePending();
  if (problems.length > 0) throw failure(problems);
});

afterAll(() => {
  const file = expect.getState().testPath ?? 'this file';
  const relative = file.replace(`${process.cwd()}/`, '');
  process.stdout.write(
    `openapi conformance: ${state.validated} responses validated, ${state.violations.length} violations (${relative})\n`,
  );
  globalThis.fetch = originalFetch;
  const problems = takePending();
  if (problems.length > 0) throw failure(problems);
});
