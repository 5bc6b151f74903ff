import { spawnSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dropDatabase, freshDatabase } from './ledger.js';
import { BIN, median, timeProcess, type Row, type Scenario } from './harness.js';

const N = 1_000_000;
/** Every tenth event is a chat message from 2024: what a 400-day retention policy erases. */
const ERASED = N / 10;

async function writeInput(path: string): Promise<void> {
  const out = createWriteStream(path);
  const old = Date.UTC(2024, 0, 1);
  const recent = Date.UTC(2026, 0, 1);
  for (let i = 0; i < N; i += 1) {
    const chat = i % 10 === 0;
    // About 330 bytes a line, as bench/events.ts: four modules, a task, a small payload.
    const event = {
      event_id: `e${i}`,
      type: chat ? 'agent.chat' : 'task.step',
      module: `m${i % 4}`,
      actor: `agent-${['planner', 'builder', 'reviewer', 'publisher'][i % 4]}-${i % 16}`,
      task_id: `task-${Math.floor(i / 20)}`,
      occurred_at: new Date((chat ? old : recent) + i * 1000).toISOString(),
      parents: i ? [`e${i - 1}`] : [],
      payload: chat
        ? { user: `user${i}@example.com`, message: 'please move my booking to Thursday afternoon' }
        : { i, ok: true, step: i % 20, note: 'step finished without error, output written' },
    };
    if (!out.write(`${JSON.stringify(event)}\n`))
      await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise((r) => out.end(r));
}

/**
 * `redact --older-than 400d --type agent.chat` erasing 100k of 1M events, and `verify` of the
 * whole store before and after (each median of 3): what erasure costs, and what it costs verify.
 */
export const redact: Scenario = {
  name: 'redact',
  async run() {
    const dir = mkdtempSync(join(tmpdir(), 'cos-db-bench-redact-'));
    await writeInput(join(dir, 'events.ndjson'));
    const url = await freshDatabase('cos_bench_redact');
    const env = {
      PATH: process.env.PATH ?? '',
      HOME: dir,
      COS_DEV_DATABASE_URL: url,
      COS_ACTOR: 'bench',
    };
    const cli = (...args: string[]) =>
      timeProcess(process.execPath, [BIN, ...args], { cwd: dir, env });
    cli('migrate', '-q');
    cli('archive', 'event', 'events.ndjson', '-q');
    spawnSync('psql', [url, '-qc', 'vacuum analyze']);
    const verify = (times: number[]) => {
      for (let i = 0; i < 3; i += 1) times.push(cli('verify', '-q'));
    };
    const before: number[] = [];
    verify(before);
    const policy = cli(
      'redact',
      '--older-than',
      '400d',
      '--type',
      'agent.chat',
      '--reason',
      'retention: chat 400 days',
      '-q',
    );
    const erased = Number(
      spawnSync('psql', [url, '-qAtc', 'select count(*) from cc.redactions'], {
        encoding: 'utf8',
      }).stdout.trim(),
    );
    if (erased !== ERASED) throw new Error(`redact erased ${erased} values, not ${ERASED}`);
    spawnSync('psql', [url, '-qc', 'vacuum analyze']);
    const after: number[] = [];
    verify(after);
    await dropDatabase('cos_bench_redact');
    rmSync(dir, { recursive: true, force: true });
    const rowsPerSecond = (ms: number, rows: number) => rows / (ms / 1000);
    return [
      {
        scenario: 'redact --older-than 400d --type agent.chat: 100k of 1M events erased (one run)',
        value: rowsPerSecond(policy, ERASED),
        unit: 'rows/s',
        baseline: '(no baseline: no other tool erases with the proof kept)',
        baselineValue: null,
        target: '(for reference)',
        met: null,
        runs: 1,
      },
      {
        scenario: 'verify, 1M events of which 100k redacted (median of 3)',
        value: median(after),
        unit: 'ms',
        baseline: 'verify of the same store before the redaction (median of 3)',
        baselineValue: median(before),
        target: '(ratio for reference)',
        met: null,
        runs: 3,
      },
    ] satisfies Row[];
  },
};
