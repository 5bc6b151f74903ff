import { resolve } from 'node:path';
import { defineCommand } from '../command.js';
import { requireYesOnProd } from '../guards.js';
import { describeTarget } from '../../config/describeTarget.js';

export default defineCommand({
  path: 'import',
  description:
    "load a bundle: each chain here must be empty or a prefix of the bundle's; prod needs --yes",
  args: ['<file>'],
  async run({ settings, out, args: [file], withDb }) {
    const { importBundle } = await import('../../export/bundle.js');
    out.error(`target: ${describeTarget(settings.target)}`);
    requireYesOnProd(settings, 'import a bundle');
    const path = resolve(settings.cwd, file);
    const report = await withDb((db) => importBundle(db, path));
    out.result(report, () =>
      [
        out.table(
          ['table', 'chain', 'had', 'appended', 'head'],
          report.chains.map((c) => [c.table, c.chain, c.had, c.appended, c.head.slice(0, 16)]),
        ),
        `${report.chains.reduce((a, c) => a + c.appended, 0).toLocaleString('en-US')} rows appended; ${report.modules_added} module(s) added${report.redactions_applied ? `; ${report.redactions_applied} value(s) erased by the bundle's redactions` : ''}. Check with: cos-db verify`,
      ].join('\n'),
    );
  },
});
