import { describe, expect, it } from 'vitest';
import { buildProgram, type Invocation } from '../../src/cli/program.js';

/** What a command line parses to, with the command named by its path. */
type Parsed = Omit<Invocation, 'command'> & { command: string };

async function parse(argv: string[]): Promise<Parsed> {
  let seen: Parsed | undefined;
  const program = buildProgram(async (invocation) => {
    seen = { ...invocation, command: invocation.command.path };
  }, '0.0.0');
  program.exitOverride();
  program.configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
  await program.parseAsync(['node', 'cos-db', ...argv]);
  if (!seen) throw new Error('nothing dispatched');
  return seen;
}

describe('argv → invocation', () => {
  const cases: Array<[string[], Partial<Parsed>]> = [
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
  const cases: Array<[string[], Partial<Parsed>]> = [
    [['migrate'], { command: 'migrate up', options: {} }],
    [
      ['migrate', '--to', 'x', '--dry-run'],
      { command: 'migrate up', options: { to: 'x', dryRun: true } },
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

describe('the command registry', () => {
  it('lists every command file once, and each path once', async () => {
    const { readdirSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { COMMANDS } = await import('../../src/cli/commands/index.js');
    const dir = join(import.meta.dirname, '../../src/cli/commands');
    const files = (readdirSync(dir, { recursive: true }) as string[]).filter(
      (f) => f.endsWith('.ts') && f !== 'index.ts',
    );
    for (const file of files) {
      const { default: command } = (await import(join(dir, file))) as { default: unknown };
      expect(COMMANDS, file).toContain(command);
    }
    expect(COMMANDS.length).toBe(files.length);
    expect(new Set(COMMANDS.map((c) => c.path)).size).toBe(COMMANDS.length);
  });

  it('passes positional arguments as declared: variadic as a list, a missing optional as undefined', async () => {
    expect((await parse(['archive', 'prd', 'a.md', 'b.md'])).args).toEqual([['a.md', 'b.md']]);
    expect((await parse(['diff', 'prd', 'x'])).args).toEqual(['x', undefined, undefined]);
  });
});
