/**
 * Streamed document readers for JSON Lines, CSV and plain text, in constant memory: the input
 * is split into lines as bytes (see lines.ts), each format turns lines into
 * `{ lineNo, doc }` or `{ lineNo, error }` items, and nothing else is held.
 *
 * Decisions (documented for users in `roberta-batch enqueue --help`):
 * - With `--encoding utf8` (the default) a line that is not valid UTF-8 is reported as
 *   E_INPUT_INVALID ("line 5: not valid UTF-8; re-run with --encoding latin1") and not enqueued,
 *   instead of being decoded with U+FFFD (which would silently change the text that is scored).
 * - Blank lines are skipped and counted in `stats.skippedBlank` (not reported as errors).
 * - A line longer than `maxLineBytes` is never held in memory: it is reported as E_INPUT_TOO_LARGE.
 */
import { createReadStream, statSync, type ReadStream } from 'node:fs';
import path from 'node:path';
import { RobertaBatchError } from '../shared/errors.js';
import { readCsv } from './csv-reader.js';
import type { ReadItem, ReaderStats } from './document.js';
import { readJsonl } from './jsonl-reader.js';
import { splitLines, type InputEncoding } from './lines.js';
import { readText } from './text-reader.js';

export type { ReadError, ReadItem, ReaderStats } from './document.js';
export type { InputEncoding } from './lines.js';

export const INPUT_FORMATS = ['auto', 'jsonl', 'csv', 'text'] as const;
export type InputFormatOption = (typeof INPUT_FORMATS)[number];
export type InputFormat = Exclude<InputFormatOption, 'auto'>;

export interface ReaderOptions {
  format?: InputFormatOption;
  /** JSONL/CSV field holding the document id (default `id`). */
  idField?: string;
  /** JSONL/CSV field holding the text (default `text`). */
  textField?: string;
  /** JSONL/CSV: number documents without an id as `<idPrefix>:<lineNo>` instead of reporting them. */
  autoId?: boolean;
  /** Prefix of generated ids (text format, --auto-id); default: the input's basename, `stdin` for `-`. */
  idPrefix?: string;
  encoding?: InputEncoding;
  /** Longest line held in memory, in bytes (default 6 MiB: 3 × the 2 MiB job limit, the worst JSON escaping ratio). */
  maxLineBytes?: number;
}

export const DEFAULT_MAX_LINE_BYTES = 6 * 1024 * 1024;

export interface DocumentReader extends AsyncIterable<ReadItem> {
  readonly format: InputFormat;
  readonly stats: Readonly<ReaderStats>;
}

/** `.jsonl`/`.ndjson` → jsonl, `.csv` → csv, anything else (and stdin) → text. */
export function detectFormat(input: string): InputFormat {
  const ext = path.extname(input).toLowerCase();
  if (ext === '.jsonl' || ext === '.ndjson') return 'jsonl';
  if (ext === '.csv') return 'csv';
  return 'text';
}

export interface OpenedInput {
  stream: AsyncIterable<Buffer | string>;
  /** Basename for generated ids; `stdin` for `-`. */
  name: string;
  /** File size in bytes (undefined for stdin and pipes). */
  sizeBytes?: number;
}

/** Opens a path or `-` (stdin). Fails early with a clear error when the file cannot be read. */
export function openInput(input: string): OpenedInput {
  if (input === '-') return { stream: process.stdin, name: 'stdin' };
  let size: number | undefined;
  try {
    const st = statSync(input);
    if (st.isDirectory()) throw new RobertaBatchError('E_INPUT_INVALID', `input "${input}" is a directory`, { hint: 'pass a file, or - to read stdin' });
    size = st.isFile() ? st.size : undefined;
  } catch (err) {
    if (err instanceof RobertaBatchError) throw err;
    throw new RobertaBatchError('E_INPUT_INVALID', `cannot read input "${input}": ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, {
      hint: 'check the path, or pass - to read stdin',
      cause: err,
    });
  }
  // 1 MiB reads: fewer syscalls and promise turns on multi-GB inputs, still constant memory.
  return { stream: createReadStream(input, { highWaterMark: 1024 * 1024 }), name: path.basename(input), sizeBytes: size };
}

export function readDocuments(source: AsyncIterable<Buffer | string>, name: string, opts: ReaderOptions = {}): DocumentReader {
  const format = !opts.format || opts.format === 'auto' ? detectFormat(name) : opts.format;
  const stats: ReaderStats = { bytesRead: 0, skippedBlank: 0 };
  const encoding = opts.encoding ?? 'utf8';
  const maxLineBytes = opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  const fields = {
    idField: opts.idField ?? 'id',
    textField: opts.textField ?? 'text',
    autoId: opts.autoId ?? false,
    autoIdPrefix: opts.idPrefix ?? name,
  };
  const lines = () => splitLines(source, maxLineBytes, stats);
  return {
    format,
    stats,
    [Symbol.asyncIterator]() {
      switch (format) {
        case 'jsonl':
          return readJsonl(lines(), { ...fields, encoding, maxLineBytes }, stats);
        case 'csv':
          return readCsv(lines(), { ...fields, encoding, maxLineBytes }, stats);
        case 'text':
          return readText(lines(), { idPrefix: fields.autoIdPrefix, encoding, maxLineBytes }, stats);
      }
    },
  };
}

/** Opens `input` (a path or `-`) and reads it; `format: 'auto'` looks at the extension. */
export interface FileReader extends DocumentReader {
  readonly name: string;
  readonly sizeBytes?: number;
  /** Releases the file when the reader is abandoned before the end (a no-op for stdin). */
  destroy(): void;
}

export function readFile(input: string, opts: ReaderOptions = {}): FileReader {
  const opened = openInput(input);
  const reader = readDocuments(opened.stream, opened.name, opts);
  const destroy = () => {
    if (opened.stream !== process.stdin) (opened.stream as ReadStream).destroy();
  };
  return Object.assign(reader, { sizeBytes: opened.sizeBytes, name: opened.name, destroy });
}
