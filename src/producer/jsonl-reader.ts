/**
 * JSON Lines: one JSON object per line. Blank lines are skipped; a line that is not JSON, not
 * an object, or lacks the id/text fields is reported with its line number and reading goes on.
 */
import { decodeLine, type RawLine, type InputEncoding } from './lines.js';
import { lineError, recordToDocument, UTF8_HINT, type FieldOptions, type ReadItem, type ReaderStats } from './document.js';

export interface JsonlOptions extends FieldOptions {
  encoding: InputEncoding;
  maxLineBytes: number;
}

/**
 * V8's JSON.parse messages quote the input (`Unexpected token 'a', "great movie" is not valid
 * JSON`): keep only the position, document text must not reach logs or the errors file.
 */
function jsonReason(err: unknown): string {
  const msg = err instanceof Error ? err.message : '';
  const pos = /position (\d+)/.exec(msg);
  if (pos) return `not valid JSON (syntax error at byte ${pos[1]})`;
  if (/Unexpected end of JSON input|Unterminated string/.test(msg)) return 'not valid JSON (unexpected end of line)';
  return 'not valid JSON';
}

export async function* readJsonl(lines: AsyncIterable<RawLine>, opts: JsonlOptions, stats: ReaderStats): AsyncGenerator<ReadItem> {
  for await (const { lineNo, bytes, overlongBytes } of lines) {
    if (overlongBytes !== undefined) {
      yield lineError(lineNo, 'E_INPUT_TOO_LARGE', `line is ${overlongBytes} bytes, over the ${opts.maxLineBytes}-byte limit for one line (3 × --max-job-bytes)`);
      continue;
    }
    const decoded = decodeLine(bytes, opts.encoding);
    if (!decoded.ok) {
      yield lineError(lineNo, 'E_INPUT_INVALID', `not valid UTF-8; ${UTF8_HINT}`);
      continue;
    }
    const text = decoded.text;
    if (text.trim() === '') {
      stats.skippedBlank += 1;
      continue;
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      yield lineError(lineNo, 'E_INPUT_PARSE', jsonReason(err));
      continue;
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      yield lineError(lineNo, 'E_INPUT_PARSE', `expected a JSON object, got ${Array.isArray(value) ? 'an array' : value === null ? 'null' : `a ${typeof value}`}`);
      continue;
    }
    yield recordToDocument(value as Record<string, unknown>, lineNo, opts);
  }
}
