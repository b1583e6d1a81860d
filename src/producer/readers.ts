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
import { closeSync, createReadStream, openSync, readSync, statSync, type ReadStream } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { constants as zlibConstants, createGunzip, gunzipSync } from 'node:zlib';
import { E, RobertaBatchError } from '../shared/errors.js';
import { assertTextHead, isGzip, SNIFF_BYTES } from './binary-input.js';
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

/** `.jsonl`/`.ndjson` → jsonl, `.csv` → csv, anything else (and stdin) → text; a `.gz` suffix is looked through. */
export function detectFormat(input: string): InputFormat {
  const ext = path.extname(input.replace(/\.gz$/i, '')).toLowerCase();
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

/**
 * Yields `source` unchanged when its first bytes are text, decompressed when they are gzip;
 * throws E_INPUT_BINARY for anything else (see binary-input.ts).
 */
async function* textOnly(source: AsyncIterable<Buffer | string>, label: string, afterGunzip = false): AsyncGenerator<Buffer | string> {
  const it = source[Symbol.asyncIterator]();
  const head: Buffer[] = [];
  let size = 0;
  let ended = false;
  while (size < SNIFF_BYTES) {
    const r = await it.next();
    if (r.done) {
      ended = true;
      break;
    }
    const b = typeof r.value === 'string' ? Buffer.from(r.value, 'utf8') : r.value;
    head.push(b);
    size += b.length;
  }
  async function* all(): AsyncGenerator<Buffer> {
    yield* head;
    if (ended) return;
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      yield typeof r.value === 'string' ? Buffer.from(r.value, 'utf8') : r.value;
    }
  }
  const first = Buffer.concat(head, size);
  if (isGzip(first) && !afterGunzip) {
    const gunzip = Readable.from(all()).pipe(createGunzip());
    try {
      yield* textOnly(gunzip, label, true);
    } catch (err) {
      if (err instanceof RobertaBatchError) throw err;
      throw E.INPUT_BINARY(`${label} starts like gzip but cannot be decompressed: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, {
        hint: 'check the file (gzip -t FILE)',
        cause: err,
      });
    }
    return;
  }
  if (isGzip(first)) throw E.INPUT_BINARY(`${label} is gzip inside gzip`, { hint: 'decompress it once yourself and pass the result' });
  assertTextHead(first, label, afterGunzip);
  yield* all();
}

/**
 * Checks, before anything slow starts (Redis, the model), that `input` is a readable file whose
 * first bytes are text or gzip: a typo in the path must not cost a model load and hash first.
 */
export function checkInput(input: string): void {
  if (input === '-') return;
  statInput(input);
  let fd: number | undefined;
  try {
    fd = openSync(input, 'r');
    const head = Buffer.alloc(SNIFF_BYTES);
    const n = readSync(fd, head, 0, SNIFF_BYTES, 0);
    if (!isGzip(head.subarray(0, n))) assertTextHead(head.subarray(0, n), input);
    else {
      // The start of a gzip stream inflates on its own (sync flush): enough to see a tarball's NULs.
      let inner: Buffer | undefined;
      try {
        inner = gunzipSync(head.subarray(0, n), { finishFlush: zlibConstants.Z_SYNC_FLUSH, maxOutputLength: 64 * SNIFF_BYTES });
      } catch {
        inner = undefined; // reported with its reason when the file is read
      }
      if (inner) assertTextHead(inner, input, true);
    }
  } catch (err) {
    if (err instanceof RobertaBatchError) throw err;
    throw E.INPUT_INVALID(`cannot read input "${input}": ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { hint: 'check the path and its permissions', cause: err });
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** The size of a regular file (undefined for a pipe); a clear E_INPUT_INVALID when it cannot be read. */
function statInput(input: string): number | undefined {
  try {
    const st = statSync(input);
    if (st.isDirectory()) throw E.INPUT_INVALID(`input "${input}" is a directory`, { hint: 'pass a file, or - to read stdin' });
    return st.isFile() ? st.size : undefined;
  } catch (err) {
    if (err instanceof RobertaBatchError) throw err;
    throw E.INPUT_INVALID(`cannot read input "${input}": ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, {
      hint: 'check the path, or pass - to read stdin',
      cause: err,
    });
  }
}

/** Opens a path or `-` (stdin). Fails early with a clear error when the file cannot be read. */
export function openInput(input: string): OpenedInput {
  if (input === '-') return { stream: process.stdin, name: 'stdin' };
  const size = statInput(input);
  // 1 MiB reads: fewer syscalls and promise turns on multi-GB inputs, still constant memory.
  // A .gz is decompressed as it is read: its size no longer measures progress.
  return { stream: createReadStream(input, { highWaterMark: 1024 * 1024 }), name: path.basename(input), sizeBytes: /\.gz$/i.test(input) ? undefined : size };
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
  const lines = () => splitLines(textOnly(source, name), maxLineBytes, stats);
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
