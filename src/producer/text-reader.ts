/**
 * Plain text: one document per line, id `<prefix>:<lineNo>` (prefix = input basename, `stdin`,
 * or --id-prefix), so ids stay stable when the same file is enqueued again.
 * Blank lines are skipped and counted; NUL and other control characters are kept (the worker decides),
 * except that a NUL in the first 8,000 bytes refuses the whole input as binary (binary-input.ts).
 */
import { decodeLine, type RawLine, type InputEncoding } from './lines.js';
import { autoIdFor, lineError, invalidUtf8Detail, type ReadItem, type ReaderStats } from './document.js';

export interface TextOptions {
  idPrefix: string;
  encoding: InputEncoding;
  maxLineBytes: number;
}

export async function* readText(lines: AsyncIterable<RawLine>, opts: TextOptions, stats: ReaderStats): AsyncGenerator<ReadItem> {
  for await (const { lineNo, bytes, overlongBytes } of lines) {
    const id = autoIdFor(opts.idPrefix, lineNo);
    if (overlongBytes !== undefined) {
      yield lineError(lineNo, 'E_INPUT_TOO_LARGE', `line is ${overlongBytes} bytes, over the ${opts.maxLineBytes}-byte limit for one line (3 × --max-job-bytes)`, id);
      continue;
    }
    const decoded = decodeLine(bytes, opts.encoding);
    if (!decoded.ok) {
      yield lineError(lineNo, 'E_INPUT_INVALID', invalidUtf8Detail(bytes), id);
      continue;
    }
    if (decoded.text.trim() === '') {
      stats.skippedBlank += 1;
      continue;
    }
    yield { lineNo, doc: { id, text: decoded.text } };
  }
}
