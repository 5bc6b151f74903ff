import { spawn, spawnSync } from 'node:child_process';
import { createPrivateKey } from 'node:crypto';
import { createWriteStream, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dropDatabase, freshDatabase, open } from './ledger.js';
import { BIN, median, timeProcess, type Row, type Scenario } from './harness.js';
import { TreeReader } from '../src/integrity/merkleTree.js';
import { storedTree } from '../src/integrity/proofs.js';
import { signTreeHeads } from '../src/integrity/treeHeads.js';

/** Events of the append-rate pairs: about 330-byte lines, four modules, as bench/events.ts. */
const APPENDED = 300_000;
/** Rows of the one chain a proof is taken from. */
const CHAIN = 5_000_000;

async function writeLines(path: string, n: number, line: (i: number) => string): Promise<void> {
  const out = createWriteStream(path);
  for (let i = 0; i < n; i += 1)
    if (!out.write(line(i))) await new Promise<void>((r) => out.once('drain', () => r()));
  await new Promise((r) => out.end(r));
}

const event = (i: number) =>
  `${JSON.stringify({
    event_id: `e${i}`,
    type: i % 10 === 0 ? 'task.completed' : 'task.step',
    module: `m${i % 4}`,
    actor: `agent-${['planner', 'builder', 'reviewer', 'publisher'][i % 4]}-${i % 16}`,
    task_id: `task-${Math.floor(i / 20)}`,
    occurred_at: new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString(),
    parents: i ? [`e${i - 1}`] : [],
    payload: { i, ok: true, step: i % 20, note: 'step finished without error, output written' },
  })}\n`;

/**
 * The Merkle tree's costs (#21): import rate with the tree kept, beside the same import with
 * its trigger disabled (pairs alternated, medians); then one record's proof in a chain of 5M
 * rows: its size, `prove`'s own work, `prove` and `verify-proof` as whole processes.
 */
