/**
 * Downloads of large files (a 475 MiB ONNX model) that survive flaky networks:
 *
 * - streamed to `<dest>.part` through a sha256 hash (constant memory, back-pressured);
 * - resumable: an existing `.part` is hashed, then `Range: bytes=N-` is sent; 206 appends,
 *   200 starts over, 416 means the part is already whole when its size is the file's size;
 * - verified (size, then sha256 over the whole file) before an atomic rename to `dest`, so
 *   `dest` is either absent or complete — never half-written;
 * - transient failures (network reset, stalled body, 408/429/5xx) retried with backoff, keeping
 *   the `.part` so each retry resumes where the last one stopped.
 *
 * Node's global fetch (undici) is used: it streams, follows redirects (github.com/.../raw ->
 * media.githubusercontent.com, huggingface.co/resolve -> its CDN) and keeps the Range header
 * across them. `Accept-Encoding: identity` is sent because byte ranges of a compressed
 * representation cannot be appended to a decompressed part.
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import { E, RobertaBatchError } from '../shared/errors.js';
import { LFS_POINTER_PREFIX } from './model-file.js';
import { sleep } from '../shared/util.js';
import { MODEL_MIRROR_ENV } from './registry.js';

/**
 * Backoff between attempts (ms): 1000, 4000, 15000 — four attempts over ~20 s, enough to ride out
 * a CDN hiccup or a connection reset without hiding a real outage for long. A `Retry-After` header
 * (429/503) lengthens a wait, capped at 60 s.
 */
export const DEFAULT_RETRY_DELAYS_MS: readonly number[] = Object.freeze([1_000, 4_000, 15_000]);
const MAX_RETRY_AFTER_MS = 60_000;
/** No byte for this long (ms) aborts the attempt as transient: a stalled TCP stream never errors by itself. */
export const DEFAULT_IDLE_TIMEOUT_MS = 60_000;

export interface DownloadProgress {
  url: string;
  dest: string;
  /** Bytes in the file so far, including those resumed from the `.part`. */
  received: number;
  total: number | undefined;
  /** Bytes that were already in the `.part` when this attempt started. */
  resumedFrom: number;
}

export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

export interface DownloadOptions {
  url: string;
  dest: string;
  expectedSize?: number;
  /** Lower-case or upper-case hex sha256 of the whole file. */
  sha256?: string;
  onProgress?: (p: DownloadProgress) => void;
  signal?: AbortSignal;
  /** Defaults to the global fetch; injectable for tests and proxies. */
  fetchImpl?: FetchLike;
  /** One entry per retry; `[]` disables retries. Defaults to DEFAULT_RETRY_DELAYS_MS. */
  retryDelaysMs?: readonly number[];
  idleTimeoutMs?: number;
}

export interface DownloadResult {
  path: string;
  bytes: number;
  /** Hex sha256 of the file (computed even when none was expected, so it can be pinned). */
  sha256: string | undefined;
  /** True when dest was already complete and nothing was fetched. */
  skipped: boolean;
  /** Bytes reused from a `.part` left by an earlier, interrupted run. */
  resumedFrom: number;
}

/** A failure worth another attempt; anything else is final. */
class TransientError extends Error {
  constructor(message: string, readonly retryAfterMs?: number, readonly status?: number, options?: ErrorOptions) {
    super(message, options);
    this.name = 'TransientError';
  }
}

