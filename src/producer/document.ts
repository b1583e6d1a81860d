/**
 * What every reader yields, and the one place where a parsed record (a JSON object, a CSV row)
 * becomes a DocumentInput: id and text picked by field name, every other field kept as `meta`.
 */
import type { ErrorCode } from '../shared/errors.js';
import type { DocumentInput } from '../shared/types.js';
import { looksLikeText } from './binary-input.js';

export interface ReadError {
  code: ErrorCode;
  /** Starts with `line N: `; never contains document text. */
  message: string;
  id?: string;
}

export type ReadItem =
  | { lineNo: number; doc: DocumentInput; error?: undefined }
  | { lineNo: number; error: ReadError; doc?: undefined };

export interface ReaderStats {
  /** Bytes consumed from the input so far (for a progress bar against the file size). */
  bytesRead: number;
  /** Blank (empty or whitespace-only) lines skipped; they are not documents and not errors. */
  skippedBlank: number;
}

export interface FieldOptions {
  idField: string;
  textField: string;
  /** Missing (or null) id → `<autoIdPrefix>:<lineNo>` instead of an error. */
  autoId: boolean;
  /** Input basename, `stdin`, or --id-prefix. */
  autoIdPrefix: string;
}

export const UTF8_HINT = 're-run with --encoding latin1';

/**
 * Why a line is not UTF-8, suggesting latin-1 only when its bytes look like text: on control
 * bytes (a binary file) latin-1 would "decode" anything and every garbage line would be scored.
 */
export function invalidUtf8Detail(bytes: Buffer): string {
  return looksLikeText(bytes) ? `not valid UTF-8; ${UTF8_HINT}` : 'not valid UTF-8 and holds control bytes: binary data, not text (--encoding latin1 would not make it text)';
}

export function lineError(lineNo: number, code: ErrorCode, detail: string, id?: string): ReadItem {
  const error: ReadError = { code, message: `line ${lineNo}: ${detail}` };
  if (id !== undefined) error.id = id;
  return { lineNo, error };
}

export function autoIdFor(prefix: string, lineNo: number): string {
  return `${prefix}:${lineNo}`;
}

function describeType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

/** Builds a document from one record; the record object is consumed (its fields become meta). */
export function recordToDocument(record: Record<string, unknown>, lineNo: number, f: FieldOptions): ReadItem {
  const rawId = record[f.idField];
  let id: string;
  if (rawId === undefined || rawId === null || rawId === '') {
    if (!f.autoId) {
      const what = rawId === undefined ? `no "${f.idField}" field` : `"${f.idField}" is empty`;
      return lineError(lineNo, 'E_INPUT_INVALID', `${what} (set --id-field, or --auto-id to number documents by line)`);
    }
    id = autoIdFor(f.autoIdPrefix, lineNo);
  } else if (typeof rawId === 'string') {
    id = rawId;
  } else if (typeof rawId === 'number' && Number.isFinite(rawId)) {
    id = String(rawId);
  } else {
    return lineError(lineNo, 'E_INPUT_INVALID', `"${f.idField}" must be a string or a number, got ${describeType(rawId)}`);
  }
  if (!(f.textField in record)) {
    return lineError(lineNo, 'E_INPUT_INVALID', `no "${f.textField}" field (set --text-field)`, id);
  }
  const text = record[f.textField];
  let meta: Record<string, unknown> | undefined;
  for (const key of Object.keys(record)) {
    if (key === f.idField || key === f.textField) continue;
    meta ??= {};
    // defineProperty: a JSON key "__proto__" must stay data, not replace meta's prototype.
    Object.defineProperty(meta, key, { value: record[key], enumerable: true, writable: true, configurable: true });
  }
  // Non-string text (a number, null, an object) is passed on: the worker owns text validation.
  const doc: DocumentInput = meta ? { id, text, meta } : { id, text };
  return { lineNo, doc };
}
