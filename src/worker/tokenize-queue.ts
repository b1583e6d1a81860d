/**
 * Coalesces the texts of concurrent jobs into one `encodeBatch` call of the Rust tokenizer:
 * one call per event-loop turn (or per `maxBatch` texts) instead of one per document.
 */
import { E } from '../shared/errors.js';
import type { Encoded, RobertaTokenizer } from '../model/tokenizer.js';

interface Waiting {
  text: string;
  resolve(e: Encoded): void;
  reject(err: unknown): void;
}

export class TokenizeQueue {
  #tokenizer: RobertaTokenizer;
  #waiting: Waiting[] = [];
  #scheduled = false;
  #maxBatch: number;
  #observe: (seconds: number) => void;

  constructor(tokenizer: RobertaTokenizer, observe: (seconds: number) => void = () => {}, maxBatch = 256) {
    this.#tokenizer = tokenizer;
    this.#observe = observe;
    this.#maxBatch = maxBatch;
  }

  encode(text: string): Promise<Encoded> {
    return new Promise((resolve, reject) => {
      this.#waiting.push({ text, resolve, reject });
      if (this.#waiting.length >= this.#maxBatch) this.#run();
      else if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => this.#run());
      }
    });
  }

  #run(): void {
    this.#scheduled = false;
    const group = this.#waiting.splice(0, this.#maxBatch);
    if (!group.length) return;
    if (this.#waiting.length && !this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => this.#run());
    }
    const t0 = performance.now();
    this.#tokenizer.encodeBatch(group.map((g) => g.text)).then(
      (encs) => {
        this.#observe((performance.now() - t0) / 1000);
        group.forEach((g, i) => g.resolve(encs[i]));
      },
      () => {
        // One text broke the whole call: encode one by one so only that document fails.
        for (const g of group) {
          this.#tokenizer.encodeBatch([g.text]).then(
            (e) => g.resolve(e[0]),
            (err) => g.reject(E.document('E_INPUT_INVALID', `the tokenizer rejected this text: ${(err as Error).message}`)),
          );
        }
      },
    );
  }
}
