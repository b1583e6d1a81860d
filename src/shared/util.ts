/**
 * Tiny helpers that several layers need and that were written again in each of them.
 */

/**
 * Resolves after `ms`, or as soon as `signal` aborts (then it resolves too: callers that must
 * stop on an abort check `signal.aborted` or call `signal.throwIfAborted()` after the wait).
 * The timer and the abort listener are both released, whichever comes first.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * Nearest-rank percentile of an ascending array (p in 0..100); 0 for an empty one. The same
 * definition for `run`'s summary and the benchmark report, so a p95 means one thing: the
 * smallest value that at least 95 % of the samples do not exceed (of 1..100, p95 is 95).
 */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

let lastIsoMs = NaN;
let lastIso = '';

/**
 * `new Date(ms).toISOString()`, computed once per millisecond: a worker stamps every record
 * (finishedAt), 64 at a time from one batch, and the Date plus its formatting cost 1.6 µs a
 * document (5,000 calls, Node 20) against a comparison for the ones in the same millisecond.
 */
export function isoTimestamp(ms = Date.now()): string {
  if (ms !== lastIsoMs) {
    lastIsoMs = ms;
    lastIso = new Date(ms).toISOString();
  }
  return lastIso;
}
