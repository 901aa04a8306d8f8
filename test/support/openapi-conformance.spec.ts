import { conformanceProblems, openApiDocument, type ObservedResponse } from './openapi-conformance';

type JsonObject = Record<string, unknown>;

/** The documented example of a response body, taken from the document itself. */
function documentedExample(path: string, method: string, status: string): unknown {
  const paths = openApiDocument().paths as Record<string, Record<string, JsonObject>>;
  const responses = paths[path][method].responses as Record<string, JsonObject>;
  const content = responses[status].content as Record<string, { example?: unknown }>;
  return content['application/json'].example;
}

const analyzeExample = documentedExample('/v1/analyze', 'post', '200') as { id: string; traceId: string };

const analyzeHeaders: Record<string, string> = {
  'content-type': 'application/json; charset=utf-8',
  'x-request-id': analyzeExample.id,
  'X-Trace-Id': analyzeExample.traceId,
  'ratelimit-limit': '60',
};

const analyzeOk: ObservedResponse = {
  method: 'POST',
  url: 'http://127.0.0.1:4010/v1/analyze?tasks=moderation',
  status: 200,
  headers: analyzeHeaders,
  body: JSON.stringify(analyzeExample),
};

const problem = (status: number, code: string, extra: JsonObject = {}): string =>
  JSON.stringify({
    type: `urn:argus:error:${code.toLowerCase().replace(/_/g, '-')}`,
    title: 'A title',
    status,
    detail: 'what happened',
    code,
    traceId: '0af7651916cd43dd8448eb211c80319c',
    ...extra,
  });

describe('conformanceProblems', () => {
  it('passes a documented example with its documented headers', () => {
    expect(conformanceProblems(analyzeOk)).toEqual([]);
  });

  it('passes a job created, a problem with its Retry-After, a probe, metrics text and an image', () => {
    const created = documentedExample('/v1/jobs', 'post', '202') as { jobId: string };
    expect(
      conformanceProblems({
        method: 'POST',
        url: '/v1/jobs',
        status: 202,
        headers: { 'content-type': 'application/json', location: `/v1/jobs/${created.jobId}` },
        body: JSON.stringify(created),
      }),
    ).toEqual([]);
    expect(
      conformanceProblems({
        method: 'POST',
        url: '/v1/analyze',
        status: 503,
        headers: { 'content-type': 'application/problem+json', 'retry-after': '5' },
        body: problem(503, 'MODEL_UNAVAILABLE'),
      }),
    ).toEqual([]);
    expect(
      conformanceProblems({
        method: 'GET',
        url: '/healthz',
        status: 200,
        headers: { 'content-type': 'application/json; charset=utf-8' },
        body: '{"status":"ok"}',
      }),
    ).toEqual([]);
    expect(
      conformanceProblems({
        method: 'GET',
        url: '/metrics',
        status: 200,
        headers: { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' },
      }),
    ).toEqual([]);
    expect(
      conformanceProblems({
        method: 'GET',
        url: '/v1/reviews/r-1/image',
        status: 200,
        headers: { 'content-type': 'image/webp', 'cache-control': 'private, max-age=300' },
      }),
    ).toEqual([]);
  });

  it('reports a status the operation does not document', () => {
    expect(
      conformanceProblems({
        method: 'GET',
        url: '/v1/models',
        status: 418,
        headers: { 'content-type': 'application/problem+json' },
        body: problem(418, 'INTERNAL'),
      }),
    ).toEqual([expect.stringMatching(/GET \/v1\/models → 418: status 418 is not documented/)]);
  });

  it('reports a required header that is missing, and a header value of the wrong type', () => {
    const headers = { ...analyzeHeaders };
    delete headers['x-request-id'];
    headers['ratelimit-limit'] = 'sixty';
    expect(conformanceProblems({ ...analyzeOk, headers })).toEqual([
      expect.stringMatching(/required header X-Request-Id is missing/),
      expect.stringMatching(/header RateLimit-Limit is "sixty", not an integer/),
    ]);
    expect(
      conformanceProblems({
        method: 'POST',
        url: '/v1/analyze',
        status: 429,
        headers: { 'content-type': 'application/problem+json' },
        body: problem(429, 'RATE_LIMITED'),
      }),
    ).toEqual([expect.stringMatching(/required header Retry-After is missing/)]);
  });

  it("reports a body that does not match its schema, with Ajv's instance path", () => {
    const body = {
      ...analyzeExample,
      image: { ...(analyzeExample as unknown as { image: JsonObject }).image },
    };
    body.image.width = '1200';
    const problems = conformanceProblems({ ...analyzeOk, body: JSON.stringify(body) });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/body does not match its schema: \/image\/width must be integer/);
    expect(
      conformanceProblems({
        method: 'GET',
        url: '/healthz',
        status: 200,
        headers: { 'content-type': 'application/json' },
        body: 'not json',
      }),
    ).toEqual([expect.stringMatching(/body is not JSON/)]);
  });

  it('reports an undocumented content type', () => {
    expect(
      conformanceProblems({ ...analyzeOk, headers: { ...analyzeHeaders, 'content-type': 'text/html' } }),
    ).toEqual([expect.stringMatching(/content type text\/html is not documented/)]);
  });

  it('reports an unknown path and an undocumented method, but not their 404 problem', () => {
    expect(
      conformanceProblems({
        method: 'GET',
        url: '/v1/secrets',
        status: 200,
        headers: { 'content-type': 'application/json' },
        body: '{}',
      }),
    ).toEqual([expect.stringMatching(/GET \/v1\/secrets → 200: the path is not documented/)]);
    expect(
      conformanceProblems({ method: 'PUT', url: '/v1/models', status: 200, headers: {}, body: '' }),
    ).toEqual([expect.stringMatching(/PUT is not documented for \/v1\/models/)]);
    expect(
      conformanceProblems({
        method: 'GET',
        url: '/v1/secrets',
        status: 404,
        headers: { 'content-type': 'application/problem+json; charset=utf-8' },
        body: problem(404, 'NOT_FOUND', { instance: '/v1/secrets' }),
      }),
    ).toEqual([]);
    expect(
      conformanceProblems({
        method: 'GET',
        url: '/v1/secrets',
        status: 404,
        headers: { 'content-type': 'application/json' },
        body: '{"message":"Cannot GET /v1/secrets"}',
      }),
    ).toEqual([expect.stringMatching(/content type application\/json is not documented/)]);
  });
});
