import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { usageError } from '../errors.js';
import { ENV_DEFAULTS, ENV_NAMES, type EnvName } from './envs.js';
import { parseDotenv } from './parseDotenv.js';

export type ServerTarget = {
  env: EnvName;
  engine: 'postgres';
  /** Full connection URL. Holds the password: never print it, use maskUrl. */
  url: string;
  host: string;
  port: number;
  database: string;
  user: string | undefined;
  password: string | undefined;
  /** Where the connection as a whole came from. */
  source: string;
  /** Where each part came from. */
  parts: Record<'host' | 'port' | 'database' | 'user' | 'password', string>;
};

export type EmbeddedTarget = {
  env: EnvName;
  engine: 'embedded';
  dataDir: string;
  source: string;
  /** False when cos-db chose the embedded store because nothing was configured. */
  explicit: boolean;
};

export type Target = ServerTarget | EmbeddedTarget;

export type ConfigInput = {
  /** Where --url's relative pglite: path is resolved (the shell's folder). */
  cwd: string;
  /** The project's root (findProjectRoot): its .env files and its embedded store; else cwd. */
  projectRoot?: string | undefined;
  processEnv: Record<string, string | undefined>;
  /** --url, applied to the selected environment only. */
  url?: string | undefined;
  urlEnv?: EnvName | undefined;
};

type Found = { value: string; source: string };

/**
 * Variables are looked up in `.env.<env>`, then the process environment, then `.env`: the
 * environment-specific file is the most deliberate statement, a stray shell variable the least.
 */
export class VariableSources {
  private readonly files = new Map<string, Record<string, string>>();
  readonly problems: string[] = [];

  constructor(
    private readonly cwd: string,
    private readonly processEnv: Record<string, string | undefined>,
  ) {}

  private file(name: string): Record<string, string> {
    let values = this.files.get(name);
    if (values) return values;
    const path = join(this.cwd, name);
    values = {};
    if (existsSync(path)) {
      let text = '';
      try {
        text = readFileSync(path, 'utf8');
      } catch (error) {
        this.problems.push(`${name}: cannot be read (${(error as NodeJS.ErrnoException).code})`);
      }
      const parsed = parseDotenv(text);
      values = parsed.values;
      for (const line of parsed.bad) this.problems.push(`${name}:${line}: not a KEY=value line`);
    }
    this.files.set(name, values);
    return values;
  }

  get(name: string, env: EnvName): Found | undefined {
    const envFile = `.env.${env}`;
    const fromEnvFile = this.file(envFile)[name];
    if (fromEnvFile !== undefined && fromEnvFile !== '') {
      return { value: fromEnvFile, source: `${name} in ${envFile}` };
    }
    const fromProcess = this.processEnv[name];
    if (fromProcess !== undefined && fromProcess !== '') {
      return { value: fromProcess, source: `${name} in the environment` };
    }
    const fromDotenv = this.file('.env')[name];
    if (fromDotenv !== undefined && fromDotenv !== '') {
      return { value: fromDotenv, source: `${name} in .env` };
    }
    return undefined;
  }
}

// Checks of single values: each says what is wrong, or nothing. (Plain code rather than a schema
// library: configuration is resolved by every command, and its start-up time is the user's.)

