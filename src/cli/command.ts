import type { EachRow } from '../db/eachRow.js';
import type { Database } from '../db/withDatabase.js';
import type { Output } from './output.js';
import type { Settings } from './settings.js';
import type { WithDbOptions } from './withDb.js';

/** A boolean option: `--name`, or `--no-name` when negatable (then true unless given). */
export type FlagOption = { kind: 'flag'; description: string; negatable?: boolean };
/** An option with a value: `--name <placeholder>`, a string as typed (parsed by the command). */
export type ValueOption = { kind: 'value'; placeholder: string; description: string };
export type OptionSpec = FlagOption | ValueOption;
export type OptionSpecs = Record<string, OptionSpec>;

export const flag = (description: string): FlagOption => ({ kind: 'flag', description });
export const negatable = (description: string): FlagOption & { negatable: true } => ({
  kind: 'flag',
  description,
  negatable: true,
});
export const value = (placeholder: string, description: string): ValueOption => ({
  kind: 'value',
  placeholder,
  description,
});

/** What the parsed options look like, derived from their declaration: never typed by hand. */
export type OptionsOf<O extends OptionSpecs> = {
  [K in keyof O]: O[K] extends { negatable: true }
    ? boolean
    : O[K] extends FlagOption
      ? boolean | undefined
      : string | undefined;
};

/** A positional argument as commander spells it: `<id>`, `[id]`, `<files...>`. */
type ArgValue<S> = S extends `${string}...${string}`
  ? string[]
  : S extends `<${string}>`
    ? string
    : string | undefined;
export type ArgsOf<A extends readonly string[]> = { -readonly [I in keyof A]: ArgValue<A[I]> };

/** Everything a command's run gets: its parsed input, the validated settings, the output. */
export type CommandContext<O extends OptionSpecs, A extends readonly string[]> = {
  /** The command path, e.g. "migrate status". */
  command: string;
  args: ArgsOf<A>;
  options: OptionsOf<O>;
  settings: Settings;
  out: Output;
  /** The selected env's database, opened for fn and closed after (see withDb). */
  withDb<T>(fn: (db: Database) => Promise<T>, options?: WithDbOptions): Promise<T>;
  /** The database as rows only: on a server, no knex loaded (see withDbRows). */
  withDbRows<T>(fn: (eachRow: EachRow) => Promise<T>): Promise<T>;
};

/**
 * One command: its path, help, arguments and options, declared once, and its run, which returns
 * the exit code when it is not 0. Its domain code is imported inside run (`await import`), so a
 * command's module costs nothing until it runs and `--help` stays as fast as node itself.
 */
export type CommandSpec<O extends OptionSpecs, A extends readonly string[]> = {
  path: string;
  description: string;
  args?: A;
  options?: O;
  /** The group's default subcommand (`cos-db migrate` is `cos-db migrate up`). */
  isDefault?: boolean;
  run(context: CommandContext<O, A>): Promise<number | void>;
};

/** A command with its types erased, as the registry holds it. */
export type Command = {
  path: string;
  description: string;
  args: readonly string[];
  options: OptionSpecs;
  isDefault: boolean;
  run(context: CommandContext<OptionSpecs, readonly string[]>): Promise<number | void>;
};

export function defineCommand<
  const O extends OptionSpecs = Record<never, never>,
  const A extends readonly string[] = [],
>(spec: CommandSpec<O, A>): Command {
  return {
    path: spec.path,
    description: spec.description,
    args: spec.args ?? [],
    options: spec.options ?? {},
    isDefault: spec.isDefault ?? false,
    run: spec.run as Command['run'],
  };
}

/** `batchSize` → `--batch-size <n>`: the flag is spelled from the key commander will give back. */
export function optionFlags(key: string, spec: OptionSpec): string {
  const name = key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
  if (spec.kind === 'flag') return spec.negatable ? `--no-${name}` : `--${name}`;
  return `--${name} ${spec.placeholder}`;
}
