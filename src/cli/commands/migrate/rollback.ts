import { defineCommand, flag, value } from '../../command.js';
import { parseWholeNumber, requireYesOnProd } from '../../guards.js';
import { describeTarget } from '../../../config/describeTarget.js';

export default defineCommand({
  path: 'migrate rollback',
  description: 'undo the last batch (or --step N, --all, --to NAME); prod needs --yes',
  options: {
    step: value('<n>', 'undo the last N migrations'),
    all: flag('undo every migration'),
    to: value('<name>', 'undo every migration applied after NAME'),
    module: value('<module>', "roll back this module's migrations instead of the core's"),
  },
  async run({ settings, out, options, withDb }) {
    const { rollback } = await import('../../../migrations/rollback.js');
    out.error(`target: ${describeTarget(settings.target)}`);
    requireYesOnProd(settings, 'roll back migrations');
    const result = await withDb((db) =>
      rollback(db, {
        migrationsDir: settings.migrationsDir,
        module: options.module,
        step: parseWholeNumber(options.step, '--step'),
        all: options.all === true,
        to: options.to,
        lockTimeoutMs: settings.lockTimeoutMs,
        onMessage: (m) => out.info(m),
      }),
    );
    out.result(result, () =>
      result.rolled_back.length === 0
        ? `${result.module ?? 'core'}: nothing to roll back`
        : `${result.module ?? 'core'}: rolled back ${result.rolled_back.length}: ${result.rolled_back.join(', ')}`,
    );
  },
});
