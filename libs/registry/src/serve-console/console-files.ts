import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/**
 * Where the built console is: `MRW_CONSOLE_DIR` when set, else the `dist/console` of this
 * installation, found by walking up from this file (it runs from the sources in tests and from
 * `dist/` in production). Undefined when nothing is built there.
 */
export const findConsoleDir = (configured: string | undefined, from: string = __dirname): string | undefined => {
  if (configured !== undefined) return existsSync(join(configured, 'index.html')) ? configured : undefined;
  for (let dir = resolve(from), i = 0; i < 8; i += 1, dir = dirname(dir)) {
    const candidate = join(dir, 'dist', 'console');
    if (existsSync(join(candidate, 'index.html'))) return candidate;
    if (dirname(dir) === dir) break;
  }
  return undefined;
};

/** The console's pages: what a browser may load in them (no inline script, no other origin). */
export const CONSOLE_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy':
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
};

/** A bundle file name as Vite writes it (`index-CZjTWFw_.js`): nothing that could climb out of the folder. */
export const ASSET_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$/;
