import { defineCommand, value } from '../../command.js';
import { eventFilters, parseWholeNumber } from '../../guards.js';

export default defineCommand({
  path: 'query events',
  description: 'events in time order, filtered; or one event whole with parents, children, inputs',
  args: ['[id]'],
  options: {
    type: value('<type>', 'event type'),
    module: value('<module>', 'module'),
    actor: value('<actor>', 'actor (agent)'),
    task: value('<task>', 'task id'),
    since: value('<time>', 'occurred at or after (ISO time, or an age such as 2h)'),
    until: value('<time>', 'occurred before'),
    limit: value('<n>', 'at most N events (default 100)'),
    after: value('<event-id>', 'the page after this event (keyset pagination)'),
  },
  async run({ out, options: o, args: [id], withDb }) {
    const { eventDetail, queryEvents } = await import('../../../events/queryEvents.js');
    if (id !== undefined) {
      const detail = await withDb((db) => eventDetail(db.knex, id));
      out.result(detail, () =>
        [
          `${detail.event_id}  ${detail.type}`,
          `module ${detail.module ?? '-'}; actor ${detail.actor ?? '-'}; task ${detail.task_id ?? '-'}${detail.run_id ? `; run ${detail.run_id}` : ''}`,
          `occurred ${detail.occurred_at}; recorded ${detail.recorded_at}; chain ${detail.chain} #${detail.seq}`,
          `parents:  ${[...detail.parents, ...detail.derived_parents].join(', ') || '-'}${detail.derived_parents.length ? ' (derived from runs and datasets)' : ''}`,
          `children: ${detail.children.join(', ') || '-'}`,
          `inputs:   ${detail.inputs.join(', ') || '-'}`,
          `links:    ${detail.links.map((l) => `${l.relation} ${l.l3_ref}`).join(', ') || '-'}`,
          `payload:  ${JSON.stringify(detail.payload, null, 2)}`,
        ].join('\n'),
      );
      return;
    }
    const result = await withDb((db) =>
      queryEvents(db.knex, {
        ...eventFilters(o),
        after: o.after,
        limit: parseWholeNumber(o.limit, '--limit'),
      }),
    );
    out.result(result, () => {
      const table = out.table(
        ['event', 'type', 'module', 'actor', 'task', 'occurred at', 'parents'],
        result.events.map((e) => [
          e.event_id,
          e.type,
          e.module ?? '',
          e.actor ?? '',
          e.task_id ?? '',
          e.occurred_at,
          e.parents.length,
        ]),
      );
      return result.next ? `${table}\nmore: --after ${result.next}` : table;
    });
  },
});
