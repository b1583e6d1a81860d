/**
 * When and whether a supervised worker process is started again after it exits.
 *
 * - Backoff (ms) with the default base of 1000: 1000, 2000, 4000, 8000, 16000, then 30000
 *   for every further crash in a row. A process that stayed ready for 60 s starts the count
 *   again at 1000: one crash a day must not inherit yesterday's backoff.
 * - A process that exits before it was ever ready is a start failure: the model file is
 *   wrong, CUDA is missing, Redis refuses. Restarts rarely fix those, so after
 *   `maxStartFailures` (default 5: ~15 s of backoff) in a row the supervisor gives up (exit 1).
 *   Fewer than that, they are retried: a Redis that was unreachable for 60 s may be back.
 * - Exit code 2 before ready is E_CONFIG (invalid flags or environment), which no restart
 *   can fix: the supervisor gives up at once with exit 2.
 */

export interface RestartPolicyOptions {
  baseMs: number;
  capMs?: number;
  /** Ready this long resets the backoff. */
  healthyMs?: number;
  maxStartFailures: number;
}

export interface ExitFacts {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** ms the process had been ready when it exited; undefined if it never was. */
  readyForMs: number | undefined;
}

export type RestartDecision =
  | { action: 'restart'; delayMs: number; crashesInARow: number }
  | { action: 'give-up'; exitCode: 1 | 2; reason: string };

export const RESTART_CAP_MS = 30_000;
export const HEALTHY_AFTER_MS = 60_000;
/** Exit code of `runCommand` for E_CONFIG (src/cli/options.ts). */
export const CONFIG_EXIT_CODE = 2;

export class RestartPolicy {
  readonly #o: Required<RestartPolicyOptions>;
  #crashes = 0;
  #startFailures = 0;

  constructor(opts: RestartPolicyOptions) {
    this.#o = { capMs: RESTART_CAP_MS, healthyMs: HEALTHY_AFTER_MS, ...opts };
  }

  onExit(exit: ExitFacts): RestartDecision {
    const o = this.#o;
    if (exit.readyForMs === undefined) {
      if (exit.code === CONFIG_EXIT_CODE) return { action: 'give-up', exitCode: 2, reason: 'exited with code 2 (invalid configuration) before it was ready' };
      this.#startFailures++;
      if (this.#startFailures >= o.maxStartFailures) {
        return { action: 'give-up', exitCode: 1, reason: `failed ${this.#startFailures} times in a row before it was ready` };
      }
    } else {
      this.#startFailures = 0;
      if (exit.readyForMs >= o.healthyMs) this.#crashes = 0;
    }
    const delayMs = Math.min(o.baseMs * 2 ** this.#crashes, o.capMs);
    this.#crashes++;
    return { action: 'restart', delayMs, crashesInARow: this.#crashes };
  }
}