export async function downloadFile(options: DownloadOptions): Promise<DownloadResult> {
  const { url, dest, expectedSize, signal } = options;
  const sha256 = options.sha256?.toLowerCase();
  const delays = options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
  const part = `${dest}.part`;
  await mkdir(path.dirname(path.resolve(dest)), { recursive: true });

  const existing = await checkExisting(dest, expectedSize, sha256);
  if (existing) return existing;

  let resumedFrom = 0;
  let done: { bytes: number; sha256: string } | undefined;
  for (let attempt = 0; done === undefined; attempt++) {
    signal?.throwIfAborted();
    try {
      const r = await attempt1(options, part, sha256);
      if (attempt === 0) resumedFrom = r.resumedFrom;
      done = r;
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      if (err instanceof RobertaBatchError) throw err;
      if (!(err instanceof TransientError)) {
        throw E.DOWNLOAD(`download of ${url} to ${dest} failed: ${(err as Error)?.message ?? String(err)}`, {
          hint: isFileSystemError(err) || (err as { code?: unknown } | null)?.code !== undefined
            ? `check free disk space and write permission on ${path.dirname(dest)}; remove ${part} if it is not a file`
            : 'this looks like a bug; run again with the same command and report the message if it persists',
          cause: err,
          context: { url, dest },
        });
      }
      if (attempt >= delays.length) {
        throw E.DOWNLOAD(`download of ${url} failed after ${attempt + 1} attempt(s): ${err.message}`, {
          hint: err.status !== undefined && err.status >= 500
            ? 'the server is failing; run the same command again later, or use a mirror (docs/MODELS.md)'
            : `check the network or proxy; the partial file ${part} is kept and the next run resumes from it`,
          cause: err,
          context: { url, dest, ...(err.status === undefined ? {} : { status: err.status }) },
        });
      }
      const wait = Math.min(MAX_RETRY_AFTER_MS, Math.max(delays[attempt], err.retryAfterMs ?? 0));
      await sleep(wait, signal);
      signal?.throwIfAborted();
    }
  }

  await verify(url, part, done, expectedSize, sha256);
  await fsyncFile(part);
  await rename(part, dest);
  return { path: dest, bytes: done.bytes, sha256: done.sha256, skipped: false, resumedFrom };
}

/** dest already there and, as far as we can tell, right: no request at all. */
async function checkExisting(dest: string, expectedSize: number | undefined, sha256: string | undefined): Promise<DownloadResult | undefined> {
  const st = await stat(dest).catch(() => undefined);
  if (!st?.isFile()) return undefined;
  if (expectedSize !== undefined && st.size !== expectedSize) return undefined;
  let digest: string | undefined;
  if (sha256 !== undefined) {
    digest = (await hashFile(dest, st.size)).digest('hex');
    if (digest !== sha256) return undefined;
  }
  // Neither size nor hash pinned (tokenizer files): an existing file is taken as is.
  return { path: dest, bytes: st.size, sha256: digest, skipped: true, resumedFrom: 0 };
}

