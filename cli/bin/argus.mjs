#!/usr/bin/env node
// `npx argus …`: runs the CLI built into dist by `npm run build` (the TypeScript lives in cli/src).
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(dirname(fileURLToPath(import.meta.url))));
const entry = join(root, 'dist', 'cli', 'src', 'main.js');

if (!existsSync(entry)) {
  process.stderr.write(
    'argus: the CLI is not built; run `npm run build` (or `npm start`, which builds) first\n',
  );
  process.exit(2);
}

const require = createRequire(import.meta.url);
const { run } = require(entry);
process.exitCode = await run(process.argv.slice(2));
