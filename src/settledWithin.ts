/**
 * Waits for a promise to settle, for at most ms; true if it did. The timer is referenced on
 * purpose: a promise that never settles holds nothing else that keeps the process alive, and
 * without it Node would end with its own exit 13 instead of the code cos-db means to give.
 */
export async function settledWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise.then(
        () => true,
        () => true,
      ),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
