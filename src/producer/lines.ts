/**
 * Splits a byte stream into lines without decoding it first, so that each line can be
 * checked for valid UTF-8 on its own (a decoder over the whole stream would silently turn
 * latin-1 bytes into U+FFFD) and memory stays bounded by the longest line we agree to hold.
 */
import { isUtf8 } from 'node:buffer';

export type InputEncoding = 'utf8' | 'latin1';

export interface RawLine {
  /** 1-based. */
  lineNo: number;
  /** The line without its `\n` / `\r\n`; empty when `overlongBytes` is set. */
  bytes: Buffer;
  /** Set when the line was longer than `maxLineBytes`: its length, the bytes were dropped. */
  overlongBytes?: number;
}

export interface LineCounters {
  bytesRead: number;
}

const NL = 0x0a;
const CR = 0x0d;
const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/**
 * Yields every line of `source`. A line longer than `maxLineBytes` is not buffered: its bytes
 * are dropped as they arrive and it is yielded with `overlongBytes`, so a 10 GB file without
 * newlines costs at most `maxLineBytes` of memory. A UTF-8 BOM at the start is removed.
 */
export async function* splitLines(
  source: AsyncIterable<Buffer | string>,
  maxLineBytes: number,
  counters: LineCounters = { bytesRead: 0 },
): AsyncGenerator<RawLine> {
  let parts: Buffer[] = [];
  let partBytes = 0;
  let overlong = false;
  let lineNo = 0;

  const finish = (tail: Buffer): RawLine => {
    lineNo += 1;
    const size = partBytes + tail.length;
    let line: RawLine;
    if (overlong || size > maxLineBytes) {
      line = { lineNo, bytes: Buffer.alloc(0), overlongBytes: size };
    } else {
      let bytes = parts.length === 0 ? tail : Buffer.concat([...parts, tail], size);
      if (bytes.length > 0 && bytes[bytes.length - 1] === CR) bytes = bytes.subarray(0, bytes.length - 1);
      // On the line, not the first chunk: a chunk may be shorter than the 3-byte BOM.
      if (lineNo === 1 && bytes.subarray(0, 3).equals(UTF8_BOM)) bytes = bytes.subarray(3);
      line = { lineNo, bytes };
    }
    parts = [];
    partBytes = 0;
    overlong = false;
    return line;
  };

  for await (const piece of source) {
    const chunk = typeof piece === 'string' ? Buffer.from(piece, 'utf8') : piece;
    counters.bytesRead += chunk.length;
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(NL, start);
      if (nl === -1) break;
      yield finish(chunk.subarray(start, nl));
      start = nl + 1;
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      partBytes += rest.length;
      if (overlong || partBytes > maxLineBytes) {
        overlong = true;
        parts = [];
      } else {
        // Copy: the stream may reuse its buffer, and a subarray would pin the whole chunk.
        parts.push(Buffer.from(rest));
      }
    }
  }
  if (partBytes > 0 || overlong) yield finish(Buffer.alloc(0));
}

export type Decoded = { ok: true; text: string } | { ok: false };

/** Decodes one line; with utf8, bytes that are not valid UTF-8 are refused rather than replaced. */
export function decodeLine(bytes: Buffer, encoding: InputEncoding): Decoded {
  if (encoding === 'latin1') return { ok: true, text: bytes.toString('latin1') };
  if (!isUtf8(bytes)) return { ok: false };
  return { ok: true, text: bytes.toString('utf8') };
}
