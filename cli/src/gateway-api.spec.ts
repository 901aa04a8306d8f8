import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  formData,
  urlPath,
  type ApiPath,
  type JsonOf,
  type MethodOf,
  type Operation,
  type ProblemOf,
  type RequestOf,
  type StatusOf,
  type TierChoice,
} from './gateway-api';

type GetJob = Operation<'/v1/jobs/{id}', 'get'>;
type CreateJob = Operation<'/v1/jobs', 'post'>;
type Liveness = Operation<'/healthz', 'get'>;

/** Compiles only when `value` is a T. */
const is = <T>(value: T): T => value;

// The checks of this block are `tsc`'s (npm run typecheck): each `@ts-expect-error` line must fail to compile, or
// the directive itself is an error. They show that what the client sends and reads is held to docs/openapi.json.
describe('types from docs/openapi.json', () => {
  it('take the paths, methods and parameters the document declares, and no others', () => {
    expect(is<ApiPath>('/v1/jobs/{id}')).toBe('/v1/jobs/{id}');
    // @ts-expect-error: not a path of the document
    is<ApiPath>('/v1/job/{id}');
    expect(is<MethodOf<'/v1/jobs/{id}'>>('delete')).toBe('delete');
    // @ts-expect-error: /v1/jobs/{id} has no POST
    is<MethodOf<'/v1/jobs/{id}'>>('post');

    is<RequestOf<GetJob>>({ path: { id: 'j' }, query: { page: 1, pageSize: 10 } });
    // @ts-expect-error: the query parameter is pageSize
    is<RequestOf<GetJob>>({ path: { id: 'j' }, query: { size: 10 } });
    // @ts-expect-error: the path's id is required
    is<RequestOf<GetJob>>({ query: { page: 1 } });
    // @ts-expect-error: GET /healthz takes no query
    is<RequestOf<Liveness>>({ query: { verbose: true } });
  });

  it('take the multipart form of POST /v1/jobs, field by field', () => {
    const images = [new File(['x'], 'item-1')];
    is<RequestOf<CreateJob>>({ form: { tasks: 'moderation,ocr', tier: 'cpu', images } });
    // @ts-expect-error: the field is `tier`
    is<RequestOf<CreateJob>>({ form: { tiers: 'cpu', images } });
    // @ts-expect-error: not a tier
    is<RequestOf<CreateJob>>({ form: { tier: 'huge', images } });
    // @ts-expect-error: the images are required
    is<RequestOf<CreateJob>>({ form: { tier: 'cpu' } });
    // @ts-expect-error: `listing` is an object, which one form part cannot carry
    is<RequestOf<CreateJob>>({ form: { listing: { title: 'shoe' }, images } });
    // @ts-expect-error: GET /v1/jobs/{id} has no body
    is<RequestOf<GetJob>>({ path: { id: 'j' }, form: { images } });
    expect(is<TierChoice>('auto')).toBe('auto');
  });

  it('read only the statuses, bodies and problems the document declares', () => {
    expect(is<StatusOf<GetJob>>(404)).toBe(404);
    // @ts-expect-error: GET /v1/jobs/{id} answers 200, not 201
    is<StatusOf<GetJob>>(201);
    // @ts-expect-error: POST /v1/jobs answers 202, with no 200 body
    is<JsonOf<CreateJob, 200>>({ jobId: 'j', status: 'queued', items: [] });
    expect(is<keyof JsonOf<GetJob, 200>['page']>('totalItems')).toBe('totalItems');
    // @ts-expect-error: the page counts totalItems
    is<keyof JsonOf<GetJob, 200>['page']>('total');
    expect(is<keyof ProblemOf<GetJob>>('detail')).toBe('detail');
    // @ts-expect-error: a problem's text is its detail
    is<keyof ProblemOf<GetJob>>('message');
  });
});

describe('urlPath', () => {
  it('fills in path parameters, encoded, and appends the query without absent values', () => {
    expect(urlPath('/v1/jobs/{id}', { path: { id: 'a/b c' }, query: { page: 2, pageSize: undefined } })).toBe(
      '/v1/jobs/a%2Fb%20c?page=2',
    );
    expect(urlPath('/healthz', {})).toBe('/healthz');
  });

  it('throws on a missing path parameter', () => {
    expect(() => urlPath('/v1/jobs/{id}', {})).toThrow('no value for path parameter id');
  });
});

describe('formData', () => {
  it('sends text fields as strings, each file as a part named by its File, and leaves out absent fields', async () => {
    const form = formData({
      tasks: 'moderation',
      fallback: false,
      tier: undefined,
      images: [new File(['a'], 'item-1'), new File(['b'], 'item-2')],
    });
    expect([...form.keys()]).toEqual(['tasks', 'fallback', 'images', 'images']);
    expect(form.get('fallback')).toBe('false');
    const files = form.getAll('images') as File[];
    expect(files.map((file) => file.name)).toEqual(['item-1', 'item-2']);
    expect(await files[1].text()).toBe('b');
  });
});

describe('cli/src/generated/gateway-api.ts', () => {
  it('says it is generated, from what and how', () => {
    const head = readFileSync(join(__dirname, 'generated', 'gateway-api.ts'), 'utf8').split('\n', 1)[0];
    expect(head).toContain('Generated from docs/openapi.json by `npm run openapi`');
  });
});
