/**
 * JSON Lines: one JSON object per line. Blank lines are skipped; a line that is not JSON, not
 * an object, or lacks the id/text fields is reported with its line number and reading goes on.
 */
import { decodeLine, type RawLine, type InputEncoding } from './lines.js';
import { lineError, recordToDocument, invalidUtf8Detail, type FieldOptions, type ReadItem, type ReaderStats } from './document.js';

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

/**
 * The source text of the number that `key` holds in the top-level object `json` (the last one
 * if the key repeats, as JSON.parse keeps the last), or undefined. JSON.parse turns
 * 9007199254740993 into 9007199254740992: ids above 2^53 (tweet and snowflake ids) must be read
 * from their digits. Node 20 has no reviver source access, so the line is scanned: strings are
 * skipped with their escapes, depth is counted on {} and [].
 */
export function rawNumberOf(json: string, key: string): string | undefined {
  let depth = 0;
  let found: string | undefined;
  let i = 0;
  const n = json.length;
  const skipString = (from: number): number => {
    let j = from + 1;
    while (j < n) {
      const c = json.charCodeAt(j);
      if (c === 0x5c) j += 2;
      else if (c === 0x22) return j + 1;
      else j++;
    }
    return n;
  };
  while (i < n) {
    const c = json.charCodeAt(i);
    if (c === 0x22) {
      const end = skipString(i);
      if (depth === 1) {
        let j = end;
        while (j < n && /\s/.test(json[j])) j++;
        if (json[j] === ':') {
          let name: unknown;
          try {
            name = JSON.parse(json.slice(i, end));
          } catch {
            name = undefined;
          }
          j++;
          while (j < n && /\s/.test(json[j])) j++;
          if (name === key) {
            const m = /^-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(json.slice(j, j + 400));
            found = m ? m[0] : undefined;
          }
          i = j;
          continue;
        }
      }
      i = end;
      continue;
    }
    if (c === 0x7b || c === 0x5b) depth++;
    else if (c === 0x7d || c === 0x5d) depth--;
    i++;
  }
  return found;
}

/**
 * A numeric id as the digits the file holds. Integers beyond 2^53 keep their digits (a string
 * id); a non-integer that a double cannot hold exactly has no lossless string form: refused.
 */
function exactNumericId(text: string, idField: string, parsed: number): { id: string } | { error: string } {
  if (Number.isSafeInteger(parsed)) return { id: String(parsed) };
  const raw = rawNumberOf(text, idField);
  if (raw !== undefined && /^-?\d+$/.test(raw)) return { id: raw.replace(/^(-?)0+(?=\d)/, '$1') };
  if (raw !== undefined && String(parsed) === raw) return { id: raw };
  return { error: `"${idField}" is the number ${raw ?? String(parsed)}, which a double cannot hold exactly (${String(parsed)}): write the id as a JSON string` };
}

export async function* readJsonl(lines: AsyncIterable<RawLine>, opts: JsonlOptions, stats: ReaderStats): AsyncGenerator<ReadItem> {
  for await (const { lineNo, bytes, overlongBytes } of lines) {
    if (overlongBytes !== undefined) {
      yield lineError(lineNo, 'E_INPUT_TOO_LARGE', `line is ${overlongBytes} bytes, over the ${opts.maxLineBytes}-byte limit for one line (3 × --max-job-bytes)`);
      continue;
    }
    const decoded = decodeLine(bytes, opts.encoding);
    if (!decoded.ok) {
      yield lineError(lineNo, 'E_INPUT_INVALID', invalidUtf8Detail(bytes));
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
    const record = value as Record<string, unknown>;
    const rawId = record[opts.idField];
    if (typeof rawId === 'number' && Number.isFinite(rawId) && !Number.isSafeInteger(rawId)) {
      const exact = exactNumericId(text, opts.idField, rawId);
      if ('error' in exact) {
        yield lineError(lineNo, 'E_INPUT_INVALID', exact.error);
        continue;
      }
      record[opts.idField] = exact.id;
    }
    yield recordToDocument(record, lineNo, opts);
  }
}
