/**
 * Coalesces the texts of concurrent jobs into one `encodeBatch` call of the Rust tokenizer:
 * one call per event-loop turn (or per `maxBatch` texts) instead of one per document.
 *
 * A job hands in all its texts at once (`encodeMany`) and gets one promise back, settled when
 * the last of them is tokenized: one promise per job, not one per document (with 64 documents
 * per job the per-document promises, their closures and microtasks were a measurable part of
 * the worker's main thread, see docs/BENCHMARKS.md "pipeline ceiling").
 */
import { E, DocumentError } from '../shared/errors.js';
import type { Encoded, RobertaTokenizer } from '../model/tokenizer.js';
import { Outcomes } from './outcomes.js';

interface Waiting {
  text: string;
  request: Outcomes<Encoded | DocumentError>;
  index: number;
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

  /** One text; a text the tokenizer rejects fails with E_INPUT_INVALID. */
  async encode(text: string): Promise<Encoded> {
    const [r] = await this.encodeMany([text]);
    if (r instanceof DocumentError) throw r;
    return r;
  }

  /**
   * The texts' encodings, in order; a text the tokenizer rejects gets a DocumentError
   * (E_INPUT_INVALID) in its place, the others are unaffected.
   */
  encodeMany(texts: readonly string[]): Promise<(Encoded | DocumentError)[]> {
    if (texts.length === 0) return Promise.resolve([]);
    return new Promise((resolve) => {
      const request = new Outcomes<Encoded | DocumentError>(texts.length, resolve);
      for (let i = 0; i < texts.length; i++) this.#waiting.push({ text: texts[i], request, index: i });
      while (this.#waiting.length >= this.#maxBatch) this.#run();
      if (this.#waiting.length && !this.#scheduled) {
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
        for (let i = 0; i < group.length; i++) group[i].request.set(group[i].index, encs[i]);
      },
      () => {
        // One text broke the whole call: encode one by one so only that document fails.
        for (const g of group) {
          this.#tokenizer.encodeBatch([g.text]).then(
            (e) => g.request.set(g.index, e[0]),
            (err) => g.request.set(g.index, E.document('E_INPUT_INVALID', `the tokenizer rejected this text: ${(err as Error).message}`)),
          );
        }
      },
    );
  }
}
