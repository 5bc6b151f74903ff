import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, medianOf, timeProcess, type Scenario } from './harness.js';

const node = process.execPath;

export const startup: Scenario = {
  name: 'startup',
  async run() {
    const runs = 15;
    const cwd = mkdtempSync(join(tmpdir(), 'cos-db-bench-'));
    const env = { PATH: process.env.PATH ?? '', HOME: cwd };
    const base = medianOf(runs, () => timeProcess(node, ['-e', '0'], { cwd, env }));
    const help = medianOf(runs, () => timeProcess(node, [BIN, '--help'], { cwd, env }));
    const envCmd = medianOf(runs, () =>
      timeProcess(node, [BIN, 'env', '--no-check'], { cwd, env }),
    );
    // A new embedded store each run: creation from the pre-built template.
    const create = medianOf(5, (i) => {
      const dir = join(cwd, `new-${i}`);
      const ms = timeProcess(node, [BIN, '--url', `pglite:${dir}`, 'ping'], { cwd, env });
      rmSync(dir, { recursive: true, force: true });
      return ms;
    });
    const existing = join(cwd, 'existing');
    timeProcess(node, [BIN, '--url', `pglite:${existing}`, 'ping'], { cwd, env });
    const open = medianOf(7, () =>
      timeProcess(node, [BIN, '--url', `pglite:${existing}`, 'ping'], { cwd, env }),
    );
    rmSync(cwd, { recursive: true, force: true });
    return [
      {
        scenario: 'cos-db --help',
        value: help,
        unit: 'ms',
        baseline: 'node -e 0',
        baselineValue: base,
        target: '≤ 1.5× baseline',
        met: help <= 1.5 * base,
        runs,
      },
      {
        scenario: 'cos-db env',
        value: envCmd,
        unit: 'ms',
        baseline: 'node -e 0',
        baselineValue: base,
        target: 'no knex/pg/PGlite loaded',
        met: null,
        runs,
      },
      {
        scenario: 'ping, new embedded store',
        value: create,
        unit: 'ms',
        baseline: '-',
        baselineValue: null,
        target: '≤ 2000 ms',
        met: create <= 2000,
        runs: 5,
      },
      {
        scenario: 'ping, existing embedded store',
        value: open,
        unit: 'ms',
        baseline: '-',
        baselineValue: null,
        target: '≤ 1500 ms',
        met: open <= 1500,
        runs: 7,
      },
    ];
  },
};
