// The gateway's HTTP API as docs/openapi.json describes it, for the CLI: the shapes it sends and reads, and a few
// type-level helpers that tie a request (path, method, parameters, form) and its response (status, JSON body,
// problem+json) to the document's operation. The types come from ./generated/gateway-api.ts, which `npm run openapi`
// writes from the document; when the document and the client disagree, `tsc` fails.
import type { components, paths } from './generated/gateway-api';

export type { components, paths };

type Schemas = components['schemas'];

export type JobCreated = Schemas['JobCreated'];
export type JobStatus = Schemas['JobStatus'];
export type JobItemStatus = JobStatus['items'][number];
export type JobCounts = JobStatus['counts'];
export type Task = JobStatus['tasks'][number];
/** The multipart form of POST /v1/jobs. */
export type JobForm = Schemas['JobForm'];
export type TierChoice = NonNullable<JobForm['tier']>;
/** RFC 9457 problem details, as every error response declares them. */
export type Problem = Schemas['Problem'];
/** One task's reply in an item's `results` (ok or error), as /v1/analyze declares it. */
export type TaskReply<T extends Task> = NonNullable<Schemas['AnalyzeResults'][T]>;
export type OkReply<T extends Task> = Extract<TaskReply<T>, { status: 'ok' }>;

export type HttpMethod = 'get' | 'put' | 'post' | 'delete' | 'options' | 'head' | 'patch' | 'trace';
/** The gateway's paths, as templates (`/v1/jobs/{id}`). */
export type ApiPath = keyof paths;
/** The methods the document declares on a path. */
export type MethodOf<P extends ApiPath> = {
  [M in HttpMethod]: undefined extends paths[P][M] ? never : M;
}[HttpMethod];
export type Operation<P extends ApiPath, M extends MethodOf<P>> = NonNullable<paths[P][M]>;

type ParametersOf<Op> = Op extends { parameters: infer T } ? T : never;
type ResponsesOf<Op> = Op extends { responses: infer T } ? T : never;

/**
 * The path and query parameters of an operation: `path` required when the path has any, `query` optional, and
 * each `never` (not to be sent) when the operation declares none.
 */
export type ParamsOf<Op> = Pick<ParametersOf<Op>, Extract<keyof ParametersOf<Op>, 'path' | 'query'>>;

/** A multipart form part: text, or a file (a `File`'s name is the part's filename). */
type FormPart = string | number | boolean | Blob | readonly Blob[];
/**
 * The fields of an operation's multipart/form-data body as the document declares them, narrowed to what travels
 * as form parts: text (one part) or files (a part each). A field the document declares only as a list of text
 * values or as an object cannot be sent this way (the CLI sends the tasks as one comma-separated value).
 */
export type FormOf<Op> = Op extends { requestBody?: infer Body }
  ? Body extends { content: { 'multipart/form-data': infer Form } }
    ? { [K in keyof Form]: Extract<Form[K], FormPart | undefined> }
    : never
  : never;

/** What a request of an operation carries: its parameters and, when it takes one, its multipart form. */
export type RequestOf<Op> = ParamsOf<Op> &
  ([FormOf<Op>] extends [never] ? { form?: never } : { form: FormOf<Op> });

/** The response statuses the document declares for an operation. */
export type StatusOf<Op> = keyof ResponsesOf<Op> & number;
/** The application/json body of an operation's response with status S. */
export type JsonOf<Op, S extends StatusOf<Op>> = ResponsesOf<Op>[S] extends {
  content: { 'application/json': infer Body };
}
  ? Body
  : never;
/** The application/problem+json body of any of an operation's error responses. */
export type ProblemOf<Op> = {
  [S in StatusOf<Op>]: ResponsesOf<Op>[S] extends { content: { 'application/problem+json': infer Body } }
    ? Body
    : never;
}[StatusOf<Op>];

/** A fetch Response, marked with the operation it answers (type-level only). */
export type ApiResponse<Op> = Response & { readonly __operation?: Op };

/** Every field of T, each possibly absent and of unknown type: a body received but not validated. */
export type Unchecked<T> = { [K in keyof T]?: unknown };

/** `template` with its `{name}` segments filled from `params.path` (URL-encoded) and `params.query` appended. */
export function urlPath(
  template: string,
  params: {
    path?: Readonly<Record<string, string | number>>;
    query?: Readonly<Record<string, string | number | boolean | undefined>>;
  },
): string {
  const path = template.replace(/\{([^}]+)\}/g, (_, name: string) => {
    const value = params.path?.[name];
    if (value === undefined) throw new Error(`${template}: no value for path parameter ${name}`);
    return encodeURIComponent(String(value));
  });
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params.query ?? {})) {
    if (value !== undefined) query.append(name, String(value));
  }
  const search = query.toString();
  return search === '' ? path : `${path}?${search}`;
}

/** A multipart body from a form's fields; absent fields are left out, each Blob of a list is a part of its own. */
export function formData(fields: Readonly<Record<string, FormPart | undefined>>): FormData {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    const parts: ReadonlyArray<string | number | boolean | Blob> = Array.isArray(value) ? value : [value];
    for (const part of parts) form.append(name, part instanceof Blob ? part : String(part));
  }
  return form;
}
