import type { Knex } from 'knex';

/** An edge table that says other than the rows it is derived from, or whose triggers are off. */
export type DerivedReport = {
  table: string;
  status: 'intact' | 'broken';
  /** Edges that disagree with the rows, up to DERIVED_LISTED; all are counted. */
  problems: Array<{
    kind: 'edge-not-in-row' | 'edge-missing' | 'trigger';
    event_id: string | null;
    edge: string;
  }>;
  problem_count: number;
};

const DERIVED_LISTED = 100;

/**
 * Each derived edge table beside its derivation (migration 20261201000900), in both directions:
 * an edge no hashed row names (written with the triggers off), and a row's edge that is not
 * there. One definition of the derivation serves the trigger that writes the edges and this.
 */
const CHECKS: Array<{ table: string; sql: string; legacy?: string }> = [
  {
    table: 'cc.event_inputs',
    sql: `select 'edge-not-in-row' as kind, i.event_id, 'prd:' || i.prd_id || '@' || i.version as edge
            from cc.event_inputs i
           where not exists (select 1 from cc.events e cross join lateral cc.event_input_refs(e.inputs) r
                              where e.event_id = i.event_id and r.prd_id = i.prd_id and r.version = i.version)
          union all
          select 'edge-missing', e.event_id, 'prd:' || r.prd_id || '@' || r.version
            from cc.events e cross join lateral cc.event_input_refs(e.inputs) r
           where e.inputs <> '[]'::jsonb
             and not exists (select 1 from cc.event_inputs i
                              where i.event_id = e.event_id and i.prd_id = r.prd_id and i.version = r.version)`,
  },
  {
    table: 'cc.event_datasets',
    // Before the OpenLineage migration (20261203000000), datasets were joined strings.
    legacy: `select 'edge-not-in-row' as kind, x.event_id, x.role || ' ' || x.dataset as edge
            from cc.event_datasets x
           where not exists (select 1 from cc.events e cross join lateral cc.event_dataset_refs(e.module, e.payload) d
                              where e.event_id = x.event_id and d.dataset = x.dataset and d.role = x.role)
          union all
          select 'edge-missing', e.event_id, d.role || ' ' || d.dataset
            from cc.events e cross join lateral cc.event_dataset_refs(e.module, e.payload) d
           where e.module = 'openlineage'
             and not exists (select 1 from cc.event_datasets x
                              where x.event_id = e.event_id and x.dataset = d.dataset and x.role = d.role)`,
    // Each row carries its event's run and time: those must be the event's too.
    // An erased event's edges stay (derived while its payload was there, and covered by the
    // commitment): only a stored payload can disagree with them.
    sql: `select 'edge-not-in-row' as kind, x.event_id, x.role || ' ' || x.namespace || ' ' || x.name as edge
            from cc.event_datasets x
           where not exists (select 1 from cc.events e where e.event_id = x.event_id and e.payload is null)
             and not exists (select 1 from cc.events e cross join lateral cc.event_dataset_refs(e.module, e.payload) d
                              where e.event_id = x.event_id and d.namespace = x.namespace and d.name = x.name
                                and d.role = x.role and e.run_id is not distinct from x.run_id
                                and e.occurred_at = x.occurred_at)
          union all
          select 'edge-missing', e.event_id, d.role || ' ' || d.namespace || ' ' || d.name
            from cc.events e cross join lateral cc.event_dataset_refs(e.module, e.payload) d
           where e.module = 'openlineage'
             and not exists (select 1 from cc.event_datasets x
                              where x.event_id = e.event_id and x.namespace = d.namespace
                                and x.name = d.name and x.role = d.role)`,
  },
];

const TRIGGERS = [
  { table: 'cc.events', name: 'cos_derive_edges' },
  { table: 'cc.event_inputs', name: 'cos_edges_are_derived' },
  { table: 'cc.event_datasets', name: 'cos_edges_are_derived' },
];

/** The derived edge tables checked against the events' rows; none before the migration. */
export async function verifyDerivedEdges(knex: Knex): Promise<DerivedReport[]> {
  const state = (
    await knex.raw<{ rows: Array<{ ok: boolean; pairs: boolean }> }>(
      `select to_regproc('cc.event_input_refs') is not null as ok,
              exists (select 1 from pg_attribute where attrelid = to_regclass('cc.event_datasets')
                         and attname = 'namespace' and not attisdropped) as pairs`,
    )
  ).rows[0];
  if (!state?.ok) return [];
  const triggers = (
    await knex.raw<{ rows: Array<{ rel: string; tgname: string; tgenabled: string }> }>(
      `select tgrelid::regclass::text as rel, tgname, tgenabled from pg_trigger
        where tgrelid in ('cc.events'::regclass, 'cc.event_inputs'::regclass, 'cc.event_datasets'::regclass)
          and not tgisinternal`,
    )
  ).rows;
  const reports: DerivedReport[] = [];
  for (const check of CHECKS) {
    const rows = (
      await knex.raw<{
        rows: Array<{
          kind: 'edge-not-in-row' | 'edge-missing';
          event_id: string;
          edge: string;
          n: string;
        }>;
      }>(
        `select *, count(*) over () as n from (${!state.pairs && check.legacy ? check.legacy : check.sql}) x limit ${DERIVED_LISTED}`,
      )
    ).rows;
    const problems: DerivedReport['problems'] = rows.map(({ kind, event_id, edge }) => ({
      kind,
      event_id,
      edge,
    }));
    let problem_count = Number(rows[0]?.n ?? 0);
    for (const t of TRIGGERS.filter((x) => x.table === check.table || x.table === 'cc.events')) {
      const found = triggers.find((r) => r.rel === t.table && r.tgname === t.name);
      if (found?.tgenabled === 'A') continue;
      problems.unshift({
        kind: 'trigger',
        event_id: null,
        edge: `trigger ${t.name} on ${t.table} is ${found ? (found.tgenabled === 'D' ? 'disabled' : 'not ENABLE ALWAYS') : 'missing'}`,
      });
      problem_count += 1;
    }
    reports.push({
      table: check.table,
      status: problem_count ? 'broken' : 'intact',
      problems,
      problem_count,
    });
  }
  return reports;
}
