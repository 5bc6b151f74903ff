// The layering, checked by `npm run layers` (part of `npm run check`): each folder of src/ may
// import only the folders after it in LAYERS, never one before it, and no module may import
// itself round a cycle. src/index.ts (the package's API) sits above them all; src/*.ts files are
// the shared base below them all. See docs/architecture.md.
const LAYERS = [
  'cli',
  // The agent endpoint: HTTP (server) over the MCP tools (mcp), both over the domain.
  'server',
  'mcp',
  // The domain: one folder per record type or job, each building only on those after it.
  'contract',
  'export',
  'schemas',
  'events',
  'prd',
  'lineage',
  'links',
  'migrations',
  'seeds',
  'tokens',
  // The ledger: rows, hashes, chains, verification.
  'integrity',
  // The engines and the SQL they share.
  'db',
  'config',
];

const folder = (name) => `^src/${name}/`;

/** src/<layer>/ must not import src/<earlier layer>/. */
const upward = LAYERS.flatMap((layer, i) =>
  i === 0
    ? []
    : [
        {
          name: `no-upward-from-${layer}`,
          comment: `${layer} sits below ${LAYERS.slice(0, i).join(', ')}: it must not import them`,
          severity: 'error',
          from: { path: folder(layer) },
          to: { path: `^src/(${LAYERS.slice(0, i).join('|')})/` },
        },
      ],
);

// eslint-disable-next-line no-undef -- dependency-cruiser reads its configuration as CommonJS
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'a cycle makes two modules one: split what both need into a module of its own',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    ...upward,
    {
      name: 'base-imports-no-layer',
      comment: 'the shared base (src/*.ts) is below every layer',
      severity: 'error',
      from: { path: '^src/[^/]+\\.ts$', pathNot: '^src/index\\.ts$' },
      to: { path: '^src/[^/]+/' },
    },
    {
      name: 'nothing-imports-the-api',
      comment: 'src/index.ts is the package API, for users: cos-db itself imports the modules',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^src/index\\.ts$' },
    },
    {
      name: 'commands-load-domain-lazily',
      comment:
        'a command imports domain code inside run (await import), so --help and other commands never load it',
      severity: 'error',
      from: { path: '^src/cli/commands/' },
      to: {
        path: `^src/(${LAYERS.slice(1, LAYERS.indexOf('config')).join('|')})/`,
        dependencyTypesNot: ['type-only', 'dynamic-import'],
      },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
