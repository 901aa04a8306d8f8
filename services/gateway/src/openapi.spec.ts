import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import type { z } from 'zod';
import {
  analyzeJsonBodySchema,
  analyzeResponseSchema,
  createJobBodySchema,
  jobCreatedSchema,
  jobListSchema,
  problemSchema,
  resolveReviewBodySchema,
  webhookEventSchema,
} from '@argus/contracts';
import { livenessSchema, readinessReportSchema } from '@argus/telemetry';
import { buildOpenApiDocument, OPENAPI_EXAMPLES, renderOpenApiJson } from './openapi';

const ROOT = join(__dirname, '..', '..', '..');
const CHECKED_IN = join(ROOT, 'docs', 'openapi.json');

interface Example {
  where: string;
  schema: Record<string, unknown>;
  value: unknown;
}

/** Every `example` and `examples[*].value` of a media type or parameter, with the schema it illustrates. */
function examplesOf(node: unknown, where: string, found: Example[] = []): Example[] {
  if (typeof node !== 'object' || node === null) return found;
  const record = node as Record<string, unknown>;
  const schema = record.schema as Record<string, unknown> | undefined;
  if (schema && typeof schema === 'object') {
    if ('example' in record) found.push({ where: `${where}/example`, schema, value: record.example });
    for (const [name, example] of Object.entries(
      (record.examples ?? {}) as Record<string, { value: unknown }>,
    )) {
      found.push({ where: `${where}/examples/${name}`, schema, value: example.value });
    }
  }
  for (const [key, value] of Object.entries(record)) {
    if (key !== 'example' && key !== 'examples') examplesOf(value, `${where}/${key}`, found);
  }
  return found;
}

describe('OpenAPI document', () => {
  const document = buildOpenApiDocument();

  it('is checked in as generated', () => {
    const current = readFileSync(CHECKED_IN, 'utf8');
    if (current !== renderOpenApiJson()) {
      throw new Error('docs/openapi.json is not what the contracts generate: run npm run openapi');
    }
  });

  // openapi-typescript is ESM underneath, which jest cannot load in process: the script checks, in its own process.
  it("is what the CLI's types were generated from (cli/src/generated/gateway-api.ts)", () => {
    const tsx = join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs');
    const run = spawnSync(process.execPath, [tsx, join(ROOT, 'scripts', 'openapi.ts'), '--check'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    expect(run.stdout + run.stderr).toContain('ok cli/src/generated/gateway-api.ts');
  }, 60_000);

  it('describes every route of the gateway', () => {
    expect(Object.keys(document.paths).sort()).toEqual(
      [
        '/console',
        '/console/{asset}',
        '/docs',
        '/docs/{asset}',
        '/healthz',
        '/metrics',
        '/openapi.json',
        '/openapi.yaml',
        '/readyz',
        '/v1/analyze',
        '/v1/jobs',
        '/v1/jobs/{id}',
        '/v1/models',
        '/v1/reviews',
        '/v1/reviews/{id}',
        '/v1/reviews/{id}/image',
        '/v1/whoami',
      ].sort(),
    );
  });

  it('has examples that validate against their schemas', () => {
    const ajv = new Ajv2020({ strict: false, validateFormats: false, allErrors: true });
    const examples = examplesOf(document.paths, '#/paths').concat(
      examplesOf(document.components.responses, '#/components/responses'),
    );
    expect(examples.length).toBeGreaterThanOrEqual(20);
    const failures = examples.flatMap(({ where, schema, value }) => {
      const validate = ajv.compile({ components: document.components, allOf: [schema] });
      return validate(value) ? [] : [`${where}: ${ajv.errorsText(validate.errors)}`];
    });
    expect(failures).toEqual([]);
  });

  it('has examples that the zod contracts accept', () => {
    const contracts: Record<keyof typeof OPENAPI_EXAMPLES, z.ZodType> = {
      AnalyzeJsonBody: analyzeJsonBodySchema,
      AnalyzeResponse: analyzeResponseSchema,
      CreateJobBody: createJobBodySchema,
      JobCreated: jobCreatedSchema,
      JobList: jobListSchema,
      ResolveReviewBody: resolveReviewBodySchema,
      Liveness: livenessSchema,
      ReadinessReport: readinessReportSchema,
      WebhookEvent: webhookEventSchema,
    };
    for (const [name, example] of Object.entries(OPENAPI_EXAMPLES)) {
      expect([name, contracts[name as keyof typeof OPENAPI_EXAMPLES].safeParse(example).error]).toEqual([
        name,
        undefined,
      ]);
    }
    const problems = examplesOf(document.components.responses, '');
    for (const { value } of problems) expect(problemSchema.safeParse(value).success).toBe(true);
  });

  it('passes redocly lint (recommended rules) without errors', () => {
    const cli = join(ROOT, 'node_modules', '@redocly', 'cli', 'bin', 'cli.js');
    const run = spawnSync(process.execPath, [cli, 'lint', CHECKED_IN, '--format=stylish'], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_NOTIFICATIONS: 'true' },
    });
    expect([run.status, run.stdout + run.stderr]).toEqual([0, expect.stringContaining('is valid')]);
  }, 60_000);
});
