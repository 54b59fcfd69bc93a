import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');

/**
 * The ops console: a static bundle in dist/console that the suite (or the registry) serves at
 * `/`. Everything it needs is bundled: no CDN, nothing fetched from the internet at run time.
 */
export default defineConfig({
  root: here,
  base: '/',
  publicDir: false,
  resolve: {
    alias: {
      '@mrw/client/browser': resolve(root, 'libs/client/src/browser.ts'),
      '@mrw/contracts': resolve(root, 'libs/contracts/src/index.ts'),
    },
  },
  build: {
    outDir: resolve(root, 'dist/console'),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    chunkSizeWarningLimit: 400,
  },
});
