/**
 * One promise for many documents: each gets its outcome in its place, and the promise settles
 * once the last one has one (or fails at once, for an error that is no document's fault). The
 * worker hands a job's documents to the TokenizeQueue and the DynamicBatcher this way: one
 * promise per job, not one per document.
 */
export class Outcomes<T> {
  readonly values: T[];
  #left: number;
  #failed = false;
  #resolve: (values: T[]) => void;
  #reject: (e: unknown) => void;

  constructor(n: number, resolve: (values: T[]) => void, reject: (e: unknown) => void = () => {}) {
    this.values = new Array(n);
    this.#left = n;
    this.#resolve = resolve;
    this.#reject = reject;
  }

  set(i: number, v: T): void {
    this.values[i] = v;
    if (--this.#left === 0 && !this.#failed) this.#resolve(this.values);
  }

  /** Rejects the whole promise, once; later outcomes are ignored. */
  fail(e: unknown): void {
    if (this.#failed) return;
    this.#failed = true;
    this.#reject(e);
  }
}
