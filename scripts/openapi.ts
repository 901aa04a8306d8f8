// `npm run openapi`: writes docs/openapi.json from the zod contracts (services/gateway/src/openapi.ts).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderOpenApiJson } from '../services/gateway/src/openapi';

const target = join(__dirname, '..', 'docs', 'openapi.json');
writeFileSync(target, renderOpenApiJson());
process.stdout.write(`wrote ${target}\n`);