export const merkle: Scenario = {
  name: 'merkle',
  async run() {
    const dir = mkdtempSync(join(tmpdir(), 'cos-db-bench-merkle-'));
    const env = (url: string) => ({
      PATH: process.env.PATH ?? '',
      HOME: dir,
      COS_DEV_DATABASE_URL: url,
      COS_ACTOR: 'bench',
    });
    const cli = (url: string, ...args: string[]) =>
      timeProcess(process.execPath, [BIN, ...args], { cwd: dir, env: env(url) });

    await writeLines(join(dir, 'events.ndjson'), APPENDED, event);
    const withTree: number[] = [];
    const without: number[] = [];
    for (let pair = 0; pair < 5; pair += 1) {
      for (const tree of [true, false]) {
        const url = await freshDatabase('cos_bench_merkle_rate');
        cli(url, 'migrate', '-q');
        if (!tree)
          spawnSync('psql', [url, '-qc', 'alter table cc.events disable trigger cos_merkle']);
        (tree ? withTree : without).push(cli(url, 'archive', 'event', 'events.ndjson', '-q'));
        await dropDatabase('cos_bench_merkle_rate');
      }
    }
    const rate = (ms: number) => APPENDED / (ms / 1000);

    // One chain of 5M rows, fed through a pipe (a 5M-line file would be half a gigabyte).
    const url = await freshDatabase('cos_bench_merkle_chain');
    cli(url, 'migrate', '-q');
    await new Promise<void>((resolve, reject) => {
      const child = spawn(process.execPath, [BIN, 'archive', 'event', '-', '-q'], {
        cwd: dir,
        env: env(url),
        stdio: ['pipe', 'ignore', 'inherit'],
      });
      child.on('error', reject);
      child.on('exit', (code) =>
        code === 0 ? resolve() : reject(new Error(`import exit ${code}`)),
      );
      void (async () => {
        for (let i = 0; i < CHAIN; i += 1) {
          // The events of the rate pairs (about 330-byte lines), all on one chain.
          const line = event(i).replace(/"module":"m\d"/, '"module":"one"');
          if (!child.stdin.write(line)) await new Promise((r) => child.stdin.once('drain', r));
        }
        child.stdin.end();
      })();
    });
    cli(url, 'keygen', '--out', join(dir, 'k'));
    // The head is signed from the stored tree (verify --write-checkpoint would first re-read all 5M rows).
    const proveWork: number[] = [];
    await open(url, async (db) => {
      const reader = new TreeReader(storedTree(db.knex, 'cc.events', 'one'));
      const root = await reader.root(0n, BigInt(CHAIN));
      await signTreeHeads(
        db.knex,
        [
          {
            table: 'cc.events',
            chain: 'one',
            size: CHAIN,
            root: Buffer.from(root).toString('hex'),
          },
        ],
        createPrivateKey(readFileSync(join(dir, 'k'), 'utf8')),
      );
      for (let i = 0; i < 21; i += 1) {
        const start = process.hrtime.bigint();
        await reader.inclusion(BigInt((i * 2_345_677) % CHAIN), BigInt(CHAIN));
        proveWork.push(Number(process.hrtime.bigint() - start) / 1e6);
      }
    });
    const proof = join(dir, 'one.proof');
    const prove: number[] = [];
    const ping: number[] = [];
    for (let i = 0; i < 10; i += 1) {
      prove.push(cli(url, 'prove', `e${(i * 499_979) % CHAIN}`, '--out', proof));
      ping.push(cli(url, 'ping'));
    }
    const size = statSync(proof).size;
    cli(url, 'prove', 'e4999999', '--with-payload', '--out', proof);
    const withPayload = statSync(proof).size;
    const node: number[] = [];
    const check: number[] = [];
    for (let i = 0; i < 15; i += 1) {
      node.push(timeProcess(process.execPath, ['-e', '0'], { cwd: dir }));
      check.push(
        timeProcess(process.execPath, [BIN, 'verify-proof', proof, '--key', join(dir, 'k.pub')], {
          cwd: dir,
        }),
      );
    }
    await dropDatabase('cos_bench_merkle_chain');
    rmSync(dir, { recursive: true, force: true });
    const ratio = rate(median(withTree)) / rate(median(without));
    return [
      {
        scenario: `archive event, ${APPENDED.toLocaleString('en-US')} events (4 chains), tree kept (5 pairs, alternated)`,
        value: rate(median(withTree)),
        unit: 'rows/s',
        baseline: 'the same import with no tree (its trigger and table dropped)',
        baselineValue: rate(median(without)),
        target: '≥ 0.9× baseline',
        met: ratio >= 0.9,
        runs: 5,
      },
      {
        scenario: `proof of one record (a 330-byte event) in a chain of ${CHAIN.toLocaleString('en-US')} rows: size`,
        value: size,
        unit: 'B',
        baseline: '-',
        baselineValue: null,
        target: '≤ 2048 B',
        met: size <= 2048,
        runs: 1,
      },
      {
        scenario:
          "the last record of the chain with --with-payload (its payload and salt; a shorter path, at the tree's right edge)",
        value: withPayload,
        unit: 'B',
        baseline: '-',
        baselineValue: null,
        target: '(grows with the payload)',
        met: null,
        runs: 1,
      },
      {
        scenario:
          "prove's own work (the audit path from the stored tiles), 5M-row chain (median of 21)",
        value: median(proveWork),
        unit: 'ms',
        baseline: '-',
        baselineValue: null,
        target: '≤ 50 ms',
        met: median(proveWork) <= 50,
        runs: 21,
      },
      {
        scenario: 'cos-db prove, whole process, 5M-row chain (median of 10)',
        value: median(prove),
        unit: 'ms',
        baseline: 'cos-db ping (start-up and a connection)',
        baselineValue: median(ping),
        target: '(for reference)',
        met: null,
        runs: 10,
      },
      {
        scenario: 'cos-db verify-proof, whole process (median of 15)',
        value: median(check),
        unit: 'ms',
        baseline: 'node -e 0',
        baselineValue: median(node),
        target: '≤ baseline + 20 ms',
        met: median(check) <= median(node) + 20,
        runs: 15,
      },
    ] satisfies Row[];
  },
};
