#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const args = process.argv.slice(2);
let code;
let main;
if (args.length === 1 && (args[0] === '--help' || args[0] === '-h')) {
  // Written by the build from the program definition (src/cli/helpCache.ts): no commander needed.
  try {
    process.stdout.write(readFileSync(new URL('../dist/help.txt', import.meta.url), 'utf8'));
    code = 0;
  } catch {
    code = undefined;
  }
}
if (code === undefined && args[0] === 'verify-proof') {
  // Checking a receipt needs no database and no configuration: a lighter entry (it hands back
  // undefined for any form it does not take, and the whole CLI runs).
  main = createRequire(import.meta.url)('../dist/cli/verifyProofMain.cjs');
  code = await main.main(process.argv);
  main = undefined;
}
if (code === undefined) {
  // One bundled file (scripts/bundle.js): quicker to load than the modules it is made of.
  main = await import('../dist/cli/main.js');
  code = await main.main(process.argv);
}
// Exit once stdout has drained, so piped output is never cut short and no stray handle hangs CI.
// A write that failed (a full disk; not a reader that went away) lost output: exit 10.
const out = process.stdout;
const finish = () => {
  const error = out.errored;
  if (error && error.code !== 'EPIPE') {
    main?.reportOutputFailure(error);
    process.exit(10);
  }
  process.exit(code);
};
if (out.writableLength > 0 && !out.errored) {
  out.once('drain', finish);
  out.once('error', finish);
} else finish();
