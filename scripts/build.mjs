// Bundles src/ and its dependencies into dist/main.js so that `npm start` runs plain JavaScript
// from one file: loading TypeScript through tsx at start-up cost about 1.2 s of every cold start,
// and loading the dependencies from node_modules (Kysely alone is some 300 ES modules) 820–940 ms
// of module loading where the bundle takes 390–570 ms (same machine, same hour).
// Migrations and the embedded database's worker (plain JavaScript) are copied next to the bundle,
// where the migrator and the driver look for them.
import { build } from 'esbuild';
import { cpSync, rmSync } from 'node:fs';

rmSync('dist', { recursive: true, force: true });
await build({
  entryPoints: ['src/main.ts'],
  outfile: 'dist/main.js',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // Dependencies are bundled too, but PGlite (only the worker loads it, with its WebAssembly
  // files beside it) and pg-native (an optional addon of pg that is never installed).
  external: ['@electric-sql/pglite', 'pg-native'],
  // CommonJS dependencies call require(); in an ES module it must be made.
  banner: { js: "import { createRequire as __slCreateRequire } from 'node:module'; const require = __slCreateRequire(import.meta.url);" },
  sourcemap: true,
  logLevel: 'warning',
});
cpSync('src/db/migrations', 'dist/migrations', { recursive: true });
cpSync('src/db/pglite-worker.mjs', 'dist/pglite-worker.mjs');
