import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const BIN = `${ROOT}/bin/cos-db.js`;

export type Row = {
  scenario: string;
  /** Median of the runs, in ms, or a rate when unit says so. */
  value: number;
  unit: 'ms' | 'rows/s' | 'MB' | 'B';
  baseline: string;
  baselineValue: number | null;
  /** Human statement of the target and whether it was met. */
  target: string;
  met: boolean | null;
  runs: number;
};

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Wall time of a whole process, in ms. Throws if it fails, so a broken scenario is never timed. */
export function timeProcess(
  command: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {},
): number {
  const start = process.hrtime.bigint();
  const result = spawnSync(command, args, {
    cwd: options.cwd ?? ROOT,
    env: options.env ?? process.env,
    input: options.input,
    stdio: ['pipe', 'pipe', 'pipe'],
    maxBuffer: 1024 * 1024 * 1024,
  });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.status !== 0) {
    throw new Error(
      `${command} ${args.join(' ')} exited ${result.status}: ${result.stderr?.toString().slice(0, 2000)}`,
    );
  }
  return ms;
}

/** Runs fn n times (after one warm-up unless told not to) and returns the median. */
export function medianOf(n: number, fn: (i: number) => number, warmup = true): number {
  if (warmup) fn(-1);
  const values: number[] = [];
  for (let i = 0; i < n; i += 1) values.push(fn(i));
  return median(values);
}

export function formatTable(rows: Row[]): string {
  const fmt = (v: number | null, unit: string) =>
    v === null
      ? '-'
      : unit === 'ms'
        ? `${v.toFixed(0)} ms`
        : unit === 'rows/s'
          ? `${Math.round(v).toLocaleString('en-US')} rows/s`
          : `${v.toFixed(0)} ${unit}`;
  const lines = [
    '| scenario | cos-db (median) | baseline | baseline (median) | ratio | target | met |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    const ratio = r.baselineValue === null ? '-' : (r.value / r.baselineValue).toFixed(2);
    lines.push(
      `| ${r.scenario} | ${fmt(r.value, r.unit)} | ${r.baseline} | ${fmt(r.baselineValue, r.unit)} | ${ratio} | ${r.target} | ${r.met === null ? '-' : r.met ? 'yes' : 'NO'} |`,
    );
  }
  return lines.join('\n');
}

export type Scenario = { name: string; run(): Promise<Row[]> };
