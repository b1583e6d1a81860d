/**
 * CSV with a header row and RFC 4180 quoting, parsed by csv-parse in strict mode.
 *
 * Why records are assembled here and csv-parse only sees whole records: on one stream,
 * csv-parse cannot recover from broken quoting. With `skip_records_with_error` it goes on
 * *inside* the broken quoted field after CSV_INVALID_CLOSING_QUOTE and silently loses the next
 * valid rows; with `relax_quotes` it keeps the broken quotes as text (the document is
 * mangled without a word). So lines are grouped into records by quote parity (a record ends
 * where the count of `"` is even, as in RFC 4180 where an escaped quote is `""`), blocks of
 * records are parsed at once, and a block that fails is parsed record by record, so that
 * a broken record is reported with its line number and reading resumes on the next record.
 *
 * An opening quote that is never closed would swallow the rest of the file. It is given up
 * when the record grows past `maxLineBytes` or the file ends: the line that opened it is
 * reported and reading resumes on the line after it (the held lines are read again, memory
 * stays bounded by `maxLineBytes`).
 */
import { parse } from 'csv-parse/sync';
import { E } from '../shared/errors.js';
import { decodeLine, type InputEncoding, type RawLine } from './lines.js';
import { invalidUtf8Detail, lineError, recordToDocument, UTF8_HINT, type FieldOptions, type ReadItem, type ReaderStats } from './document.js';

export interface CsvOptions extends FieldOptions {
  encoding: InputEncoding;
  maxLineBytes: number;
}

interface CsvLine {
  lineNo: number;
  text: string;
  badUtf8: boolean;
  /** Set with badUtf8: why, from the raw bytes (see invalidUtf8Detail). */
  badUtf8Detail?: string;
  overlongBytes?: number;
}

interface CsvRecord {
  startLine: number;
  text: string;
  /** Last line of the record (a quoted field may span lines). */
  endLine: number;
  /** First line of the record that was not valid UTF-8. */
  badUtf8Line?: number;
  badUtf8Detail?: string;
}

// Strict RFC 4180: no relax_quotes (broken quoting must be an error, not text).
// relax_column_count: a short or long row is reported by us with both counts.
const PARSE_OPTIONS = {
  record_delimiter: '\n',
  relax_quotes: false,
  relax_column_count: true,
  skip_empty_lines: false,
  bom: false,
} as const;

/** Records parsed in one csv-parse call; a failed block is parsed again record by record. */
const BLOCK_RECORDS = 256;

function countQuotes(s: string): number {
  let n = 0;
  for (let i = s.indexOf('"'); i !== -1; i = s.indexOf('"', i + 1)) n++;
  return n;
}

function csvErrorCode(err: unknown): string {
  return (err as { code?: string })?.code ?? '';
}

/** csv-parse messages quote field values: describe the problem from its code only. */
function describeCsvError(err: unknown): string {
  switch (csvErrorCode(err)) {
    case 'INVALID_OPENING_QUOTE':
    case 'CSV_INVALID_OPENING_QUOTE':
      return 'broken CSV quoting: a quote inside an unquoted field (quote the whole field and write inner quotes as "")';
    case 'CSV_INVALID_CLOSING_QUOTE':
      return 'broken CSV quoting: text after a closing quote (inside a quoted field, write quotes as "")';
    case 'CSV_QUOTE_NOT_CLOSED':
      return 'broken CSV quoting: a quoted field is not closed';
    default:
      return `not valid CSV (${csvErrorCode(err) || 'parse error'})`;
  }
}

/**
 * A record that spans lines because a quote opened a field: when it then fails, the user must
 * learn which lines it took with it (valid rows may be among them).
 */
function spanNote(rec: CsvRecord): string {
  if (rec.endLine === rec.startLine) return '';
  return `; a quoted field opened on line ${rec.startLine} ran to line ${rec.endLine}, so lines ${rec.startLine}-${rec.endLine} (${rec.endLine - rec.startLine + 1} lines) were read as this one record and none of them is scored`;
}

function parseRows(text: string): string[][] {
  return parse(text, PARSE_OPTIONS) as string[][];
}

