import { Command as Commander, Option } from 'commander';
import { ENV_NAMES } from '../config/envs.js';
import { EXIT_CODE_HELP } from '../errors.js';
import { optionFlags, type Command } from './command.js';
import { COMMANDS, GROUPS } from './commands/index.js';
import type { GlobalOptions } from './settings.js';

/** A parsed command line: the command to run, its positional arguments and options. */
export type Invocation = {
  command: Command;
  args: unknown[];
  options: Record<string, unknown>;
  globals: GlobalOptions;
};

export type Dispatch = (invocation: Invocation) => Promise<void>;

/**
 * The whole command surface, built from the commands' own declarations (commands/index.ts).
 * Loading it imports no command's domain code: that is imported when the command runs.
 */
export function buildProgram(
  dispatch: Dispatch,
  version: string,
  commands: readonly Command[] = COMMANDS,
): Commander {
  const program = new Commander('cos-db')
    .description(
      `Admin tool for the COS L4 canonical store (PostgreSQL). Version ${version}: cos-db --version`,
    )
    // Not commander's .version(): its --version would swallow `query prd ID --version N`.
    // main() answers a bare `cos-db --version` / `-V` itself.
    .addOption(
      new Option('-e, --env <name>', 'environment (else COS_ENV, else dev)').choices(ENV_NAMES),
    )
    .option('--url <url>', 'connection URL for the selected env (postgres://… or pglite:<dir>)')
    .option('--json', 'print one JSON document on stdout')
    .option('-y, --yes', 'confirm destructive work (required on prod)')
    .option('-q, --quiet', 'print nothing but results and errors')
    .option('--no-color', 'no colour (also when NO_COLOR is set or stdout is not a terminal)')
    .option('--verbose', 'show stack traces and SQL on errors')
    .option('--lock-timeout <seconds>', 'how long to wait for a lock held by another run')
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText('after', `\n${EXIT_CODE_HELP}`);

  // A group's own command (`migrate`) has no options: commander would let a parent's --module
  // swallow the same option given to `migrate rollback`. Its default subcommand runs instead.
  const groups = new Map<string, Commander>();
  const parentOf = (path: string): { parent: Commander; name: string } => {
    const words = path.split(' ');
    if (words.length === 1) return { parent: program, name: path };
    const [group = '', name = ''] = words;
    let parent = groups.get(group);
    if (!parent) {
      parent = program.command(group).description(GROUPS[group] ?? '');
      groups.set(group, parent);
    }
    return { parent, name };
  };

  for (const command of commands) {
    const { parent, name } = parentOf(command.path);
    const sub = parent
      .command([name, ...command.args].join(' '), command.isDefault ? { isDefault: true } : {})
      .description(command.description);
    for (const [key, spec] of Object.entries(command.options))
      sub.option(optionFlags(key, spec), spec.description);
    sub.action(async (...received: unknown[]) => {
      const self = received[received.length - 1] as Commander;
      await dispatch({
        command,
        args: received.slice(0, -2),
        options: self.opts(),
        globals: program.opts(),
      });
    });
  }
  return program;
}
