// Bundles the CLI into dist/cli/ (main.js and a chunk per lazily imported module), which
// bin/cos-db.js runs. Node then reads and compiles a few files instead of several hundred
// (knex alone is about 150, most of them lodash), so every command starts sooner
// (docs/performance.md). dist/src/ stays as tsc wrote it, for the programmatic API
// (package.json "exports") and the build's own steps.
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';

/**
 * node-postgres asks at load whether it runs on Cloudflare Workers. Where `navigator` is not
 * defined (Node 20) it does so by making a `Response`, which loads Node's fetch implementation
 * (undici): a noticeable part of every command's start-up, for a question whose answer under
 * Node is no. The bundle answers it first; the build fails if the code it patches moves.
 */
const notOnCloudflare = {
  name: 'pg-not-on-cloudflare',
  setup(b) {
    b.onLoad({ filter: /[\\/]pg[\\/]lib[\\/]stream\.js$/ }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      const probe = 'function isCloudflareRuntime() {';
      if (!source.includes(probe))
        throw new Error(
          `${args.path}: "${probe}" not found; review the pg-not-on-cloudflare patch`,
        );
      return {
        contents: source.replace(
          probe,
          `${probe}\n  if (typeof process === 'object' && process.release?.name === 'node') return false`,
        ),
        loader: 'js',
      };
    });
  },
};

// Chunk names carry a hash of their content: clear out the last build's.
rmSync('dist/cli', { recursive: true, force: true });

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
  plugins: [notOnCloudflare],
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

// verify-proof's entry on its own, one file with nothing split out: a verifier checking receipts
// starts it once per proof, and each module Node loads costs start-up (docs/performance.md).
await build({
  entryPoints: ['dist/src/cli/verifyProofMain.js'],
  // CommonJS: required, Node's own modules come without the ESM namespace of each (node:crypto's
  // would build WebCrypto just to list its exports).
  format: 'cjs',
  define: { 'import.meta.url': '__cosModuleUrl' },
  banner: { js: "const __cosModuleUrl = require('node:url').pathToFileURL(__filename).href;" },
  outfile: 'dist/cli/verifyProofMain.cjs',
  bundle: true,
  // Output's spinner and tables, which a verdict in one line never uses: left to load at need.
  external: ['ora', 'cli-table3'],
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
  logLevel: 'warning',
});
