/**
 * Deterministic parts for batcher tests: a manual clock (time moves only when the test says,
 * so flush rules are checked at the exact millisecond without waiting) and a backend that
 * records each batch and holds it until the test releases it. Both are real implementations
 * of the batcher's seams (BatcherClock, InferenceBackend), not mocks of a library.
 */
import type { InferenceBackend } from '../../src/worker/backend.js';
import type { BatcherClock } from '../../src/worker/batcher.js';
import type { BatchOutput, BatchRequest, ModelInfo } from '../../src/worker/engine.js';

export class ManualClock implements BatcherClock {
  t = 0;
  #timers: { at: number; fn: () => void; id: number }[] = [];
  #next = 1;
  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.#next++;
    this.#timers.push({ at: this.t + ms, fn, id });
    return id;
  }
  clearTimeout(h: unknown): void {
    this.#timers = this.#timers.filter((x) => x.id !== h);
  }
  advance(ms: number): void {
    this.t += ms;
    for (;;) {
      const due = this.#timers.filter((x) => x.at <= this.t).sort((a, b) => a.at - b.at)[0];
      if (!due) return;
      this.#timers = this.#timers.filter((x) => x !== due);
      due.fn();
    }
  }
}

/** Records each batch's row tags (first token) and holds it until released. */
export class GatedBackend implements InferenceBackend {
  readonly info = {} as ModelInfo;
  batches: { tags: number[]; lengths: number[] }[] = [];
  /** The padded shape of each batch, in the same order. */
  shapes: { rows: number; seq: number }[] = [];
  #gates: (() => void)[] = [];
  #runMs: number;
  /** `runMs`: the run time each batch reports (the batcher compares it with max-wait-ms). */
  constructor(runMs = 0) {
    this.#runMs = runMs;
  }
  run(req: BatchRequest): Promise<BatchOutput> {
    const tags = Array.from({ length: req.rows }, (_, r) => req.ids[r * req.seq]);
    this.batches.push({ tags, lengths: Array.from(req.lengths) });
    this.shapes.push({ rows: req.rows, seq: req.seq });
    return new Promise((resolve) => {
      this.#gates.push(() => resolve({ kind: 'logits', rows: req.rows, width: 1, data: Float32Array.from(tags), runMs: this.#runMs }));
    });
  }
  release(): boolean {
    const g = this.#gates.shift();
    g?.();
    return Boolean(g);
  }
  /** Releases every batch, including those sent because an earlier one ended. */
  async releaseAll(): Promise<void> {
    while (this.release()) await settle();
  }
  async close(): Promise<void> {}
}

/** A token-id row whose first id tags the document, so results can be traced to it. */
export const doc = (tag: number, len: number): Int32Array => Int32Array.from({ length: len }, (_, i) => (i === 0 ? tag : 5));

/** Lets promise callbacks and the batcher's reactions to them run. */
export const settle = (): Promise<void> => new Promise((r) => setImmediate(r));
