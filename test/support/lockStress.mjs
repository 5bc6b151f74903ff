// One of the stress test's processes: takes the lock in a loop, and inside it checks that it is
// alone (a marker file created exclusively) and bumps a shared counter. Some iterations end the
// process while it holds the lock, as a crash would, so others must break a stale lock.
import { closeSync, openSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { setImmediate } from 'node:timers/promises';

const [lockModule, lockPath, marker, counter, iterations, dieEvery] = process.argv.slice(2);
const { acquireLockFile } = await import(lockModule);
let doubles = 0;
let held = 0;
for (let i = 1; i <= Number(iterations); i += 1) {
  const release = await acquireLockFile(lockPath, { timeoutMs: 60_000, command: 'stress' });
  try {
    closeSync(openSync(marker, 'wx'));
  } catch {
    doubles += 1;
  }
  held += 1;
  writeFileSync(counter, String(Number(readFileSync(counter, 'utf8')) + 1));
  await setImmediate();
  try {
    unlinkSync(marker);
  } catch {
    /* another holder removed it */
  }
  if (Number(dieEvery) > 0 && i % Number(dieEvery) === 0) {
    process.stdout.write(JSON.stringify({ doubles, held }));
    process.exit(0); // dies holding the lock
  }
  release();
}
process.stdout.write(JSON.stringify({ doubles, held }));
