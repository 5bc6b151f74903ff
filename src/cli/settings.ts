import { userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { findProjectRoot, type ProjectRoot } from '../config/project.js';
import { ENV_NAMES, isEnvName, type EnvName } from '../config/envs.js';
import { resolveTargets, VariableSources, type Target } from '../config/resolveTargets.js';
import { usageError } from '../errors.js';

export type GlobalOptions = {
  env?: string | undefined;
  url?: string | undefined;
  json?: boolean | undefined;
  yes?: boolean | undefined;
  quiet?: boolean | undefined;
  color?: boolean | undefined;
  verbose?: boolean | undefined;
  lockTimeout?: string | undefined;
};

/** Everything a command may know about its surroundings, validated once. Nothing else reads process.env. */
export type Settings = {
  env: EnvName;
  envSource: string;
  target: Target;
  targets: Record<EnvName, Target>;
  yes: boolean;
  lockTimeoutMs: number;
  actor: string;
  signingKeyPath: string | undefined;
  /** The agent endpoint token `cos-db mcp` speaks with (COS_TOKEN); never printed. */
  token: string | undefined;
  /** The project's root and what marked it (findProjectRoot). */
  project: ProjectRoot;
  /** Each module's migrations in a subfolder of this (the core's come from the package). */
  migrationsDir: string;
  seedsDir: string;
  cwd: string;
};

function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}

export function loadSettings(
  options: GlobalOptions,
  processEnv: Record<string, string | undefined>,
  cwd: string,
): Settings {
  const problems: string[] = [];
  let env: EnvName = 'dev';
  let envSource = 'default';
  if (options.env !== undefined) {
    if (isEnvName(options.env)) {
      env = options.env;
      envSource = '--env';
    } else
      problems.push(`--env: unknown environment "${options.env}"; valid: ${ENV_NAMES.join(', ')}`);
  } else if (processEnv.COS_ENV !== undefined && processEnv.COS_ENV !== '') {
    if (isEnvName(processEnv.COS_ENV)) {
      env = processEnv.COS_ENV;
      envSource = 'COS_ENV';
    } else
      problems.push(
        `COS_ENV: unknown environment "${processEnv.COS_ENV}"; valid: ${ENV_NAMES.join(', ')}`,
      );
  }
  const project = findProjectRoot(cwd);
  // Read like every other variable: .env.<env>, the environment, .env (of the project).
  const vars = new VariableSources(project.root, processEnv);
  const variable = (name: string) => vars.get(name, env)?.value;
  const lockRaw = options.lockTimeout ?? variable('COS_LOCK_TIMEOUT') ?? '60';
  const lockSeconds = Number(lockRaw);
  if (!Number.isFinite(lockSeconds) || lockSeconds < 0) {
    problems.push(`--lock-timeout: "${lockRaw}" is not a number of seconds`);
  }
  if (problems.length > 0) {
    throw usageError(
      problems.length === 1
        ? (problems[0] as string)
        : `invalid options:\n  ${problems.join('\n  ')}`,
    );
  }
  const targets = resolveTargets({
    cwd,
    projectRoot: project.root,
    processEnv,
    url: options.url,
    urlEnv: env,
  });
  const dirOf = (name: string, fallback: string) => {
    const found = variable(name);
    return found ? resolve(project.root, found) : join(project.root, fallback);
  };
  const signingKey = variable('COS_SIGNING_KEY');
  return {
    env,
    envSource,
    target: targets[env],
    targets,
    yes: options.yes ?? false,
    lockTimeoutMs: lockSeconds * 1000,
    actor: variable('COS_ACTOR') ?? osUser(),
    signingKeyPath: signingKey ? resolve(project.root, signingKey) : undefined,
    token: variable('COS_TOKEN'),
    project,
    migrationsDir: dirOf('COS_MIGRATIONS_DIR', 'migrations'),
    seedsDir: dirOf('COS_SEEDS_DIR', 'seeds'),
    cwd,
  };
}
