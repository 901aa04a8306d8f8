#!/usr/bin/env node
// `npm run lint`: ESLint (strict, type-aware) and Prettier at once, each with its cache under .cache/, so a repeated
// run re-checks only changed files. Fails if either fails; both finish first, so one run shows every problem.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './setup.mjs';

const bin = (name) => join(ROOT, 'node_modules', '.bin', name);
const checks = [
  [
    bin('eslint'),
    ['.', '--max-warnings=0', '--cache', '--cache-strategy', 'content', '--cache-location', '.cache/eslint/'],
  ],
  [bin('prettier'), ['--check', '.', '--cache', '--cache-location', '.cache/prettier/.prettier-cache']],
];

const codes = await Promise.all(
  checks.map(
    ([command, args]) =>
      new Promise((resolve) => {
        const child = spawn(command, args, { cwd: ROOT, stdio: 'inherit' });
        child.on('error', (error) => {
          process.stderr.write(`${command}: ${error.message} (run npm ci first)\n`);
          resolve(1);
        });
        child.on('close', (code) => resolve(code ?? 1));
      }),
  ),
);
process.exitCode = codes.some((code) => code !== 0) ? 1 : 0;