function urlProblem(value: string): string | undefined {
  if (!/^postgres(ql)?:\/\//.test(value))
    return 'must start with postgres:// or postgresql:// (or pglite:<dir> for the embedded engine)';
  try {
    new URL(value);
  } catch {
    return 'is not a valid URL';
  }
  return undefined;
}

function portProblem(port: number): string | undefined {
  if (Number.isNaN(port)) return 'must be a number';
  if (!Number.isInteger(port)) return 'must be a whole number';
  if (port < 1 || port > 65535) return 'must be between 1 and 65535';
  return undefined;
}

function hostProblem(host: string): string | undefined {
  return /^[A-Za-z0-9._:\-[\]/]+$/.test(host) ? undefined : 'is not a valid host name';
}

const PGLITE_PREFIX = 'pglite:';

function fromUrl(env: EnvName, found: Found, cwd: string, problems: string[]): Target | undefined {
  if (found.value.startsWith(PGLITE_PREFIX)) {
    const dir = found.value.slice(PGLITE_PREFIX.length).replace(/^\/\/(?=\/)/, '');
    if (dir === '') {
      problems.push(`${found.source}: pglite: needs a directory, e.g. pglite:./.cos-db/${env}`);
      return undefined;
    }
    return {
      env,
      engine: 'embedded',
      dataDir: isAbsolute(dir) ? dir : resolve(cwd, dir),
      source: found.source,
      explicit: true,
    };
  }
  const problem = urlProblem(found.value);
  if (problem) {
    problems.push(`${found.source}: ${problem}`);
    return undefined;
  }
  const url = new URL(found.value);
  const port = url.port === '' ? 5432 : Number(url.port);
  const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
  const user = url.username === '' ? undefined : decodeURIComponent(url.username);
  const password = url.password === '' ? undefined : decodeURIComponent(url.password);
  const source = found.source;
  return {
    env,
    engine: 'postgres',
    url: found.value,
    host: url.hostname || 'localhost',
    port,
    database: database || ENV_DEFAULTS[env].database,
    user,
    password,
    source,
    parts: { host: source, port: source, database: source, user: source, password: source },
  };
}

const PART_VARIABLES = [
  'POSTGRES_HOST',
  'POSTGRES_PORT',
  'POSTGRES_DB',
  'POSTGRES_USER',
  'POSTGRES_PASSWORD',
] as const;

function fromParts(env: EnvName, vars: VariableSources, problems: string[]): Target | undefined {
  const found = Object.fromEntries(PART_VARIABLES.map((name) => [name, vars.get(name, env)])) as {
    [K in (typeof PART_VARIABLES)[number]]: Found | undefined;
  };
  const anySet = PART_VARIABLES.some((name) => found[name] !== undefined);
  if (!anySet && env !== 'prod') return undefined;

  const table = `the ${env} default`;
  let host = 'localhost';
  if (found.POSTGRES_HOST) {
    const problem = hostProblem(found.POSTGRES_HOST.value);
    if (problem) problems.push(`${found.POSTGRES_HOST.source}: ${problem}`);
    else host = found.POSTGRES_HOST.value;
  }
  let port = ENV_DEFAULTS[env].port;
  if (found.POSTGRES_PORT) {
    const value = Number(found.POSTGRES_PORT.value);
    const problem = portProblem(value);
    if (problem) problems.push(`${found.POSTGRES_PORT.source}: ${problem}`);
    else port = value;
  }
  const database = found.POSTGRES_DB?.value ?? ENV_DEFAULTS[env].database;
  const user = found.POSTGRES_USER?.value;
  const password = found.POSTGRES_PASSWORD?.value;

  const url = new URL('postgres://localhost');
  url.hostname = host;
  url.port = String(port);
  url.pathname = `/${encodeURIComponent(database)}`;
  if (user !== undefined) url.username = encodeURIComponent(user);
  if (password !== undefined) url.password = encodeURIComponent(password);

  return {
    env,
    engine: 'postgres',
    url: url.toString(),
    host,
    port,
    database,
    user,
    password,
    source: anySet ? 'POSTGRES_* variables' : `${table} (nothing configured)`,
    parts: {
      host: found.POSTGRES_HOST?.source ?? table,
      port: found.POSTGRES_PORT?.source ?? table,
      database: found.POSTGRES_DB?.source ?? table,
      user: found.POSTGRES_USER?.source ?? 'the OS user',
      password: found.POSTGRES_PASSWORD?.source ?? 'none',
    },
  };
}

function resolveOne(
  env: EnvName,
  input: ConfigInput,
  vars: VariableSources,
  problems: string[],
): Target | undefined {
  if (input.url !== undefined && input.urlEnv === env) {
    return fromUrl(env, { value: input.url, source: '--url' }, input.cwd, problems);
  }
  const root = input.projectRoot ?? input.cwd;
  const specific = vars.get(`COS_${env.toUpperCase()}_DATABASE_URL`, env);
  if (specific) return fromUrl(env, specific, root, problems);
  const generic = vars.get('DATABASE_URL', env);
  if (generic) return fromUrl(env, generic, root, problems);
  const parts = fromParts(env, vars, problems);
  if (parts) return parts;
  return {
    env,
    engine: 'embedded',
    dataDir: resolve(root, '.cos-db', env),
    source: 'nothing configured: the embedded default',
    explicit: false,
  };
}

/**
 * Resolves every environment's target from flags, variables and .env files, first match wins:
 * --url; COS_<ENV>_DATABASE_URL; DATABASE_URL; POSTGRES_* parts combined with the env table;
 * else the embedded store (dev, test) or localhost (prod). Every problem is reported at once.
 */
export function resolveTargets(input: ConfigInput): Record<EnvName, Target> {
  const vars = new VariableSources(input.projectRoot ?? input.cwd, input.processEnv);
  const problems: string[] = [];
  const result: Partial<Record<EnvName, Target>> = {};
  for (const env of ENV_NAMES) {
    const target = resolveOne(env, input, vars, problems);
    if (target) result[env] = target;
  }
  const all = [...new Set([...vars.problems, ...problems])];
  if (all.length > 0) {
    throw usageError(`invalid configuration:\n  ${all.join('\n  ')}`, {
      hint: 'fix the values above (see .env.example), or run `cos-db env` to see every source',
      details: { problems: all },
    });
  }
  return result as Record<EnvName, Target>;
}

export function resolveTarget(env: EnvName, input: ConfigInput): Target {
  return resolveTargets({ ...input, urlEnv: env })[env];
}
