import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { packageRoot, packageVersion } from '../packageRoot.js';
import { buildProgram } from './program.js';

export const HELP_CACHE = 'dist/help.txt';

/** Exactly what `cos-db --help` prints, from the live program definition. */
export function renderTopHelp(version: string): string {
  let text = '';
  const program = buildProgram(async () => undefined, version);
  program.configureOutput({ writeOut: (chunk) => (text += chunk), getOutHelpWidth: () => 80 });
  program.outputHelp();
  return text;
}

/**
 * `cos-db --help` is typed in shell loops and must start as fast as node itself; loading
 * commander alone would cost a good part of that. The build writes the top-level help here and
 * bin/cos-db.js prints it for a bare --help; a test checks it matches the live output.
 */
export function writeHelpCache(): string {
  const root = packageRoot();
  mkdirSync(join(root, 'dist'), { recursive: true });
  const path = join(root, HELP_CACHE);
  writeFileSync(path, renderTopHelp(packageVersion()));
  return path;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) writeHelpCache();
