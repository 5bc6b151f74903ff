import { randomBytes } from 'node:crypto';
import {
  closeSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';
import { hostname } from 'node:os';
import { lockTimeoutError } from '../errors.js';
import { isAlive } from '../isAlive.js';

export type LockHolder = { pid: number; host: string; command: string; since: string };

/** What the lock file holds: the holder, and a nonce that tells two holders with one pid apart. */
type LockContent = LockHolder & { nonce: string };

/** A lock file as read: its exact text (what a breaker compares) and the holder it names. */
type Seen = { text: string; holder: LockHolder | undefined };

function readLock(path: string): Seen | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const value = JSON.parse(text) as Partial<LockHolder>;
    return { text, holder: typeof value.pid === 'number' ? (value as LockHolder) : undefined };
  } catch {
    return { text, holder: undefined };
  }
}

/**
 * Only a holder provably gone is stale: one on this host whose process no longer exists. A lock
 * file that cannot be read is never taken for stale (it may be another tool's), nor is one held
 * on another host (its process cannot be asked).
 */
function isStale(seen: Seen | undefined): seen is Seen {
  const holder = seen?.holder;
  return holder !== undefined && holder.host === hostname() && !isAlive(holder.pid);
}

/**
 * Creates `path` with its content already in it: written to a file of its own, then hard-linked
 * into place, which fails if `path` exists. A reader can never see the lock empty or half
 * written, so it can never mistake a live lock for a stale one.
 */
function tryCreate(path: string, content: LockContent): boolean {
  const aside = `${path}.${content.pid}.${content.nonce}`;
  const fd = openSync(aside, 'wx', 0o644);
  try {
    writeSync(fd, JSON.stringify(content));
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(aside, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    unlinkSync(aside);
  }
}

/** A breaker holds `.break` for microseconds; one older than this was left by a breaker that died. */
const BREAK_LEFT_MS = 10_000;

/**
 * Removes a stale lock, but only the one seen stale: under a second lock (`.break`) that only
 * breakers take, the file is read again and removed only if it still holds that same dead
 * holder. Nobody else removes a lock but its live holder, so between that read and the unlink
 * the file cannot change, and a live lock is never removed.
 */
function breakStale(path: string, seen: Seen, me: LockContent): boolean {
  const guard = `${path}.break`;
  if (!tryCreate(guard, me)) {
    try {
      if (Date.now() - statSync(guard).mtimeMs > BREAK_LEFT_MS) unlinkSync(guard);
    } catch {
      /* gone already */
    }
    return false;
  }
  try {
    if (readLock(path)?.text === seen.text) unlinkSync(path);
  } catch {
    /* released in the meantime */
  } finally {
    unlinkSync(guard);
  }
  return true;
}

/**
 * Takes an exclusive lock file, waiting up to timeoutMs for a live holder. PGlite has no lock of
 * its own on its data directory and two processes at once corrupt it, so every command that
 * opens an embedded store holds this for its whole run. Returns the release function.
 */
export async function acquireLockFile(
  path: string,
  options: { timeoutMs: number; command: string; onWait?: (holder: LockHolder) => void },
): Promise<() => void> {
  mkdirSync(dirname(path), { recursive: true });
  const me: LockContent = {
    pid: process.pid,
    host: hostname(),
    command: options.command,
    since: new Date().toISOString(),
    nonce: randomBytes(8).toString('hex'),
  };
  const deadline = Date.now() + options.timeoutMs;
  let told = false;
  for (;;) {
    if (tryCreate(path, me)) break;
    const seen = readLock(path);
    if (isStale(seen) && breakStale(path, seen, me)) continue;
    const holder = seen?.holder;
    if (!told && holder) {
      options.onWait?.(holder);
      told = true;
    }
    if (Date.now() >= deadline) {
      const who = holder
        ? `pid ${holder.pid} (${holder.command}, since ${holder.since})`
        : 'another process (the lock file cannot be read)';
      throw lockTimeoutError(
        `the store is locked by ${who}; gave up after ${options.timeoutMs / 1000} s`,
        {
          hint: holder
            ? 'wait for that command to finish, or raise --lock-timeout'
            : `if no cos-db is running on this store, remove ${path}`,
          details: { lock: path, holder },
        },
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 50 + Math.random() * 50));
  }
  let released = false;
  return () => {
    if (released) return;
    released = true;
    if (readLock(path)?.text !== JSON.stringify(me)) return;
    try {
      unlinkSync(path);
    } catch {
      /* already gone */
    }
  };
}
