/**
 * Work that must be undone when the user presses Ctrl-C: close connections (the server rolls
 * back any open transaction), release lock files. The CLI entry point runs these on SIGINT.
 */
const cleanups = new Set<() => Promise<void> | void>();

export function onInterrupt(cleanup: () => Promise<void> | void): () => void {
  cleanups.add(cleanup);
  return () => cleanups.delete(cleanup);
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
  await Promise.race([
    Promise.all(pending),
    new Promise((resolve) => setTimeout(resolve, timeoutMs).unref()),
  ]);
}
