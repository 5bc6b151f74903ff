// Bundles the CLI into dist/cli/ (main.js and a chunk per lazily imported command), which
// bin/cos-db.js runs. Node then reads and compiles a few files instead of several hundred
// (knex alone is about 150, most of them lodash): ping starts in 153 ms instead of 192 (median
// of 7 here), and `archive prd` of 1,000 files takes about 40 ms less. dist/src/ stays as tsc wrote it, for the
// programmatic API (package.json "exports") and the build's own steps.
import { build } from 'esbuild';

await build({
  entryPoints: ['dist/src/cli/main.js'],
  outdir: 'dist/cli',
  // Each command's module (imported when that command runs) becomes a chunk of its own, so a
  // command parses only what it uses.
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: 'linked',
  logLevel: 'warning',
  external: [
    // Read at run time from node_modules: the embedded engine loads its WASM and data files
    // from beside its own code, and tsx compiles migrations and seeds.
    '@electric-sql/pglite',
    'tsx',
    'tsx/*',
    // Drivers knex can load for other databases; never installed, never used.
    'pg-native',
    'mysql',
    'mysql2',
    'mariadb',
    'mariadb/*',
    'sqlite3',
    'better-sqlite3',
    'oracledb',
    'tedious',
  ],
  // The bundled CommonJS (knex, pg) calls require() for Node's own modules.
  banner: {
    js: "import { createRequire as __cosRequire } from 'node:module';\nconst require = __cosRequire(import.meta.url);",
  },
});
