import { addLink, listLinks } from '../../links/memoryLinks.js';
import type { Handler } from '../context.js';
import { withDb } from '../withDb.js';

export const handler: Handler = async (context) => {
  const { settings, out, invocation } = context;
  if (invocation.command === 'link add') {
    const [ref, l3Ref] = invocation.args;
    const link = await withDb(context, (db) =>
      addLink(db.knex, {
        ref: ref ?? '',
        l3Ref: l3Ref ?? '',
        relation: invocation.options.relation as string | undefined,
        actor: settings.actor,
      }),
    );
    out.result(
      link,
      () =>
        `${link.already_linked ? 'already linked' : 'linked'} ${link.ref} —${link.relation}→ ${link.l3_ref} (${link.link_id})`,
    );
    return;
  }
  const ref = invocation.args[0];
  const links = await withDb(context, (db) =>
    listLinks(db.knex, ref === undefined ? undefined : [ref]),
  );
  out.result(links, () =>
    out.table(
      ['ref', 'relation', 'l3 ref', 'created', 'by'],
      links.map((l) => [l.ref, l.relation, l.l3_ref, l.created_at, l.created_by]),
    ),
  );
};
