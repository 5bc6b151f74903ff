import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatTable, ROOT, type Row, type Scenario } from './harness.js';
import { endpoint } from './endpoint.js';
import { events } from './events.js';
import { ledger } from './ledger.js';
import { merkle } from './merkle.js';
import { migrations } from './migrations.js';
import { openlineage } from './openlineage.js';
import { prd } from './prd.js';
import { redact } from './redact.js';
import { startup } from './startup.js';

/**
 * `npm run bench [-- name…]`: runs the named scenarios (all by default) and prints one markdown
 * table of medians beside each scenario's baseline, also written to bench/RESULTS.md.
 */
const scenarios: Scenario[] = [
  startup,
  migrations,
  ledger,
  prd,
  events,
  openlineage,
  redact,
  merkle,
  endpoint,
];

const wanted = process.argv.slice(2);
const chosen = wanted.length ? scenarios.filter((s) => wanted.includes(s.name)) : scenarios;
if (chosen.length === 0) {
  console.error(`unknown scenario; valid: ${scenarios.map((s) => s.name).join(', ')}`);
  process.exit(2);
}
const rows: Row[] = [];
for (const scenario of chosen) {
  process.stderr.write(`running ${scenario.name}…\n`);
  rows.push(...(await scenario.run()));
}
const table = formatTable(rows);
const header = `Measured ${new Date().toISOString()} on ${process.platform} ${process.arch}, node ${process.version}; medians of whole-process runs.\n\n`;
console.log(table);
writeFileSync(join(ROOT, 'bench', 'RESULTS.md'), `${header}${table}\n`);
