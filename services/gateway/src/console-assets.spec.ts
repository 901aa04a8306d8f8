import { createHash } from 'node:crypto';
import {
  CONSOLE_ASSETS,
  CONSOLE_CONTENT_SECURITY_POLICY,
  CONSOLE_PAGE,
  ConsoleAssetCache,
  consolePage,
} from './console-assets';

describe('console assets', () => {
  it('finds every file it serves, its own and the packages', () => {
    const cache = new ConsoleAssetCache();
    for (const name of Object.keys(CONSOLE_ASSETS)) {
      expect(cache.get(name)?.bytes.length).toBeGreaterThan(100);
    }
    expect(cache.get('../package.json')).toBeUndefined();
    expect(cache.get('constructor')).toBeUndefined();
  });

  it('allows the inline import map by its hash, and no other inline script or style', () => {
    const importMap = /<script type="importmap">([^<]*)<\/script>/.exec(CONSOLE_PAGE)?.[1] ?? '';
    const hash = createHash('sha256').update(importMap, 'utf8').digest('base64');
    expect(CONSOLE_CONTENT_SECURITY_POLICY).toContain(`script-src 'self' 'sha256-${hash}'`);
    expect(CONSOLE_CONTENT_SECURITY_POLICY).not.toContain('unsafe-inline');
    expect(CONSOLE_CONTENT_SECURITY_POLICY).toContain("connect-src 'self'");
  });

  it('links everything relative to the page, so a path prefix works', () => {
    const importMap = JSON.parse(
      /<script type="importmap">([^<]*)<\/script>/.exec(CONSOLE_PAGE)?.[1] ?? '{}',
    ) as {
      imports: Record<string, string>;
    };
    for (const target of Object.values(importMap.imports)) {
      expect(target).toMatch(/^\.\/console\/[\w.-]+$/);
      expect(Object.keys(CONSOLE_ASSETS)).toContain(target.replace('./console/', ''));
    }
    expect(CONSOLE_PAGE).not.toMatch(/(href|src)="\//);
  });
});

describe('consolePage', () => {
  it('tells the page whether keys are required, without changing the hashed import map', () => {
    expect(consolePage(true)).toContain('<meta name="argus-auth" content="required" />');
    expect(consolePage(false)).toContain('<meta name="argus-auth" content="off" />');
    expect(consolePage(true).replace('content="required" ', '')).toBe(CONSOLE_PAGE);
  });
});
