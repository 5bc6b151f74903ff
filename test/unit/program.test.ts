import { describe, expect, it } from 'vitest';
import { buildProgram, type Invocation } from '../../src/cli/program.js';

async function parse(argv: string[]): Promise<Invocation> {
  let seen: Invocation | undefined;
  const program = buildProgram(async (invocation) => {
    seen = invocation;
  }, '0.0.0');
  program.exitOverride();
  program.configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
  await program.parseAsync(['node', 'cos-db', ...argv]);
  if (!seen) throw new Error('nothing dispatched');
  return seen;
}

describe('argv → invocation', () => {
  const cases: Array<[string[], Partial<Invocation>]> = [
    [['env'], { command: 'env', args: [], options: { check: true } }],
    [
      ['--json', 'env', '--no-check'],
      { command: 'env', options: { check: false }, globals: { json: true, color: true } },
    ],
    [
      ['--env', 'test', 'ping', '--wait', '3'],
      { command: 'ping', options: { wait: '3' }, globals: { env: 'test', color: true } },
    ],
    [
      ['-e', 'prod', '--url', 'postgres://x/y', '-y', 'ping'],
      { command: 'ping', globals: { env: 'prod', url: 'postgres://x/y', yes: true, color: true } },
    ],
  ];
  for (const [argv, expected] of cases) {
    it(argv.join(' '), async () => {
      expect(await parse(argv)).toMatchObject(expected);
    });
  }

  it('rejects an unknown env, listing the valid ones', async () => {
    await expect(parse(['--env', 'staging', 'env'])).rejects.toThrow(
      /Allowed choices are prod, dev, test/,
    );
  });
});

describe('help cache', () => {
  it('dist/help.txt is exactly what commander prints for --help', async () => {
    const { readFileSync } = await import('node:fs');
    const { renderTopHelp, HELP_CACHE } = await import('../../src/cli/helpCache.js');
    const { packageRoot } = await import('../../src/packageRoot.js');
    const { join } = await import('node:path');
    const root = packageRoot();
    const version = (
      JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }
    ).version;
    expect(readFileSync(join(root, HELP_CACHE), 'utf8')).toBe(renderTopHelp(version));
  });
});

describe('migrate subcommands own their options', () => {
  const cases: Array<[string[], Partial<Invocation>]> = [
    [['migrate'], { command: 'migrate', options: {} }],
    [
      ['migrate', '--to', 'x', '--dry-run'],
      { command: 'migrate', options: { to: 'x', dryRun: true } },
    ],
    [
      ['migrate', 'rollback', '--module', 'm', '--step', '2'],
      { command: 'migrate rollback', options: { module: 'm', step: '2' } },
    ],
    [
      ['migrate', 'status', '--check', '--json'],
      { command: 'migrate status', options: { check: true }, globals: { json: true, color: true } },
    ],
    [
      ['migrate', 'make', 'add_x', '--module', 'm'],
      { command: 'migrate make', args: ['add_x'], options: { module: 'm' } },
    ],
    [
      ['schema', 'drop', 'm', '--cascade'],
      { command: 'schema drop', args: ['m'], options: { cascade: true } },
    ],
  ];
  for (const [argv, expected] of cases) {
    it(argv.join(' '), async () => {
      expect(await parse(argv)).toMatchObject(expected);
    });
  }
});
