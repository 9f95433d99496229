import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** greennas's own version, read from package.json so it never drifts from the published one. */
export const VERSION: string = (() => {
  for (const rel of ['../../../package.json', '../../package.json']) {
    try {
      const pkg = require(rel) as { name?: string; version?: string };
      if (pkg.name === 'greennas' && pkg.version) return pkg.version;
    } catch {
      // try the next layout (src/ when run by vitest, dist/src/ when built)
    }
  }
  return '0.0.0-unknown';
})();