export async function* readCsv(lines: AsyncIterable<RawLine>, opts: CsvOptions, stats: ReaderStats): AsyncGenerator<ReadItem> {
  let header: string[] | undefined;
  let open: { lines: CsvLine[]; quotes: number; bytes: number } | null = null;
  let block: CsvRecord[] = [];
  /** Lines to process before the next one from the input (replayed after a given-up quote). */
  const replay: CsvLine[] = [];

  const setHeader = (rec: CsvRecord): void => {
    if (rec.badUtf8Line !== undefined) {
      throw E.INPUT_INVALID(`line ${rec.startLine}: the CSV header is not valid UTF-8`, { hint: UTF8_HINT });
    }
    let cols: string[][];
    try {
      cols = parseRows(rec.text);
    } catch (err) {
      throw E.INPUT_PARSE(`line ${rec.startLine}: the CSV header could not be parsed: ${describeCsvError(err)}`, {
        hint: 'the first line of a CSV input must be its header row',
      });
    }
    const names = cols[0] ?? [];
    const listed = names.map((n) => JSON.stringify(n)).join(', ');
    const dup = names.find((n, i) => names.indexOf(n) !== i);
    if (dup !== undefined) {
      throw E.INPUT_INVALID(`the CSV header names column "${dup}" twice`, { hint: 'rename one of the columns' });
    }
    for (const [field, flag] of [[opts.textField, '--text-field'], ...(opts.autoId ? [] : [[opts.idField, '--id-field']])] as const) {
      if (!names.includes(field)) {
        throw E.INPUT_INVALID(`the CSV header has no "${field}" column (columns: ${listed})`, {
          hint: `name the column with ${flag}${flag === '--id-field' ? ', or pass --auto-id' : ''}`,
        });
      }
    }
    header = names;
  };

  const rowToItem = (rec: CsvRecord, row: string[]): ReadItem => {
    if (rec.badUtf8Line !== undefined) return lineError(rec.badUtf8Line, 'E_INPUT_INVALID', rec.badUtf8Detail ?? `not valid UTF-8; ${UTF8_HINT}`);
    const cols = header as string[];
    if (row.length !== cols.length) {
      return lineError(rec.startLine, 'E_INPUT_INVALID', `row has ${row.length} fields, the header has ${cols.length}${spanNote(rec)}`);
    }
    const record: Record<string, unknown> = {};
    for (let i = 0; i < cols.length; i++) {
      Object.defineProperty(record, cols[i], { value: row[i], enumerable: true, writable: true, configurable: true });
    }
    return recordToDocument(record, rec.startLine, opts);
  };

  const flushBlock = (): ReadItem[] => {
    const records = block;
    block = [];
    if (records.length === 0) return [];
    try {
      const rows = parseRows(records.map((r) => r.text).join('\n'));
      if (rows.length === records.length) return records.map((r, i) => rowToItem(r, rows[i]));
    } catch {
      /* some record in the block is broken: find it below */
    }
    return records.map((r) => {
      try {
        const rows = parseRows(r.text);
        if (rows.length !== 1) return lineError(r.startLine, 'E_INPUT_PARSE', `not valid CSV (one record expected)${spanNote(r)}`);
        return rowToItem(r, rows[0]);
      } catch (err) {
        return lineError(r.startLine, 'E_INPUT_PARSE', `${describeCsvError(err)}${spanNote(r)}`);
      }
    });
  };

  const complete = (recLines: CsvLine[]): ReadItem[] => {
    const rec: CsvRecord = { startLine: recLines[0].lineNo, endLine: recLines[recLines.length - 1].lineNo, text: recLines.length === 1 ? recLines[0].text : recLines.map((l) => l.text).join('\n') };
    const bad = recLines.find((l) => l.badUtf8);
    if (bad) {
      rec.badUtf8Line = bad.lineNo;
      rec.badUtf8Detail = bad.badUtf8Detail;
    }
    if (!header) {
      setHeader(rec);
      return [];
    }
    block.push(rec);
    return block.length >= BLOCK_RECORDS ? flushBlock() : [];
  };

  /** Gives up the open quoted field: reports its first line, replays the lines after it. */
  const abandon = (reason: string): ReadItem[] => {
    const held = (open as NonNullable<typeof open>).lines;
    open = null;
    replay.unshift(...held.slice(1));
    const start = held[0].lineNo;
    // Records already complete come first, so items stay in line order.
    return [...flushBlock(), lineError(start, 'E_INPUT_PARSE', `broken CSV quoting: the quoted field opened on line ${start} is not closed ${reason}; reading resumes on line ${start + 1}`)];
  };

  const processLine = (line: CsvLine): ReadItem[] => {
    if (line.overlongBytes !== undefined) {
      if (open) {
        replay.unshift(line);
        return abandon(`within ${opts.maxLineBytes} bytes`);
      }
      return [...flushBlock(), lineError(line.lineNo, 'E_INPUT_TOO_LARGE', `line is ${line.overlongBytes} bytes, over the ${opts.maxLineBytes}-byte limit for one line (3 × --max-job-bytes)`)];
    }
    const quotes = countQuotes(line.text);
    if (open) {
      open.lines.push(line);
      open.quotes += quotes;
      open.bytes += line.text.length + 1;
      if (open.quotes % 2 === 0) {
        const recLines = open.lines;
        open = null;
        return complete(recLines);
      }
      return open.bytes > opts.maxLineBytes ? abandon(`within ${opts.maxLineBytes} bytes`) : [];
    }
    if (line.text.trim() === '') {
      stats.skippedBlank += 1;
      return [];
    }
    if (quotes % 2 === 0) return complete([line]);
    // An odd count opens a multi-line field only if csv-parse agrees the line ends inside quotes;
    // a stray quote in an unquoted field (`1,say "hi,x`) is a broken line on its own.
    try {
      parseRows(line.text);
    } catch (err) {
      if (csvErrorCode(err) !== 'CSV_QUOTE_NOT_CLOSED') {
        if (!header) return complete([line]); // setHeader throws the header error
        return [...flushBlock(), lineError(line.lineNo, 'E_INPUT_PARSE', describeCsvError(err))];
      }
    }
    open = { lines: [line], quotes, bytes: line.text.length + 1 };
    return [];
  };

  const toCsvLine = (raw: RawLine): CsvLine => {
    if (raw.overlongBytes !== undefined) return { lineNo: raw.lineNo, text: '', badUtf8: false, overlongBytes: raw.overlongBytes };
    const decoded = decodeLine(raw.bytes, opts.encoding);
    // Invalid UTF-8 is decoded with U+FFFD only to keep the quote structure; the record is reported.
    return decoded.ok ? { lineNo: raw.lineNo, text: decoded.text, badUtf8: false } : { lineNo: raw.lineNo, text: raw.bytes.toString('utf8'), badUtf8: true, badUtf8Detail: invalidUtf8Detail(raw.bytes) };
  };

  const drain = function* (): Generator<ReadItem> {
    while (replay.length > 0) yield* processLine(replay.shift() as CsvLine);
  };

  for await (const raw of lines) {
    yield* processLine(toCsvLine(raw));
    yield* drain();
  }
  while (open) {
    yield* abandon('before the end of the file');
    yield* drain();
  }
  yield* flushBlock();
}
