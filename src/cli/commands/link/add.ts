import { defineCommand, value } from '../../command.js';

export default defineCommand({
  path: 'link add',
  description: 'link an event id or prd:ID@VERSION to an L3 entry (a URI or key)',
  args: ['<ref>', '<l3-ref>'],
  options: { relation: value('<name>', 'how they relate (default references)') },
  async run({ settings, out, options, args: [ref, l3Ref], withDb }) {
    const { addLink } = await import('../../../links/memoryLinks.js');
    const link = await withDb((db) =>
      addLink(db.knex, { ref, l3Ref, relation: options.relation, actor: settings.actor }),
    );
    out.result(
      link,
      () =>
        `${link.already_linked ? 'already linked' : 'linked'} ${link.ref} —${link.relation}→ ${link.l3_ref} (${link.link_id})`,
    );
  },
});
