import { defineCommand, value } from '../../command.js';

export default defineCommand({
  path: 'migrate unlock',
  description: "clear a stale knex_migrations_lock, and name whoever holds cos-db's lock",
  options: { module: value('<module>', 'only this module') },
  async run({ settings, out, options, withDb }) {
    const { unlock } = await import('../../../migrations/unlock.js');
    const reports = await withDb((db) => unlock(db, settings.migrationsDir, options.module));
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
  },
});
