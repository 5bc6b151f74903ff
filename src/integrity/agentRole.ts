import type { Knex } from 'knex';
import { usageError } from '../errors.js';
import { quoteIdent } from '../db/quoteIdent.js';
import { ledgerTables } from './ledgerCatalog.js';

/**
 * What agents may read but never write: the lineage edges (derived by the database from the
 * events' hashed rows) and the view of the events' parents as (event_id, parent_id) pairs.
 */
const DERIVED = ['cc.event_inputs', 'cc.event_datasets', 'cc.event_parents'];
const API_TOKENS = 'cc.api_tokens';

export type AgentRoleReport = { role: string; created: boolean; tables: string[] };

/**
 * A role for agents that write to L4: USAGE on cc, SELECT and INSERT — nothing else — on every
 * ledger table (SELECT alone on the redactions, nothing on the endpoint's tokens), SELECT on the lineage edges derived from them, and the lineage walk. Created NOLOGIN when missing; grant
 * it to a login role (GRANT cos_agent TO agent_x). The guard triggers hold for every role anyway;
 * this keeps agents from even trying.
 */
export async function grantAgentRole(knex: Knex, role: string): Promise<AgentRoleReport> {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(role))
    throw usageError(`"${role}" is not a valid role name (lowercase letters, digits, underscores)`);
  return knex.transaction(async (trx) => {
    const exists =
      (await trx.raw<{ rows: unknown[] }>('select 1 from pg_roles where rolname = ?', [role])).rows
        .length > 0;
    if (!exists) await trx.raw(`create role ${quoteIdent(role)} nologin`);
    // The endpoint's tokens are the endpoint's business: agents neither read nor write them.
    const tables = (await ledgerTables(trx)).filter((t) => t !== API_TOKENS);
    await trx.raw(`grant usage on schema cc to ${quoteIdent(role)}`);
    for (const table of tables) {
      const [schema, name] = table.split('.') as [string, string];
      // Redactions are written by cc.redact alone (cos_redactor's), never by agents.
      await trx.raw(
        `grant ${table === 'cc.redactions' ? 'select' : 'select, insert'} on ${quoteIdent(schema)}.${quoteIdent(name)} to ${quoteIdent(role)}`,
      );
    }
    await trx.raw(
      `grant select on cc.modules, cc.ledger_tables, cc.store_identity, ${DERIVED.join(', ')} to ${quoteIdent(role)}`,
    );
    await trx.raw(
      `revoke insert, update, delete, truncate on ${DERIVED.join(', ')} from ${quoteIdent(role)}`,
    );
    await trx.raw(
      `grant execute on function cc.lineage_walk(text, text, integer) to ${quoteIdent(role)}`,
    );
    return { role, created: !exists, tables };
  });
}
