import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dropDatabase, freshDatabase } from './ledger.js';
import { BIN, median, type Scenario } from './harness.js';

/** About 10 KB of plausible markdown. */
function prdText(i: number): string {
  const para = `Requirement ${i}: the system shall record every change with its author and reason, and show it in the history view. `;
  return `---\nid: prd-${i}\ntitle: PRD ${i}\nstatus: draft\n---\n# PRD ${i}\n\n${Array.from({ length: 85 }, (_, k) => `${k % 10 === 0 ? `\n## Section ${k / 10}\n\n` : ''}${para}`).join('')}\n`;
}

function timed(command: string, args: string[], env: NodeJS.ProcessEnv, cwd: string): number {
  const start = process.hrtime.bigint();
  const r = spawnSync(command, args, { env, cwd, encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0)
    throw new Error(`${command} ${args.slice(0, 3).join(' ')} failed: ${r.stderr}`);
  return Number(process.hrtime.bigint() - start) / 1e6;
}

export const prd: Scenario = {
  name: 'prd',
  async run() {
    const dir = mkdtempSync(join(tmpdir(), 'cos-db-bench-prd-'));
    const files: string[] = [];
    for (let i = 0; i < 1000; i += 1) {
      const name = `prd-${String(i).padStart(4, '0')}.md`;
      writeFileSync(join(dir, name), prdText(i));
      files.push(name);
    }
    // The same files as CSV for psql's \copy (prepared, not timed): id and content.
    const csv = files
      .map(
        (f) =>
          `${f.replace(/\.md$/, '')},"${readFileSync(join(dir, f), 'utf8').replace(/"/g, '""')}"`,
      )
      .join('\n');
    writeFileSync(join(dir, 'prds.csv'), `${csv}\n`);
    const cos: number[] = [];
    const copy: number[] = [];
    for (let run = 0; run < 3; run += 1) {
      const url = await freshDatabase('cos_bench_prd');
      const env = { PATH: process.env.PATH ?? '', HOME: dir, COS_DEV_DATABASE_URL: url };
      timed(process.execPath, [BIN, 'migrate', '-q'], env, dir);
      timed(
        'psql',
        [url, '-qc', 'create table plain_prd (prd_id text primary key, content text not null)'],
        env,
        dir,
      );
      cos.push(timed(process.execPath, [BIN, 'archive', 'prd', '-q', ...files], env, dir));
      copy.push(
        timed(
          'psql',
          [
            url,
            '-qc',
            `\\copy plain_prd (prd_id, content) from '${join(dir, 'prds.csv')}' with (format csv)`,
          ],
          env,
          dir,
        ),
      );
    }
    await dropDatabase('cos_bench_prd');
    rmSync(dir, { recursive: true, force: true });
    const value = median(cos);
    const base = median(copy);
    return [
      {
        scenario: 'archive prd, 1,000 files of ~10 KB (one command)',
        value,
        unit: 'ms',
        baseline: 'psql \\copy, plain table',
        baselineValue: base,
        target: '≤ 3× baseline',
        met: value <= 3 * base,
        runs: 3,
      },
    ];
  },
};
