/**
 * How long to wait before trying again after a failure: live listeners, the Firebase sign-in
 * and a conversation's first page.
 */

/** The waits after the first, second, … failure; the last repeats. */
export const RETRY_DELAYS_MS = [1_000, 2_000, 5_000, 10_000, 30_000] as const;

/** The wait before the next try, `failures` failures in (0 after the first). */
export function retryDelay(failures: number): number {
  return RETRY_DELAYS_MS[Math.min(failures, RETRY_DELAYS_MS.length - 1)] ?? 30_000;
}

/**
 * Runs `attempt` until it succeeds: `onDone` gets its value, `onFailure` each error and answers
 * whether to try again (after `retryDelay`). The returned function stops trying, and nothing
 * is called after it.
 */
export function keepTrying<T>(
  attempt: () => Promise<T>,
  onDone: (value: T) => void,
  onFailure: (error: unknown) => boolean,
): () => void {
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const run = (failures: number) => {
    attempt().then(
      (value) => {
        if (!stopped) onDone(value);
      },
      (error: unknown) => {
        if (!stopped && onFailure(error)) timer = setTimeout(() => run(failures + 1), retryDelay(failures));
      },
    );
  };
  run(0);
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
