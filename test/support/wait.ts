// Bounded waiting for tests: conditions are polled on the event loop and fail with a clear message after a bound.
// A bound is a safety net, never a timing assertion.

/** Waits until `predicate` holds; fails after `timeoutMs` naming `what`. */
export async function waitFor(predicate: () => boolean, what = 'condition', timeoutMs = 5000, pollMs = 2): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

/** Settles like `promise`, or rejects naming `what` once `timeoutMs` have passed. */
export async function within<T>(promise: Promise<T>, what: string, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms: ${what}`)), timeoutMs);
  });
  try {
    return await Promise.race([promise, bound]);
  } finally {
    clearTimeout(timer);
  }
}

/** Like waitFor, for a check that has to do I/O (e.g. try a login): retried every `pollMs` until true. */
export async function eventually(check: () => Promise<boolean>, what: string, timeoutMs = 10_000, pollMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}
