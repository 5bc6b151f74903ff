import { settledWithin } from './settledWithin.js';

/**
 * Ctrl-C, told truthfully. Work that must be undone registers a cleanup (close connections, so
 * the server rolls back any open transaction; release lock files); long loops check
 * throwIfInterrupted at safe points; commits go through trackedCommit, so that when the user
 * presses Ctrl-C the entry point can wait for a COMMIT already under way and then say what
 * happened: rolled back, or committed before the interrupt took effect — never both.
 */
const cleanups = new Set<() => Promise<void> | void>();
let interrupted = false;
let inFlight = 0;
let committed = 0;
let committedAfter = 0;
let settled: (() => void) | undefined;

export function onInterrupt(cleanup: () => Promise<void> | void): () => void {
  cleanups.add(cleanup);
  return () => cleanups.delete(cleanup);
}

export const isInterrupted = (): boolean => interrupted;

let stopper: (() => void) | undefined;

/**
 * For a long-running command (serve): Ctrl-C or SIGTERM asks it to stop (finish what is in
 * flight, then return) rather than interrupting it. Returns the unregister function.
 */
export function onStopRequest(stop: () => void): () => void {
  stopper = stop;
  return () => {
    if (stopper === stop) stopper = undefined;
  };
}

/** Asks the running command to stop, if it takes that; false when it must be interrupted. */
export function requestStop(): boolean {
  if (!stopper) return false;
  const stop = stopper;
  stopper = undefined;
  stop();
  return true;
}

/** An error that means "the user pressed Ctrl-C": the entry point has said so already. */
export class InterruptedError extends Error {
  constructor() {
    super('interrupted');
    this.name = 'InterruptedError';
  }
}

export function throwIfInterrupted(): void {
  if (interrupted) throw new InterruptedError();
}

/** Commits a transaction, counted, so an interrupt knows whether work was committed. */
export async function trackedCommit(commit: () => Promise<unknown>): Promise<void> {
  throwIfInterrupted();
  inFlight += 1;
  try {
    await commit();
    committed += 1;
    if (interrupted) committedAfter += 1;
  } finally {
    inFlight -= 1;
    if (inFlight === 0) settled?.();
  }
}

export type InterruptOutcome = {
  /** Transactions committed by this process before the interrupt. */
  committedBefore: number;
  /** A commit that was under way when the interrupt came, and went through. */
  committedAfter: boolean;
};

/**
 * Marks the process interrupted, waits (briefly) for a commit already under way so its outcome
 * is known, then runs the cleanups: connections closed, so the server rolls back whatever is
 * open. Returns what was committed.
 */
export async function interrupt(timeoutMs = 3000): Promise<InterruptOutcome> {
  interrupted = true;
  const before = committed - committedAfter;
  if (inFlight > 0)
    await settledWithin(new Promise<void>((resolve) => (settled = resolve)), timeoutMs);
  await runInterruptCleanups(timeoutMs);
  return { committedBefore: before, committedAfter: committedAfter > 0 };
}

export async function runInterruptCleanups(timeoutMs = 3000): Promise<void> {
  const pending = [...cleanups].reverse().map(async (cleanup) => {
    try {
      await cleanup();
    } catch {
      // Best effort: we are exiting anyway.
    }
  });
  cleanups.clear();
  await settledWithin(Promise.all(pending), timeoutMs);
}
