import { checkProofFile } from '../integrity/checkProofFile.js';
import { proofLine } from './commands/verifyProof.js';
import { Output } from './output.js';
import { report } from './report.js';

/**
 * `cos-db verify-proof FILE --key KEY` without the rest of the CLI: a verifier runs it for every
 * receipt it checks, so it starts as little as it can (docs/performance.md). It takes only that
 * plain form, with --json, --quiet, --verbose and --no-color; for anything else (help, a key from
 * COS_SIGNING_KEY or .env, an unknown option) it returns undefined and the whole CLI runs, so
 * every message is the same either way.
 */
export async function main(
  argv: string[],
  env: Record<string, string | undefined> = process.env,
  cwd: string = process.cwd(),
): Promise<number | undefined> {
  const [command, ...rest] = argv.slice(2);
  if (command !== 'verify-proof') return undefined;
  const flags = { json: false, quiet: false, verbose: false, color: true };
  const files: string[] = [];
  let key: string | undefined;
  for (let i = 0; i < rest.length; i += 1) {
    const arg = rest[i] as string;
    if (arg === '--json') flags.json = true;
    else if (arg === '-q' || arg === '--quiet') flags.quiet = true;
    else if (arg === '--verbose') flags.verbose = true;
    else if (arg === '--no-color') flags.color = false;
    else if (arg === '--key' && i + 1 < rest.length) key = rest[++i];
    else if (arg.startsWith('--key=')) key = arg.slice(6);
    else if (arg === '-' || !arg.startsWith('-')) files.push(arg);
    else return undefined;
  }
  if (files.length !== 1 || key === undefined || key === '') return undefined;
  const out = new Output({
    ...flags,
    color: flags.color && (env.NO_COLOR === undefined || env.NO_COLOR === ''),
  });
  try {
    const result = checkProofFile(files[0] as string, key, cwd);
    out.result({ ...result, ok: true }, () => proofLine(result));
    return 0;
  } catch (error) {
    return report(out, error);
  }
}
