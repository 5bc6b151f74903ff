import { realpathSync } from 'node:fs';
import { usageError } from '../../../errors.js';
import { packageRoot } from '../../../packageRoot.js';
import { defineCommand, value } from '../../command.js';
import { displayPath } from '../../guards.js';

export default defineCommand({
  path: 'migrate make',
  description: 'write a new TypeScript migration from the template',
  args: ['<name>'],
  options: { module: value('<module>', 'under migrations/<module>/') },
  async run({ settings, out, options, args: [name] }) {
    const { makeMigration } = await import('../../../migrations/makeMigration.js');
    // The core's migrations ship with cos-db: only its own repository adds to them.
    if (
      options.module === undefined &&
      realpathSync(settings.project.root) !== realpathSync(packageRoot())
    )
      throw usageError("core migrations belong to cos-db itself; a project's go in a module", {
        hint: `give its module: cos-db migrate make ${name || 'NAME'} --module <module> (see cos-db schema create)`,
      });
    const path = makeMigration(settings.migrationsDir, name, options.module);
    out.result({ path }, () => `created ${displayPath(settings.cwd, path)}`);
  },
});