/** One HTTP exchange; resolves when the `.part` holds the whole body the server meant to send. */
async function attempt1(options: DownloadOptions, part: string, sha256: string | undefined): Promise<{ bytes: number; sha256: string; resumedFrom: number }> {
  const { url, dest, expectedSize, onProgress, signal } = options;
  const fetchImpl: FetchLike = options.fetchImpl ?? ((input, init) => fetch(input, init));
  const idleMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;

  let offset = (await stat(part).catch(() => undefined))?.size ?? 0;
  if (expectedSize !== undefined && offset > expectedSize) {
    await rm(part, { force: true });
    offset = 0;
  }
  // Hashing the part first lets the sha256 cover the whole file without reading it twice.
  const hash = offset > 0 ? await hashFile(part, offset) : createHash('sha256');
  if (expectedSize !== undefined && offset === expectedSize) {
    return { bytes: offset, sha256: hash.digest('hex'), resumedFrom: offset };
  }

  const idle = new AbortController();
  let idleTimer: NodeJS.Timeout | undefined;
  const armIdle = () => {
    clearTimeout(idleTimer);
    idleTimer = setTimeout(() => idle.abort(new TransientError(`no data received for ${idleMs} ms`)), idleMs);
  };
  const combined = signal ? AbortSignal.any([signal, idle.signal]) : idle.signal;

  try {
    armIdle();
    const headers: Record<string, string> = { 'accept-encoding': 'identity' };
    if (offset > 0) headers.range = `bytes=${offset}-`;
    let res: Response;
    try {
      res = await fetchImpl(url, { headers, redirect: 'follow', signal: combined });
    } catch (err) {
      throw asTransient(err, signal, idle.signal);
    }

    let total: number | undefined;
    if (res.status === 206) {
      const cr = parseContentRange(res.headers.get('content-range'));
      if (!cr || cr.start !== offset) {
        await res.body?.cancel().catch(() => {});
        await rm(part, { force: true });
        throw new TransientError(`server answered the range request for byte ${offset} with "${res.headers.get('content-range')}"; starting over`);
      }
      total = cr.total;
    } else if (res.status === 200) {
      offset = 0; // server ignored the Range header (or none was sent): the body is the whole file
      total = contentLength(res);
    } else if (res.status === 416) {
      await res.body?.cancel().catch(() => {});
      const cr = parseContentRange(res.headers.get('content-range'));
      if (offset > 0 && (cr?.total === offset || expectedSize === offset)) {
        return { bytes: offset, sha256: hash.digest('hex'), resumedFrom: offset };
      }
      await rm(part, { force: true });
      throw new TransientError(`server rejected the range request for byte ${offset} (HTTP 416); starting over`, undefined, 416);
    } else {
      await res.body?.cancel().catch(() => {});
      throw httpError(res.status, url, res.headers.get('retry-after'));
    }

    const fresh = res.status === 200 ? createHash('sha256') : hash;
    if (expectedSize !== undefined && total !== undefined && total !== expectedSize) {
      await res.body?.cancel().catch(() => {});
      await rm(part, { force: true });
      throw sizeMismatch(url, dest, total, expectedSize, 'the server reports');
    }
    total ??= expectedSize;

    let received = 0;
    const start = offset;
    const report = () => onProgress?.({ url, dest, received: start + received, total, resumedFrom: start });
    report();
    const counter = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        armIdle();
        received += chunk.length;
        if (expectedSize !== undefined && start + received > expectedSize) {
          cb(sizeMismatch(url, dest, start + received, expectedSize, 'the server sent more than'));
          return;
        }
        fresh.update(chunk);
        report();
        cb(null, chunk);
      },
    });
    const out = createWriteStream(part, { flags: start > 0 ? 'a' : 'w' });
    try {
      const body = res.body ? Readable.fromWeb(res.body as unknown as NodeReadableStream<Uint8Array>) : Readable.from([]);
      await pipeline(body, counter, out);
    } catch (err) {
      // The fd must be closed before a retry re-reads the part.
      if (!out.closed) await new Promise<void>((r) => out.once('close', () => r()));
      if (err instanceof RobertaBatchError) {
        if (err.code === 'E_CHECKSUM') await rm(part, { force: true });
        throw err;
      }
      if (isFileSystemError(err)) throw err; // not transient: wrapped with a disk hint by downloadFile
      throw asTransient(err, signal, idle.signal);
    }
    const len = contentLength(res);
    if (len !== undefined && received < len) {
      throw new TransientError(`connection ended after ${received} of ${len} bytes`);
    }
    return { bytes: start + received, sha256: fresh.digest('hex'), resumedFrom: start };
  } finally {
    clearTimeout(idleTimer);
  }
}

async function verify(url: string, part: string, done: { bytes: number; sha256: string }, expectedSize: number | undefined, sha256: string | undefined): Promise<void> {
  const dest = part.slice(0, -'.part'.length);
  if (expectedSize !== undefined && done.bytes !== expectedSize) {
    await rm(part, { force: true });
    throw sizeMismatch(url, dest, done.bytes, expectedSize, 'downloaded');
  }
  if (sha256 !== undefined && done.sha256 !== sha256) {
    const lfsPointer = await looksLikeLfsPointer(part);
    await rm(part, { force: true });
    throw E.CHECKSUM(`sha256 of ${url} is ${done.sha256}, expected ${sha256}`, {
      hint: lfsPointer
        ? 'the server sent a Git LFS pointer instead of the file: use the media.githubusercontent.com/media/... form of the URL, or fix the mirror (docs/MODELS.md)'
        : 'the partial file was removed; run the same command again. If it fails again, the file at the source or mirror differs from the pinned one: check the mirror (docs/MODELS.md)',
      context: { url, dest, expected: sha256, actual: done.sha256 },
    });
  }
}

