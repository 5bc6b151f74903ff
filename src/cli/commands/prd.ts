import { archivePrds } from '../../prd/archivePrds.js';
import { diffPrd } from '../../prd/diffPrd.js';
import { parseTime } from '../../config/parseTime.js';
import { listPrds, prdHistory, prdVersion } from '../../prd/queryPrds.js';
import { readPrdFiles } from '../../prd/readPrdFiles.js';
import { usageError } from '../../errors.js';
import type { Context, Handler } from '../context.js';
import { parseWholeNumber } from '../guards.js';
import { withDb } from '../withDb.js';

function positiveVersion(value: unknown, what: string): number | undefined {
  const n = parseWholeNumber(value, what);
  if (n === 0) throw usageError(`${what} must be 1 or more`);
  return n;
}

async function archive(context: Context): Promise<void> {
  const { settings, out, invocation } = context;
  const o = invocation.options as {
    id?: string;
    message?: string;
    actor?: string;
    maxSize?: string;
  };
  const maxBytes = parseWholeNumber(o.maxSize, '--max-size');
  // Every file is read and validated before the database is opened: one bad file, nothing written.
  const inputs = readPrdFiles(invocation.args, {
    cwd: settings.cwd,
    id: o.id,
    ...(maxBytes !== undefined ? { maxBytes } : {}),
  });
  const outcomes = await withDb(context, (db) =>
    archivePrds(db.knex, inputs, { actor: o.actor ?? settings.actor, message: o.message }),
  );
  out.result(outcomes, () => {
    const s = out.style;
    const colour = { new: s.green, changed: s.yellow, unchanged: s.dim } as const;
    return out.table(
      ['file', 'id', 'version', 'outcome', 'sha256'],
      outcomes.map((r) => [
        r.source_path ?? '',
        r.prd_id,
        r.version,
        colour[r.outcome](r.outcome),
        r.content_sha256.slice(0, 16),
      ]),
    );
  });
}

async function query(context: Context): Promise<void> {
  const { out, invocation } = context;
  const o = invocation.options as {
    version?: string;
    content?: boolean;
    since?: string;
    until?: string;
    status?: string;
  };
  const filters = {
    since: parseTime(o.since, '--since'),
    until: parseTime(o.until, '--until'),
    status: o.status,
  };
  const id = invocation.args[0];
  const version = positiveVersion(o.version, '--version');
  if (id === undefined) {
    if (version !== undefined || o.content)
      throw usageError('--version and --content need a PRD id');
    const prds = await withDb(context, (db) => listPrds(db.knex, filters));
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
    const row = await withDb(context, (db) => prdVersion(db.knex, id, version));
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
  const history = await withDb(context, (db) => prdHistory(db.knex, id, filters));
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
}

async function diff(context: Context): Promise<void> {
  const { out, invocation } = context;
  const [id, a, b] = invocation.args;
  const result = await withDb(context, (db) =>
    diffPrd(db.knex, id ?? '', positiveVersion(a, 'V1'), positiveVersion(b, 'V2')),
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
}

const COMMANDS: Record<string, (context: Context) => Promise<void>> = {
  'archive prd': archive,
  'query prd': query,
  'diff prd': diff,
};

export const handler: Handler = async (context) => {
  await COMMANDS[context.invocation.command]!(context);
};
