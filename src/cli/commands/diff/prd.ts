import { defineCommand } from '../../command.js';
import { positiveVersion } from '../../guards.js';

export default defineCommand({
  path: 'diff prd',
  description: 'unified diff between two versions of a PRD (default: the last two)',
  args: ['<id>', '[v1]', '[v2]'],
  async run({ out, args: [id, a, b], withDb }) {
    const { diffPrd } = await import('../../../prd/diffPrd.js');
    const result = await withDb((db) =>
      diffPrd(db.knex, id, positiveVersion(a, 'V1'), positiveVersion(b, 'V2')),
    );
    out.result(result, () => {
      const s = out.style;
      if (result.hunks.length === 0)
        return `${result.prd_id}: versions ${result.from} and ${result.to} are identical`;
      return result.unified
        .split('\n')
        .map((line) =>
          line.startsWith('+++') || line.startsWith('---')
            ? s.bold(line)
            : line.startsWith('@@')
              ? s.cyan(line)
              : line.startsWith('+')
                ? s.green(line)
                : line.startsWith('-')
                  ? s.red(line)
                  : line,
        )
        .join('\n');
    });
  },
});
