import { usageError } from '../../errors.js';
import { CosError, ExitCode } from '../../errors.js';
import { makeMigration } from '../../migrations/makeMigration.js';
import { migrationStatus } from '../../migrations/migrationStatus.js';
import { rollback } from '../../migrations/rollback.js';
import { migrate } from '../../migrations/runMigrations.js';
import { unlock } from '../../migrations/unlock.js';
import type { Context, Handler } from '../context.js';
import { describeTarget, displayPath, parseWholeNumber, requireYesOnProd } from '../guards.js';
import { withDb } from '../withDb.js';
import { realpathSync } from 'node:fs';
import { packageRoot } from '../../packageRoot.js';

const str = (v: unknown) => (typeof v === 'string' ? v : undefined);

async function runMigrate(context: Context): Promise<void> {
  const { settings, out, invocation } = context;
  const o = invocation.options;
  const result = await withDb(context, (db) =>
    migrate(db, {
      migrationsDir: settings.migrationsDir,
      module: str(o.module),
      to: str(o.to),
      dryRun: o.dryRun === true,
      lockTimeoutMs: settings.lockTimeoutMs,
      onMessage: (m) => out.info(m),
    }),
  );
  out.result(result, () => {
    const lines: string[] = [];
    for (const s of result.scopes) {
      const label = s.module ?? 'core';
      if (result.dry_run) {
        if (s.preview.length === 0 && s.not_previewed.length === 0)
          lines.push(`${label}: up to date`);
        for (const p of s.preview) {
          lines.push(
            out.style.bold(`-- ${label}: ${p.migration}`),
            ...p.statements.map((q) => `${q.trim()};`),
            '',
          );
        }
        for (const n of s.not_previewed)
          lines.push(`-- ${label}: ${n} not previewed (runs outside a transaction)`);
      } else if (s.applied.length === 0) lines.push(`${label}: up to date`);
      else {
        const names =
          s.applied.length > 10
            ? [...s.applied.slice(0, 10), `… and ${s.applied.length - 10} more`]
            : s.applied;
        lines.push(
          `${label}: applied ${s.applied.length} migration(s) as batch ${s.batch}: ${names.join(', ')}`,
        );
      }
    }
    if (result.dry_run) lines.push('(dry run: rolled back, nothing changed)');
    return lines.join('\n');
  });
}

async function runStatus(context: Context): Promise<void> {
  const { settings, out, invocation } = context;
  const report = await withDb(context, (db) =>
    migrationStatus(db.knex, settings.migrationsDir, str(invocation.options.module)),
  );
  out.result(report, () => {
    const s = out.style;
    const colour = { applied: s.green, pending: s.yellow, missing: s.red, edited: s.red } as const;
    const rows = report.scopes.flatMap((scope) =>
      scope.entries.map((e) => [
        scope.module ?? 'core',
        e.name,
        colour[e.state](e.state),
        e.batch ?? '',
        e.applied_at ?? '',
        e.checksum === 'none' ? 'none (plain knex)' : (e.checksum ?? ''),
      ]),
    );
    const lines = [
      out.table(['schema', 'migration', 'state', 'batch', 'applied at', 'checksum'], rows),
    ];
    for (const f of report.unregistered_folders)
      lines.push(
        s.yellow(`migrations/${f}/ has no module in this database (cos-db schema create ${f})`),
      );
    lines.push(
      report.clean
        ? 'up to date'
        : 'not up to date: run `cos-db migrate` (and restore missing or edited files)',
    );
    return lines.join('\n');
  });
  if (invocation.options.check === true && !report.clean) {
    const counts = report.scopes.reduce(
      (acc, s) => ({
        pending: acc.pending + s.counts.pending,
        missing: acc.missing + s.counts.missing,
        edited: acc.edited + s.counts.edited,
      }),
      { pending: 0, missing: 0, edited: 0 },
    );
    // The report is already on stdout; the exit code carries the verdict.
    out.error(
      `cos-db: migrations not in sync: ${counts.pending} pending, ${counts.missing} missing, ${counts.edited} edited`,
    );
    process.exitCode = ExitCode.drift;
  }
}

async function runRollback(context: Context): Promise<void> {
  const { settings, out, invocation } = context;
  const o = invocation.options;
  out.error(`target: ${describeTarget(settings.target)}`);
  requireYesOnProd(settings, 'roll back migrations');
  const result = await withDb(context, (db) =>
    rollback(db, {
      migrationsDir: settings.migrationsDir,
      module: str(o.module),
      step: parseWholeNumber(o.step, '--step'),
      all: o.all === true,
      to: str(o.to),
      lockTimeoutMs: settings.lockTimeoutMs,
      onMessage: (m) => out.info(m),
    }),
  );
  out.result(result, () =>
    result.rolled_back.length === 0
      ? `${result.module ?? 'core'}: nothing to roll back`
      : `${result.module ?? 'core'}: rolled back ${result.rolled_back.length}: ${result.rolled_back.join(', ')}`,
  );
}

async function runMake(context: Context): Promise<void> {
  const { settings, out, invocation } = context;
  const name = invocation.args[0] ?? '';
  const module = str(invocation.options.module);
  // The core's migrations ship with cos-db: only its own repository adds to them.
  if (module === undefined && realpathSync(settings.project.root) !== realpathSync(packageRoot()))
    throw usageError("core migrations belong to cos-db itself; a project's go in a module", {
      hint: `give its module: cos-db migrate make ${name || 'NAME'} --module <module> (see cos-db schema create)`,
    });
  const path = makeMigration(settings.migrationsDir, name, module);
  out.result({ path }, () => `created ${displayPath(settings.cwd, path)}`);
}

async function runUnlock(context: Context): Promise<void> {
  const { settings, out, invocation } = context;
  const reports = await withDb(context, (db) =>
    unlock(db, settings.migrationsDir, str(invocation.options.module)),
  );
  out.result(reports, () =>
    reports
      .map((r) => {
        const knexPart = r.cleared_knex_lock
          ? 'cleared knex_migrations_lock (it was set; Knex records no owner: a plain Knex run that did not finish)'
          : 'knex_migrations_lock was not set';
        const holders = r.advisory_holders.length
          ? `; cos-db's lock is held by ${r.advisory_holders.map((h) => `pid ${h.pid} (${h.application_name}, ${h.user}, since ${h.since})`).join(', ')} — a live session, not touched`
          : '';
        return `${r.schema}: ${knexPart}${holders}`;
      })
      .join('\n'),
  );
}

const SUBCOMMANDS: Record<string, (context: Context) => Promise<void>> = {
  migrate: runMigrate,
  'migrate status': runStatus,
  'migrate rollback': runRollback,
  'migrate make': runMake,
  'migrate unlock': runUnlock,
};

export const handler: Handler = async (context) => {
  const run = SUBCOMMANDS[context.invocation.command];
  if (!run)
    throw new CosError(ExitCode.internal, `unknown migrate command ${context.invocation.command}`);
  await run(context);
};
