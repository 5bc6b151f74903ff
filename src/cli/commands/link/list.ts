import { defineCommand } from '../../command.js';

export default defineCommand({
  path: 'link list',
  description: 'links, all or of one record',
  args: ['[ref]'],
  async run({ out, args: [ref], withDb }) {
    const { listLinks } = await import('../../../links/memoryLinks.js');
    const links = await withDb((db) => listLinks(db.knex, ref === undefined ? undefined : [ref]));
    out.result(links, () =>
      out.table(
        ['ref', 'relation', 'l3 ref', 'created', 'by'],
        links.map((l) => [l.ref, l.relation, l.l3_ref, l.created_at, l.created_by]),
      ),
    );
  },
});
