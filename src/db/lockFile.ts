import {
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeSync,
  closeSync,
} from 'node:fs';
import { dirname } from 'node:path';
import { hostname } from 'node:os';
import { lockTimeoutError } from '../errors.js';

export type LockHolder = { pid: number; host: string; command: string; since: string };

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readHolder(path: string): LockHolder | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as LockHolder;
  } catch {
    return undefined;
  }
}

/** A holder on this host whose process is gone left the lock behind. */
function isStale(holder: LockHolder | undefined): boolean {
  if (!holder || typeof holder.pid !== 'number') return true;
  return holder.host === hostname() && !isAlive(holder.pid);
}

function tryCreate(path: string, holder: LockHolder): boolean {
  try {
    const fd = openSync(path, 'wx', 0o644);
    try {
      writeSync(fd, JSON.stringify(holder));
    } finally {
      closeSync(fd);
    }
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

/** Moves a stale lock aside atomically, and puts it back if it turned out to be live. */
function breakStale(path: string, seen: LockHolder | undefined): void {
  const aside = `${path}.stale.${process.pid}`;
  try {
    renameSync(path, aside);
  } catch {
    return; // someone else broke or released it first
  }
  const moved = readHolder(aside);
  if (moved && seen && moved.pid !== seen.pid && !isStale(moved)) {
    // Another process took the lock between our read and our rename: give it back.
    try {
      renameSync(aside, path);
    } catch {
      /* it will be retried */
    }
    return;
  }
  try {
    unlinkSync(aside);
  } catch {
    /* already gone */
  }
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
  const me: LockHolder = {
    pid: process.pid,
    host: hostname(),
    command: options.command,
    since: new Date().toISOString(),
  };
  const deadline = Date.now() + options.timeoutMs;
  let told = false;
  for (;;) {
    if (tryCreate(path, me)) break;
    const holder = readHolder(path);
    if (isStale(holder)) {
      breakStale(path, holder);
      continue;
    }
    if (!told && holder) {
      options.onWait?.(holder);
      told = true;
    }
    if (Date.now() >= deadline) {
      const who = holder
        ? `pid ${holder.pid} (${holder.command}, since ${holder.since})`
        : 'another process';
      throw lockTimeoutError(
        `the store is locked by ${who}; gave up after ${options.timeoutMs / 1000} s`,
        {
          hint: 'wait for that command to finish, or raise --lock-timeout',
          details: { lock: path, holder },
        },
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  let released = false;
  return () => {
    if (released) return;
    released = true;
    const holder = readHolder(path);
    if (holder?.pid === process.pid) {
      try {
        unlinkSync(path);
      } catch {
        /* already gone */
      }
    }
  };
}
