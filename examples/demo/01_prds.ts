import type { Knex } from 'knex';
import { archivePrds, parsePrd } from 'cos-db';

type Version = { text: string; message: string; actor: string };

const front = (id: string, title: string, status: string, extra = '') =>
  `---\nid: ${id}\ntitle: ${title}\nstatus: ${status}\n${extra}---\n`;

/** Three sample PRDs, each with a short history, as a product team would produce them. */
const HISTORY: Array<{ id: string; versions: Version[] }> = [
  {
    id: 'prd-checkout-v2',
    versions: [
      {
        actor: 'pm-alice',
        message: 'first draft',
        text: `${front('prd-checkout-v2', 'Checkout v2', 'draft', 'owner: alice\n')}# Checkout v2\n\n## Problem\nCheckout takes five steps; half of mobile users drop out.\n\n## Goal\nThree steps, guest checkout allowed.\n`,
      },
      {
        actor: 'pm-alice',
        message: 'add success metric',
        text: `${front('prd-checkout-v2', 'Checkout v2', 'review', 'owner: alice\n')}# Checkout v2\n\n## Problem\nCheckout takes five steps; half of mobile users drop out.\n\n## Goal\nThree steps, guest checkout allowed.\n\n## Success metric\nMobile conversion +15% within a quarter.\n`,
      },
      {
        actor: 'lead-bob',
        message: 'approved after review',
        text: `${front('prd-checkout-v2', 'Checkout v2', 'approved', 'owner: alice\napprovers: [bob]\n')}# Checkout v2\n\n## Problem\nCheckout takes five steps; half of mobile users drop out.\n\n## Goal\nThree steps, guest checkout allowed.\n\n## Success metric\nMobile conversion +15% within a quarter.\n\n## Out of scope\nSaved payment methods.\n`,
      },
    ],
  },
  {
    id: 'prd-search-relevance',
    versions: [
      {
        actor: 'pm-carol',
        message: 'first draft',
        text: `${front('prd-search-relevance', 'Search relevance', 'draft')}# Search relevance\n\nRank results by click-through, not recency.\n`,
      },
      {
        actor: 'agent-planner',
        message: 'split into milestones',
        text: `${front('prd-search-relevance', 'Search relevance', 'draft')}# Search relevance\n\nRank results by click-through, not recency.\n\n## Milestones\n1. Log clicks\n2. Offline evaluation\n3. A/B test\n`,
      },
    ],
  },
  {
    id: 'prd-audit-export',
    versions: [
      {
        actor: 'pm-dana',
        message: 'compliance request',
        text: `${front('prd-audit-export', 'Audit export', 'approved')}# Audit export\n\nAuditors need every record with its proof, as a file they can verify offline.\n`,
      },
    ],
  },
];

export async function seed(knex: Knex): Promise<void> {
  for (const prd of HISTORY) {
    const exists =
      (
        await knex.raw<{ rows: unknown[] }>(
          'select 1 from cc.prd_versions where prd_id = ? limit 1',
          [prd.id],
        )
      ).rows.length > 0;
    if (exists) continue; // running the seeds again changes nothing
    for (const version of prd.versions) {
      const file = `${prd.id}.md`;
      const input = parsePrd(Buffer.from(version.text), {
        label: file,
        fileName: file,
        sourcePath: `seeds/${file}`,
      });
      await archivePrds(knex, [input], { actor: version.actor, message: version.message });
    }
  }
}
