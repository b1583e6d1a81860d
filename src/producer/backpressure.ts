/**
 * The producer pauses while the queue holds more than `maxWaiting` waiting jobs (default
 * 100 000), polling the count every `pollMs` (500 ms), so Redis memory stays bounded however
 * large the input.
 */
import type { Queue } from 'bullmq';
import type { Logger } from '../shared/logger.js';
import { sleep } from '../shared/util.js';

/** One "pausing" log line per 30 s: under steady backpressure the producer pauses every chunk. */
const PAUSE_LOG_EVERY_MS = 30_000;

export class Backpressure {
  readonly #queue: Queue;
  readonly #maxWaiting: number;
  readonly #pollMs: number;
  readonly #log: Logger;
  readonly #signal: AbortSignal | undefined;
  #lastPauseLog = -Infinity;

  constructor(opts: { queue: Queue; maxWaiting: number; pollMs: number; log: Logger; signal?: AbortSignal }) {
    this.#queue = opts.queue;
    this.#maxWaiting = opts.maxWaiting;
    this.#pollMs = opts.pollMs;
    this.#log = opts.log;
    this.#signal = opts.signal;
  }

  /** Returns once the queue has room (or on abort); `onPaused` gets the waiting count of each poll that had none. */
  async waitForRoom(onPaused: (waiting: number) => void): Promise<void> {
    for (;;) {
      const waiting = await this.#queue.getWaitingCount();
      if (waiting <= this.#maxWaiting || this.#signal?.aborted) return;
      if (performance.now() - this.#lastPauseLog > PAUSE_LOG_EVERY_MS) {
        this.#lastPauseLog = performance.now();
        this.#log.info({ waiting, maxWaiting: this.#maxWaiting }, 'queue is full (waiting > --max-waiting): pausing until workers drain it');
      }
      onPaused(waiting);
      await sleep(this.#pollMs, this.#signal);
    }
  }
}
