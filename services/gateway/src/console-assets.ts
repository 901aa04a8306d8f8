import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { findShippedFile } from '@argus/config';

/**
 * The web console (docs/console.md): a few ES modules of its own in services/gateway/console, and Preact + htm from
 * node_modules, served as they are by the gateway: no bundler, no CDN, nothing fetched from elsewhere. An import map
 * (allowed by its hash in the CSP) maps the bare specifiers the packages use to these files.
 */
const JS = 'text/javascript; charset=utf-8';

interface ConsoleAsset {
  type: string;
  /** The file: the console's own (relative to services/gateway/console) or a package's (resolved through npm). */
  file: () => string;
}

const own = (name: string, type = JS): ConsoleAsset => ({
  type,
  file: () =>
    findShippedFile(
      join('services', 'gateway', 'console', name),
      'the console assets ship with the gateway sources',
    ),
});
/** A file beside the entry point a package exports (the packages' own export maps decide which file that is). */
const vendor = (specifier: string, name: string): ConsoleAsset => ({
  type: JS,
  file: () => join(dirname(require.resolve(specifier)), name),
});

export const CONSOLE_ASSETS: Readonly<Record<string, ConsoleAsset>> = {
  'console.css': own('console.css', 'text/css; charset=utf-8'),
  'app.js': own('app.js'),
  'api.js': own('api.js'),
  'overlay.js': own('overlay.js'),
  'signin.js': own('signin.js'),
  'reviews.js': own('reviews.js'),
  'analyse.js': own('analyse.js'),
  'jobs.js': own('jobs.js'),
  'preact.mjs': vendor('preact', 'preact.mjs'),
  'hooks.mjs': vendor('preact/hooks', 'hooks.mjs'),
  'htm.mjs': vendor('htm', 'htm.mjs'),
  'htm-preact.mjs': vendor('htm/preact', 'index.mjs'),
};

/** Relative to the page (/console), so the console also works behind a path prefix (/argus/console). */
const IMPORT_MAP = JSON.stringify({
  imports: {
    preact: './console/preact.mjs',
    'preact/hooks': './console/hooks.mjs',
    htm: './console/htm.mjs',
    'htm/preact': './console/htm-preact.mjs',
  },
});

/** The only inline script, allowed by its hash; everything else comes from 'self'. */
const IMPORT_MAP_HASH = `sha256-${createHash('sha256').update(IMPORT_MAP, 'utf8').digest('base64')}`;

export const CONSOLE_CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  `script-src 'self' '${IMPORT_MAP_HASH}'`,
  "style-src 'self'",
  // blob: for the images the console fetches with the key (an <img src> cannot send a header) and the one picked
  // from disk for analysis; nothing off the gateway.
  "img-src 'self' blob: data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * The shell: no data in it, so it is public (access-control.ts); sign-in happens in the page. It says whether keys
 * are required (every 401 says so anyway), so the page asks for one without first sending a request that fails.
 */
export function consolePage(authEnabled: boolean): string {
  return CONSOLE_PAGE.replace(
    '<meta name="argus-auth" />',
    `<meta name="argus-auth" content="${authEnabled ? 'required' : 'off'}" />`,
  );
}

export const CONSOLE_PAGE = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <meta name="argus-auth" />
    <title>Argus console</title>
    <link rel="stylesheet" href="console/console.css" />
    <script type="importmap">${IMPORT_MAP}</script>
    <script type="module" src="console/app.js"></script>
  </head>
  <body>
    <div id="app"><p class="boot">Loading the Argus console…</p></div>
    <noscript>The Argus console needs JavaScript (ES modules).</noscript>
  </body>
</html>
`;

/** Reads each asset once, on first use. */
export class ConsoleAssetCache {
  private readonly bytes = new Map<string, Buffer>();

  get(name: string): { bytes: Buffer; type: string } | undefined {
    const asset = Object.hasOwn(CONSOLE_ASSETS, name) ? CONSOLE_ASSETS[name] : undefined;
    if (!asset) return undefined;
    let bytes = this.bytes.get(name);
    if (!bytes) {
      bytes = readFileSync(asset.file());
      this.bytes.set(name, bytes);
    }
    return { bytes, type: asset.type };
  }
}
