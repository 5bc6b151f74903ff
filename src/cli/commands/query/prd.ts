import { parseTime } from '../../../config/parseTime.js';
import { usageError } from '../../../errors.js';
import { defineCommand, flag, value } from '../../command.js';
import { positiveVersion } from '../../guards.js';

export default defineCommand({
  path: 'query prd',
  description: "PRDs at their latest version, or one PRD's history",
  args: ['[id]'],
  options: {
    version: value('<n>', 'one version'),
    content: flag('print the markdown byte for byte (the latest without --version)'),
    since: value('<time>', 'archived at or after (ISO time, or an age such as 7d)'),
    until: value('<time>', 'archived before'),
    status: value('<status>', 'front-matter status'),
  },
  async run({ out, options: o, args: [id], withDb }) {
    const { listPrds, prdHistory, prdVersion } = await import('../../../prd/queryPrds.js');
    const filters = {
      since: parseTime(o.since, '--since'),
      until: parseTime(o.until, '--until'),
      status: o.status,
    };
    const version = positiveVersion(o.version, '--version');
    if (id === undefined) {
      if (version !== undefined || o.content)
        throw usageError('--version and --content need a PRD id');
      const prds = await withDb((db) => listPrds(db.knex, filters));
      out.result(prds, () =>
        out.table(
          ['id', 'title', 'latest', 'status', 'last archived', 'by'],
          prds.map((p) => [
            p.prd_id,
            p.title,
            p.latest_version,
            p.status ?? '',
            p.last_archived_at,
            p.last_archived_by,
          ]),
        ),
      );
      return;
    }
    if (o.content || version !== undefined) {
      const row = await withDb((db) => prdVersion(db.knex, id, version));
      if (o.content && !out.json) {
        // Byte for byte, no newline added: `> file.md` restores the archived text exactly.
        out.raw(row.content);
        return;
      }
      out.result(row, () =>
        [
          `${row.prd_id} version ${row.version}: ${row.title}`,
          `status ${row.status ?? '-'}; ${row.size_bytes} bytes; sha256 ${row.content_sha256}`,
          `archived ${row.archived_at} by ${row.archived_by}${row.message ? `: ${row.message}` : ''}`,
        ].join('\n'),
      );
      return;
    }
    const history = await withDb((db) => prdHistory(db.knex, id, filters));
    out.result(history, () =>
      out.table(
        ['version', 'sha256', 'size', 'archived at', 'by', 'message', 'links'],
        history.map((v) => [
          v.version,
          v.content_sha256.slice(0, 16),
          v.size_bytes,
          v.archived_at,
          v.archived_by,
          v.message ?? '',
          v.links.map((l) => `${l.relation} ${l.l3_ref}`).join(', '),
        ]),
      ),
    );
  },
});
