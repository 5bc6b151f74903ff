import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import pg from 'pg';
import { dropDatabase, freshDatabase } from './ledger.js';
import { BIN, type Row, type Scenario } from './harness.js';

const AGENTS = 32;
const PER_AGENT = 250;
/** Seconds of load on the endpoint, after two of warm-up. */
const DURATION = 10;
const SPAWNED = 96;

/** An event as an agent sends it: about 330 bytes, as bench/events.ts. */
const event = (agent: number, i: number) => ({
  event_id: `a${agent}-e${i}`,
  type: 'task.step',
  module: 'agents',
  task_id: `task-${agent}-${Math.floor(i / 20)}`,
  occurred_at: new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString(),
  payload: { i, ok: true, step: i % 20, note: 'step finished without error, output written' },
});

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;

/** Runs `agents` workers, each doing `each` calls of fn in turn; rate and latency percentiles. */
async function load(
  agents: number,
  each: number,
  fn: (agent: number, i: number) => Promise<void>,
): Promise<{ rate: number; p50: number; p99: number }> {
  const latencies: number[] = [];
  const start = performance.now();
  await Promise.all(
    Array.from({ length: agents }, async (_, a) => {
      for (let i = 0; i < each; i += 1) {
        const t = performance.now();
        await fn(a, i);
        latencies.push(performance.now() - t);
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  latencies.sort((x, y) => x - y);
  return {
    rate: (agents * each) / seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
  };
}

function startServe(env: NodeJS.ProcessEnv, cwd: string) {
  const child = spawn(
    process.execPath,
    [BIN, 'serve', '--port', '0', '--rate-limit', '0', '--pool', '16'],
    { cwd, env, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  return new Promise<{ url: string; stop: () => void }>((resolve, reject) => {
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      const m = /listening on (\S+)/.exec(stderr);
      if (m?.[1]) resolve({ url: m[1], stop: () => child.kill('SIGTERM') });
    });
    child.on('exit', (code) => reject(new Error(`serve exited ${code}: ${stderr}`)));
  });
}

/**
 * The agent endpoint: 32 agents appending single events over HTTP (keep-alive, each its own
 * token), beside the same events appended by spawning `cos-db archive event` per event (what
 * an agent does without the endpoint) and beside plain INSERTs of the same rows by 32 clients
 * through a pool with no hashing (the floor), all into one chain.
 */
export const endpoint: Scenario = {
  name: 'endpoint',
  async run() {
    const dir = mkdtempSync(join(tmpdir(), 'cos-db-bench-endpoint-'));
    const name = 'cos_bench_endpoint';
    const url = await freshDatabase(name);
    const env = {
      PATH: process.env.PATH ?? '',
      HOME: dir,
      COS_DEV_DATABASE_URL: url,
      COS_ACTOR: 'bench',
    };
    const cli = (args: string[], input?: string) => {
      const r = spawnSync(process.execPath, [BIN, ...args], { cwd: dir, env, input });
      if (r.status !== 0) throw new Error(`cos-db ${args.join(' ')}: ${r.stderr.toString()}`);
      return r.stdout.toString();
    };
    cli(['migrate', '-q']);
    const tokens = Array.from({ length: AGENTS }, (_, a) => {
      const made = JSON.parse(
        cli(['token', 'create', '--agent', `agent-${a}`, '--scope', 'append', '--json']),
      ) as { token: string };
      return made.token;
    });
    const server = await startServe(env, dir);
    let http: { rate: number; p50: number; p99: number; sent: number };
    try {
      // autocannon: one keep-alive connection per agent, each with its own token and new ids.
      let connections = 0;
      let sequence = 0;
      const fire = (duration: number) =>
        autocannon({
          url: server.url,
          connections: AGENTS,
          duration,
          requests: [
            {
              method: 'POST',
              path: '/v1/events',
              setupRequest: (request, context) => {
                const agent = ((context as { agent?: number }).agent ??= connections++ % AGENTS);
                sequence += 1;
                return {
                  ...request,
                  headers: {
                    authorization: `Bearer ${tokens[agent]}`,
                    'content-type': 'application/json',
                  },
                  body: JSON.stringify(event(agent, sequence)),
                };
              },
            },
          ],
        });
      await fire(2);
      const result = await fire(DURATION);
      if (result.non2xx > 0 || result.errors > 0)
        throw new Error(`${result.non2xx} non-2xx answers, ${result.errors} errors`);
      http = {
        rate: result.requests.average,
        p50: result.latency.p50,
        p99: result.latency.p99,
        sent: result.requests.total,
      };
    } finally {
      server.stop();
    }

    // What an agent does today: a process and a connection per event.
    const spawned = await load(
      AGENTS,
      SPAWNED / AGENTS,
      (a, i) =>
        new Promise<void>((resolve, reject) => {
          const child = spawn(process.execPath, [BIN, 'archive', 'event', '-', '-q'], {
            cwd: dir,
            env: { ...env, COS_ACTOR: `agent-${a}` },
            stdio: ['pipe', 'ignore', 'ignore'],
          });
          child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`exit ${code}`))));
          child.stdin.end(JSON.stringify(event(a, 100_000 + i)));
        }),
    );

    // The floor: the same rows inserted one statement each, no hashing, no chain.
    const pool = new pg.Pool({ connectionString: url, max: AGENTS });
    await pool.query(`create table bench_plain (event_id text primary key, type text not null,
      module text, actor text, task_id text, occurred_at timestamptz not null,
      payload jsonb not null, recorded_at timestamptz not null default now())`);
    const plain = await load(AGENTS, PER_AGENT, async (a, i) => {
      const e = event(a, i);
      await pool.query(
        'insert into bench_plain (event_id, type, module, actor, task_id, occurred_at, payload) values ($1, $2, $3, $4, $5, $6, $7)',
        [e.event_id, e.type, e.module, `agent-${a}`, e.task_id, e.occurred_at, e.payload],
      );
    });
    await pool.end();
    await dropDatabase(name);

    const runs = http.sent;
    const rows: Row[] = [
      {
        scenario: `endpoint: ${AGENTS} agents appending single events (POST /v1/events)`,
        value: http.rate,
        unit: 'rows/s',
        baseline: `spawning \`cos-db archive event\` per event (${AGENTS} at a time)`,
        baselineValue: spawned.rate,
        target: '≥ 50× the spawn-per-event rate',
        met: http.rate >= 50 * spawned.rate,
        runs,
      },
      {
        scenario: `endpoint: ${AGENTS} agents appending single events (POST /v1/events)`,
        value: http.rate,
        unit: 'rows/s',
        baseline: `plain INSERTs of the same rows, ${AGENTS} pooled clients, no hashing`,
        baselineValue: plain.rate,
        target: '≥ 0.5× the plain insert rate',
        met: http.rate >= 0.5 * plain.rate,
        runs,
      },
      {
        scenario: `endpoint: p50 latency at ${AGENTS} agents`,
        value: http.p50,
        unit: 'ms',
        baseline: 'plain INSERT p50',
        baselineValue: plain.p50,
        target: '-',
        met: null,
        runs,
      },
      {
        scenario: `endpoint: p99 latency at ${AGENTS} agents`,
        value: http.p99,
        unit: 'ms',
        baseline: 'plain INSERT p99',
        baselineValue: plain.p99,
        target: '< 50 ms',
        met: http.p99 < 50,
        runs,
      },
    ];
    return rows;
  },
};
