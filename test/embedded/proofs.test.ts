import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/runCli.js';

/** Receipts on PGlite, as the embedded default runs them: the tree's SQL is the engine's own. */
describe('Merkle trees and proofs on the embedded engine', () => {
  it('keeps the tiles, signs heads, proves a record and a later head, and refuses a changed proof', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cos-db-embedded-proofs-'));
    writeFileSync(join(dir, 'package.json'), '{}');
    const cli = (...args: string[]) => runCli(args, { cwd: dir, env: { COS_ACTOR: 'tester' } });
    const lines = (from: number, to: number) =>
      Array.from({ length: to - from }, (_, k) =>
        JSON.stringify({
          event_id: `e${from + k}`,
          type: 'step',
          module: 'agents',
          payload: { k },
        }),
      ).join('\n');
    writeFileSync(join(dir, 'a.ndjson'), lines(0, 600));
    writeFileSync(join(dir, 'b.ndjson'), lines(600, 800));
    expect((await cli('migrate', '-q')).code).toBe(0);
    expect((await cli('archive', 'event', 'a.ndjson', '-q')).code).toBe(0);
    expect((await cli('keygen', '--out', 'k')).code).toBe(0);
    const signed = await cli('verify', '--write-checkpoint', 'cp.json', '--key', 'k', '--json');
    expect(signed.code).toBe(0);
    const report = JSON.parse(signed.stdout) as {
      chains: Array<{ chain: string; root: string }>;
      tree_heads: Array<{ chain: string; size: string }>;
    };
    expect(report.tree_heads).toEqual([expect.objectContaining({ chain: 'agents', size: '600' })]);
    expect((await cli('prove', 'e300', '--out', 'e300.proof')).code).toBe(0);
    expect((await cli('verify-proof', 'e300.proof', '--key', 'k.pub')).code).toBe(0);

    expect((await cli('archive', 'event', 'b.ndjson', '-q')).code).toBe(0);
    expect((await cli('verify', '--write-checkpoint', 'cp2.json', '--key', 'k', '-q')).code).toBe(
      0,
    );
    expect((await cli('prove', '--from', 'cp.json', '--out', 'c.proof')).code).toBe(0);
    const checked = await cli('verify-proof', 'c.proof', '--key', 'k.pub', '--json');
    expect(checked.code).toBe(0);
    expect(JSON.parse(checked.stdout)).toMatchObject({ from_size: '600', to_size: '800' });

    const proof = readFileSync(join(dir, 'e300.proof'), 'utf8').split('\n');
    proof[3] = Buffer.alloc(32).toString('base64');
    writeFileSync(join(dir, 'bad.proof'), proof.join('\n'));
    expect((await cli('verify-proof', 'bad.proof', '--key', 'k.pub')).code).toBe(4);
  }, 120_000);
});
