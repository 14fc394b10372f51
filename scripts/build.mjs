// Bundles src/ into dist/main.js (dependencies stay external) so that `npm start` runs plain
// JavaScript: loading TypeScript through tsx at start-up cost about 1.2 s of every cold start.
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
  packages: 'external',
  sourcemap: true,
  logLevel: 'warning',
});
cpSync('src/db/migrations', 'dist/migrations', { recursive: true });
cpSync('src/db/pglite-worker.mjs', 'dist/pglite-worker.mjs');
