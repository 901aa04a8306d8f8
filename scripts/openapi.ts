// `npm run openapi`: writes docs/openapi.json from the zod contracts (services/gateway/src/openapi.ts), and from that
// document the CLI's types of the gateway API, cli/src/generated/gateway-api.ts (openapi-typescript).
// `npm run openapi -- --check` writes nothing and fails when either file is stale (services/gateway/src/openapi.spec.ts).
import { readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import openapiTS, { astToString, type OpenAPI3 } from 'openapi-typescript';
import ts from 'typescript';
import { renderOpenApiJson } from '../services/gateway/src/openapi';

const ROOT = join(__dirname, '..');
const OPENAPI_JSON = join(ROOT, 'docs', 'openapi.json');
const CLI_API_TYPES = join(ROOT, 'cli', 'src', 'generated', 'gateway-api.ts');

const HEADER = `// Generated from docs/openapi.json by \`npm run openapi\` (scripts/openapi.ts, openapi-typescript): do not edit.
// cli/src/gateway-api.ts reads these types; services/gateway/src/openapi.spec.ts fails when this file is stale.
/* eslint-disable */

`;

const BLOB = ts.factory.createTypeReferenceNode('Blob');

/** The TypeScript of `paths`, `components` and `operations` for an OpenAPI document's JSON text. */
async function renderGatewayApiTypes(openApiJson: string): Promise<string> {
  const ast = await openapiTS(JSON.parse(openApiJson) as OpenAPI3, {
    // A file part or binary body (`type: string` with a contentMediaType, OpenAPI 3.1) is a Blob, not a string.
    transform(schema) {
      const { type, contentMediaType } = schema as { type?: unknown; contentMediaType?: unknown };
      return type === 'string' && typeof contentMediaType === 'string' ? BLOB : undefined;
    },
  });
  return HEADER + astToString(ast);
}

/** Writes both files; with `--check`, writes nothing and says of each file whether it is what it should be. */
async function main(check: boolean): Promise<void> {
  const document = renderOpenApiJson();
  if (!check) {
    writeFileSync(OPENAPI_JSON, document);
    process.stdout.write(`wrote ${OPENAPI_JSON}\n`);
    writeFileSync(CLI_API_TYPES, await renderGatewayApiTypes(document));
    process.stdout.write(`wrote ${CLI_API_TYPES}\n`);
    return;
  }
  // Each file against its own source: the document against the contracts, the types against the checked-in document.
  const checkedIn = readFileSync(OPENAPI_JSON, 'utf8');
  const results = [
    [OPENAPI_JSON, checkedIn === document],
    [CLI_API_TYPES, readFileSync(CLI_API_TYPES, 'utf8') === (await renderGatewayApiTypes(checkedIn))],
  ] as const;
  for (const [file, fresh] of results) {
    process.stdout.write(
      `${fresh ? 'ok' : 'stale'} ${relative(ROOT, file)}${fresh ? '' : ': run npm run openapi'}\n`,
    );
  }
  if (results.some(([, fresh]) => !fresh)) process.exitCode = 1;
}

if (require.main === module) {
  main(process.argv.includes('--check')).catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  });
}