function sizeMismatch(url: string, dest: string, actual: number, expected: number, what: string): RobertaBatchError {
  return E.CHECKSUM(`${what} ${actual} bytes for ${url}, expected ${expected}`, {
    hint: actual < 1024
      ? 'a tiny file is usually an error page or a Git LFS pointer: check the URL or mirror (docs/MODELS.md)'
      : 'the file at the source or mirror is not the pinned one; the partial file was removed; check the mirror (docs/MODELS.md)',
    context: { url, dest, expectedSize: expected, actualSize: actual },
  });
}

function httpError(status: number, url: string, retryAfter: string | null): Error {
  if (status === 408 || status === 429 || status >= 500) {
    return new TransientError(`HTTP ${status} from ${url}`, parseRetryAfter(retryAfter), status);
  }
  const hint = status === 404
    ? `the file is not at this URL; if you use a mirror (${MODEL_MIRROR_ENV} or baseUrl), check that it has the layout in docs/MODELS.md`
    : status === 401 || status === 403
      ? 'the server refused access; a mirror or proxy may need credentials, or the file may have moved'
      : 'the server rejected the request; check the URL';
  return E.DOWNLOAD(`HTTP ${status} from ${url}`, { hint, context: { url, status } });
}

/** Network-level failures (reset, DNS, TLS, premature close, idle timeout) are transient; a user abort is not. */
function asTransient(err: unknown, userSignal: AbortSignal | undefined, idleSignal: AbortSignal): unknown {
  if (userSignal?.aborted) return userSignal.reason;
  if (idleSignal.aborted && idleSignal.reason instanceof TransientError) return idleSignal.reason;
  if (err instanceof TransientError || err instanceof RobertaBatchError) return err;
  const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
  const message = err instanceof Error ? `${err.message}${cause}` : String(err);
  return new TransientError(message, undefined, undefined, { cause: err });
}

/**
 * A failure of the .part file itself (ENOSPC, EACCES...): retrying cannot help. Checked by syscall
 * because pipeline() destroys the write stream with the *read* side's error too, so "the write
 * stream emitted it" does not tell the two apart.
 */
function isFileSystemError(err: unknown): boolean {
  const syscall = (err as { syscall?: unknown } | null)?.syscall;
  return typeof syscall === 'string' && ['open', 'write', 'close', 'fsync', 'ftruncate'].includes(syscall);
}

function parseContentRange(v: string | null): { start: number; end?: number; total?: number } | undefined {
  if (!v) return undefined;
  const m = /^bytes\s+(?:(\d+)-(\d+)|\*)\/(\d+|\*)$/i.exec(v.trim());
  if (!m) return undefined;
  const total = m[3] === '*' ? undefined : Number(m[3]);
  if (m[1] === undefined) return { start: Number.NaN, total };
  return { start: Number(m[1]), end: Number(m[2]), total };
}

function contentLength(res: Response): number | undefined {
  const v = res.headers.get('content-length');
  if (v === null || !/^\d+$/.test(v)) return undefined;
  const n = Number(v);
  return res.status === 206 || res.status === 200 ? n : undefined;
}

function parseRetryAfter(v: string | null): number | undefined {
  if (!v) return undefined;
  if (/^\d+$/.test(v.trim())) return Number(v.trim()) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

async function hashFile(file: string, bytes: number): Promise<Hash> {
  const hash = createHash('sha256');
  if (bytes === 0) return hash;
  for await (const chunk of createReadStream(file, { start: 0, end: bytes - 1 })) hash.update(chunk as Buffer);
  return hash;
}

async function looksLikeLfsPointer(file: string): Promise<boolean> {
  const fh = await open(file, 'r').catch(() => undefined);
  if (!fh) return false;
  try {
    const buf = Buffer.alloc(64);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    return buf.subarray(0, bytesRead).toString('utf8').startsWith(LFS_POINTER_PREFIX);
  } finally {
    await fh.close();
  }
}

/** Data on disk before the rename, so a crash cannot leave a complete-looking but empty dest. */
async function fsyncFile(file: string): Promise<void> {
  const fh = await open(file, 'r+');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
