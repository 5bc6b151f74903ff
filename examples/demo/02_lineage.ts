import type { Knex } from 'knex';
import { archiveEvents } from 'cos-db';

/**
 * A small, realistic lineage on top of the sample PRDs: the checkout PRD approved, planned into
 * tasks, built and reviewed by agents, then published — so `cos-db trace seed-publish` and
 * `cos-db trace prd:prd-checkout-v2@3 --down` have something to show.
 */
const EVENTS = [
  {
    event_id: 'seed-approve',
    type: 'prd.approved',
    module: 'planner',
    actor: 'lead-bob',
    occurred_at: '2026-11-20T09:00:00Z',
    inputs: ['prd:prd-checkout-v2@3'],
    payload: { decision: 'approved' },
  },
  {
    event_id: 'seed-plan',
    type: 'task.planned',
    module: 'planner',
    actor: 'agent-planner',
    task_id: 'checkout-v2',
    occurred_at: '2026-11-20T09:05:00Z',
    parents: ['seed-approve'],
    payload: { tasks: ['api', 'ui'] },
  },
  {
    event_id: 'seed-api',
    type: 'task.completed',
    module: 'builder',
    actor: 'agent-builder',
    task_id: 'checkout-v2/api',
    occurred_at: '2026-11-21T15:00:00Z',
    parents: ['seed-plan'],
    payload: { commit: '4f1c2e9' },
  },
  {
    event_id: 'seed-ui',
    type: 'task.completed',
    module: 'builder',
    actor: 'agent-builder',
    task_id: 'checkout-v2/ui',
    occurred_at: '2026-11-22T11:30:00Z',
    parents: ['seed-plan'],
    payload: { commit: '9a07b31' },
  },
  {
    event_id: 'seed-review',
    type: 'review.passed',
    module: 'reviewer',
    actor: 'agent-reviewer',
    task_id: 'checkout-v2',
    occurred_at: '2026-11-23T10:00:00Z',
    parents: ['seed-api', 'seed-ui'],
    inputs: ['prd:prd-checkout-v2@3'],
    payload: { findings: 0 },
  },
  {
    event_id: 'seed-publish',
    type: 'artifact.published',
    module: 'publisher',
    actor: 'agent-publisher',
    task_id: 'checkout-v2',
    occurred_at: '2026-11-24T08:00:00Z',
    parents: ['seed-review'],
    payload: { artifact: 'checkout-web@2.0.0' },
  },
];

export async function seed(knex: Knex): Promise<void> {
  const records = (async function* () {
    for (const [index, value] of EVENTS.entries()) yield { line: index + 1, value };
  })();
  // Events already archived with the same content are skipped: running seeds twice is harmless.
  await archiveEvents(knex, records, { format: 'cos', label: 'seeds/02_lineage.ts' });
}
