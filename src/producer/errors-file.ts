/**
 * `--errors-out FILE`: malformed and rejected input lines as JSON Lines
 * `{"lineNo":17,"code":"E_INPUT_PARSE","message":"line 17: not valid JSON ...","id":"..."}`,
 * written as they happen (with stream backpressure), so a crash still leaves the lines found so far.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { E, type ErrorCode } from '../shared/errors.js';

export interface RejectedLine {
  lineNo: number;
  code: ErrorCode;
  message: string;
  id?: string;
}

export class ErrorsFile {
  readonly path: string;
  #out: WriteStream;
  #failure: Error | undefined;
  #closing: Promise<void> | undefined;

  private constructor(path: string, out: WriteStream) {
    this.path = path;
    this.#out = out;
    out.on('error', (err) => { this.#failure = err; });
  }

  /** Creates (truncates) the file; fails at once when it cannot be written. */
  static async open(path: string): Promise<ErrorsFile> {
    const out = createWriteStream(path, { flags: 'w' });
    try {
      await once(out, 'open');
    } catch (err) {
      throw E.OUTPUT_WRITE(`cannot write --errors-out "${path}": ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, {
        hint: 'check that the folder exists and is writable',
        cause: err,
      });
    }
    return new ErrorsFile(path, out);
  }

  async write(line: RejectedLine): Promise<void> {
    if (this.#failure) throw this.#failure;
    const rec: RejectedLine = { lineNo: line.lineNo, code: line.code, message: line.message };
    if (line.id !== undefined) rec.id = line.id;
    if (!this.#out.write(`${JSON.stringify(rec)}\n`)) await once(this.#out, 'drain');
  }

  /** Flushes and closes; idempotent. */
  close(): Promise<void> {
    this.#closing ??= new Promise<void>((resolve, reject) => {
      this.#out.end((err?: Error | null) => (err ? reject(err) : resolve()));
    });
    return this.#closing;
  }
}
