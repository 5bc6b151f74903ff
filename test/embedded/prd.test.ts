import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/runCli.js';

describe('PRDs on the embedded engine', () => {
  it('byte-exact round trip (BOM, CRLF, tabs, non-ASCII), versions, and verify', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cos-db-embedded-prd-'));
    const env = { COS_DEV_DATABASE_URL: `pglite:${join(dir, 'store')}` };
    const cli = (...args: string[]) => runCli(args, { env, cwd: dir });
    const bytes = Buffer.from('\uFEFF# Título\r\n\tcon tab \r\n漢字 🚀', 'utf8');
    writeFileSync(join(dir, 'spec.md'), bytes);
    expect((await cli('migrate', '-q')).code).toBe(0);
    expect((await cli('archive', 'prd', 'spec.md')).code).toBe(0);
    const back = await cli('query', 'prd', 'spec', '--content');
    expect(Buffer.from(back.stdout, 'utf8').equals(bytes)).toBe(true);
    writeFileSync(join(dir, 'spec.md'), '# Título\n\nv2\n');
    const second = JSON.parse((await cli('archive', 'prd', 'spec.md', '--json')).stdout) as Array<{
      version: number;
      status: string;
    }>;
    expect(second[0]).toMatchObject({ version: 2, outcome: 'changed' });
    expect((await cli('verify')).code).toBe(0);
  });
});
