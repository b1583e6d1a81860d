/**
 * A full Redis (used_memory at maxmemory, policy noeviction) refuses every command that could
 * grow memory with `OOM command not allowed when used memory > 'maxmemory'`; inside MULTI the
 * refusal surfaces as `EXECABORT ... previous errors` with the OOM among them. Reads and
 * deletions (GET, LRANGE, DEL, LREM, HDEL) still work, which is what lets an exporter free
 * memory while producers and workers wait.
 *
 * Every component that writes to Redis routes its writes through `retryOnOom`: it recognises
 * the refusal, logs one E_REDIS_OOM warning per kind of write per 30 s naming used and maximum memory and what to
 * do, counts it (process-wide, exposed as a metric by workers), and retries the same write with
 * backoff until Redis accepts it. Nothing is failed or dropped because of it: the write that
 * Redis refused changed nothing (scripts are refused at their first write, MULTI as a whole).
 */
import type { RedisClient } from './redis.js';
import type { Logger } from './logger.js';
import { E, RobertaBatchError } from './errors.js';
import { sleep } from './util.js';

const OOM = /\bOOM command not allowed\b/;

export function isOomError(err: unknown): boolean {
  if (!err || typeof err !== 'object') return false;
  if (err instanceof RobertaBatchError) return err.code === 'E_REDIS_OOM';
  const e = err as { message?: unknown; previousErrors?: unknown[] };
  if (typeof e.message === 'string' && OOM.test(e.message)) return true;
  // ioredis: an EXECABORT carries the errors of the queued commands.
  return Array.isArray(e.previousErrors) && e.previousErrors.some((p) => isOomError(p));
}

export interface MemoryInfo {
  usedBytes?: number;
  maxBytes?: number;
  policy?: string;
}

/** INFO memory is read-only: Redis answers it when full. */
export async function memoryInfo(redis: Pick<RedisClient, 'info'>): Promise<MemoryInfo> {
  try {
    const text = await redis.info('memory');
    const field = (k: string) => new RegExp(`^${k}:(.*)$`, 'm').exec(text)?.[1]?.trim();
    const num = (k: string) => (field(k) !== undefined ? Number(field(k)) : undefined);
    return { usedBytes: num('used_memory'), maxBytes: num('maxmemory'), policy: field('maxmemory_policy') };
  } catch {
    return {};
  }
}

const mb = (b: number | undefined) => (b === undefined ? 'unknown' : `${(b / 1024 / 1024).toFixed(1)} MB`);

/** Process-wide OOM state, shown by /readyz and counted by the worker metric. */
export const oomState = {
  /** Refusals seen, by component. */
  counts: new Map<string, number>(),
  /** Components that got a refusal and have not had a write accepted since. */
  active: new Set<string>(),
  total(): number {
    let n = 0;
    for (const v of this.counts.values()) n += v;
    return n;
  },
};

export const OOM_HINT = 'raise maxmemory (CONFIG SET maxmemory, or the server config), start an exporter (`roberta-batch results --follow`) so exported results leave Redis, or lower --max-waiting so fewer documents wait in Redis';

const WARN_EVERY_MS = 30_000;

/**
 * One per component (producer, worker, exporter...): rate-limited warning, counts, state.
 * `client` answers INFO memory for the warning (any connection to the same Redis).
 */
export class OomReporter {
  readonly component: string;
  #log: Logger;
  #client: (() => Pick<RedisClient, 'info'> | undefined) | undefined;
  /** Last warning per kind of write: each kind refused is named at once, then once per 30 s. */
  #lastWarn = new Map<string, number>();
  #since: number | undefined;

  constructor(component: string, log: Logger, client?: () => Pick<RedisClient, 'info'> | undefined) {
    this.component = component;
    this.#log = log;
    this.#client = client;
  }

  get active(): boolean {
    return this.#since !== undefined;
  }

  /** Call on every OOM refusal. */
  async refused(what: string): Promise<void> {
    oomState.counts.set(this.component, (oomState.counts.get(this.component) ?? 0) + 1);
    oomState.active.add(this.component);
    this.#since ??= Date.now();
    const now = Date.now();
    if (now - (this.#lastWarn.get(what) ?? -Infinity) < WARN_EVERY_MS) return;
    this.#lastWarn.set(what, now);
    const c = this.#client?.();
    const mem = c ? await memoryInfo(c) : {};
    this.#log.warn({
      code: 'E_REDIS_OOM', component: this.component, what,
      usedMemory: mem.usedBytes, maxMemory: mem.maxBytes, policy: mem.policy, waitingMs: now - this.#since,
      hint: OOM_HINT,
    }, `E_REDIS_OOM: Redis is full (used ${mb(mem.usedBytes)} of maxmemory ${mb(mem.maxBytes)}) and refuses writes; ${this.component} waits and retries (${what})`);
  }

  /** Call after a write was accepted. */
  accepted(): void {
    if (this.#since === undefined) return;
    this.#log.info({ code: 'E_REDIS_OOM', component: this.component, waitedMs: Date.now() - this.#since }, 'Redis accepts writes again: resuming');
    this.#since = undefined;
    oomState.active.delete(this.component);
  }
}

export interface OomRetryOptions {
  /** Stop retrying (the last refusal is thrown) once aborted. */
  signal?: AbortSignal;
  /** Backoff (ms): first, doubled up to max. Default 100 .. 2000. */
  firstDelayMs?: number;
  maxDelayMs?: number;
}

/**
 * Runs `write` until Redis accepts it: OOM refusals are reported and retried with backoff;
 * any other error is thrown at once. Only for writes that are safe to repeat after a refusal
 * (a refused write changed nothing).
 */
export async function retryOnOom<T>(reporter: OomReporter, what: string, write: () => Promise<T>, opts: OomRetryOptions = {}): Promise<T> {
  let delay = opts.firstDelayMs ?? 100;
  const max = opts.maxDelayMs ?? 2_000;
  for (;;) {
    try {
      const r = await write();
      reporter.accepted();
      return r;
    } catch (err) {
      if (!isOomError(err)) throw err;
      if (opts.signal?.aborted) {
        throw E.REDIS_OOM(`stopped while Redis refused writes for lack of memory (${what})`, { hint: OOM_HINT, cause: err });
      }
      await reporter.refused(what);
      await sleep(delay, opts.signal);
      delay = Math.min(max, delay * 2);
    }
  }
}
