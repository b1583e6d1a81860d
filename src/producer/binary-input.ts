/**
 * Binary and compressed input is refused before a single line is scored: a text reader would
 * otherwise split an executable or a .csv.gz at its 0x0a bytes and score the garbage (198
 * "documents" out of /bin/ls). gzip alone is read transparently, since `zcat` is what a user
 * would do anyway; every other container is named so the user knows what to unpack.
 */
import { E } from '../shared/errors.js';

/** Bytes looked at: git's own binary heuristic reads the first 8000 for NUL. */
export const SNIFF_BYTES = 8000;

interface Magic {
  what: string;
  bytes: number[];
  /** Extra check after the magic (bzip2's "BZh" is also plain text). */
  rest?: (b: Buffer) => boolean;
}

const MAGICS: Magic[] = [
  { what: 'a zip archive', bytes: [0x50, 0x4b, 0x03, 0x04] },
  { what: 'a zip archive', bytes: [0x50, 0x4b, 0x05, 0x06] },
  { what: 'bzip2-compressed data', bytes: [0x42, 0x5a, 0x68], rest: (b) => b.length >= 10 && b[3] >= 0x31 && b[3] <= 0x39 && b.subarray(4, 10).equals(Buffer.from([0x31, 0x41, 0x59, 0x26, 0x53, 0x59])) },
  { what: 'xz-compressed data', bytes: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00] },
  { what: 'zstd-compressed data', bytes: [0x28, 0xb5, 0x2f, 0xfd] },
  { what: 'a 7z archive', bytes: [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c] },
  { what: 'a Parquet file', bytes: [0x50, 0x41, 0x52, 0x31] },
  { what: 'UTF-16 text', bytes: [0xff, 0xfe] },
  { what: 'UTF-16 text', bytes: [0xfe, 0xff] },
];

const GZIP = [0x1f, 0x8b];

const startsWith = (b: Buffer, magic: number[]) => b.length >= magic.length && magic.every((x, i) => b[i] === x);

export function isGzip(head: Buffer): boolean {
  return startsWith(head, GZIP);
}

/** Throws E_INPUT_BINARY when the first bytes of `label` are not text (gzip excepted: see isGzip). */
export function assertTextHead(head: Buffer, label: string, afterGunzip = false): void {
  const of = afterGunzip ? `${label} (after gunzip)` : label;
  const magic = MAGICS.find((m) => startsWith(head, m.bytes) && (!m.rest || m.rest(head)));
  if (magic) {
    const hint = magic.what === 'UTF-16 text'
      ? 'convert it to UTF-8 first, e.g. iconv -f UTF-16 -t UTF-8 FILE > FILE.utf8'
      : 'unpack it and pass the text file, or pipe it in: e.g. unzip -p FILE | roberta-batch run - --format jsonl --out ...';
    throw E.INPUT_BINARY(`${of} is ${magic.what}, not text`, { hint });
  }
  const nul = head.subarray(0, SNIFF_BYTES).indexOf(0);
  if (nul !== -1) {
    throw E.INPUT_BINARY(`${of} holds a NUL byte at offset ${nul}: binary data, not text`, {
      hint: 'pass a JSON Lines, CSV or plain text file; a gzip-compressed one is read as it is',
    });
  }
}

/**
 * Whether undecodable bytes still look like text in a single-byte encoding (latin-1), i.e.
 * worth suggesting --encoding latin1: no C0 control bytes other than tab, CR, FF, VT and ESC.
 */
export function looksLikeText(bytes: Buffer): boolean {
  for (const b of bytes) {
    if (b < 0x20 && b !== 0x09 && b !== 0x0d && b !== 0x0c && b !== 0x0b && b !== 0x1b) return false;
    if (b === 0x7f) return false;
  }
  return true;
}
