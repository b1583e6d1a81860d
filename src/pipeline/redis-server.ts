/**
 * A redis-server of our own: on a free port (or a given one), in a temp folder that goes with
 * it, bound to 127.0.0.1. `run` starts one when no Redis listens, chaos and soak own theirs,
 * tests restart or starve theirs. Only the pid started here is ever signalled.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { E } from '../shared/errors.js';
import { freePort } from '../shared/ports.js';
import { sleep } from '../shared/util.js';

export interface RedisServerOptions {
  /** Default: a free port. A fixed one lets a caller hand out the URL before Redis is up. */
  port?: number;
  /**
   * Append-only file fsynced on every write (`appendfsync always`): after a SIGKILL the server
   * comes back with every acknowledged write. Default off (nothing is written to disk).
   */
  appendonly?: boolean;
  /** More redis-server arguments, after ours: a later one wins (`--maxmemory-policy allkeys-lru`). */
  args?: string[];
  /** Its own process group: a Ctrl-C in the terminal does not reach it (`run` stops it after its workers). */
  detached?: boolean;
  /** How long `start()` waits for the server to answer (ms). Default 15000. */
  startTimeoutMs?: number;
  /** Prefix of the temp folder's name. */
  dirPrefix?: string;
}

/** How long `stop()` waits after SIGTERM before SIGKILL (ms): a paused (SIGSTOP) server never handles SIGTERM. */
const STOP_DEADLINE_MS = 5_000;
/** Readiness poll (ms). */
const POLL_MS = 50;

export class RedisServer {
  readonly port: number;
  /** Its working folder (append-only file, dumps); removed by `stop()`. */
  readonly dir: string;
  readonly #args: string[];
  readonly #detached: boolean;
  readonly #startTimeoutMs: number;
  #child: ChildProcess | undefined;

  private constructor(port: number, dir: string, opts: RedisServerOptions) {
    this.port = port;
    this.dir = dir;
    this.#detached = opts.detached ?? false;
    this.#startTimeoutMs = opts.startTimeoutMs ?? 15_000;
    this.#args = [
      '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '',
      '--appendonly', opts.appendonly ? 'yes' : 'no', '--appendfsync', 'always',
      // Workers refuse a Redis that may evict their jobs.
      '--maxmemory-policy', 'noeviction',
      ...(opts.args ?? []),
    ];
  }

  /** Spawns the server and resolves once it answers; E_REDIS_MISSING when redis-server is not installed. */
  static async start(opts: RedisServerOptions = {}): Promise<RedisServer> {
    const port = opts.port ?? (await freePort());
    const server = new RedisServer(port, mkdtempSync(path.join(os.tmpdir(), opts.dirPrefix ?? 'rb-redis-')), opts);
    try {
      await server.start();
    } catch (err) {
      await server.stop();
      throw err;
    }
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  get running(): boolean {
    const c = this.#child;
    return c !== undefined && c.exitCode === null && c.signalCode === null;
  }

  /** (Re)starts the server on the same port and folder: after `kill()`, it loads what the append-only file holds. */
  async start(): Promise<void> {
    if (this.running) return;
    const child = spawn('redis-server', this.#args, { stdio: 'ignore', detached: this.#detached });
    const failed = await new Promise<Error | undefined>((resolve) => {
      child.once('error', resolve);
      child.once('spawn', () => resolve(undefined));
    });
    if (failed) {
      throw E.REDIS_MISSING('redis-server is not installed: a private Redis cannot be started', {
        hint: 'install Redis (apt-get install redis-server, brew install redis) or set REDIS_URL=redis://host:port',
        cause: failed,
      });
    }
    this.#child = child;
    const deadline = Date.now() + this.#startTimeoutMs;
    for (;;) {
      if (!this.running) {
        throw E.REDIS_UNREACHABLE(`redis-server on port ${this.port} exited at start (code ${child.exitCode ?? child.signalCode})`, {
          hint: `run redis-server ${this.#args.join(' ')} by hand to see why (port taken, unknown option)`,
        });
      }
      if (await answers(this.port)) return;
      if (Date.now() > deadline) {
        throw E.REDIS_UNREACHABLE(`redis-server on port ${this.port} did not answer within ${this.#startTimeoutMs} ms`);
      }
      await sleep(POLL_MS);
    }
  }

  /** SIGKILL: what survives is what the append-only file holds. */
  async kill(): Promise<void> {
    await this.#signal('SIGKILL', Infinity);
  }

  /** SIGTERM, SIGKILL after `deadlineMs`, then its folder is removed. Idempotent. */
  async stop(deadlineMs = STOP_DEADLINE_MS): Promise<void> {
    if (!(await this.#signal('SIGTERM', deadlineMs))) await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** True once the process has exited (or was not running); false when `deadlineMs` passed first. */
  async #signal(signal: NodeJS.Signals, deadlineMs: number): Promise<boolean> {
    const c = this.#child;
    // A process ended by a signal has exitCode null and signalCode set: killing it twice
    // (kill() then stop()) must not wait for an 'exit' that already happened.
    if (!c || c.exitCode !== null || c.signalCode !== null) return true;
    const exited = new Promise<boolean>((resolve) => c.once('exit', () => resolve(true)));
    c.kill(signal);
    if (deadlineMs === Infinity) return exited;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(false), deadlineMs); });
    try {
      return await Promise.race([exited, late]);
    } finally {
      clearTimeout(timer);
    }
  }
}

/**
 * One PING over a bare socket. Any reply but `-LOADING` counts: a server with `requirepass`
 * answers `-NOAUTH`, and it is up; one still loading its append-only file is not.
 */
function answers(port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    const done = (ok: boolean) => { s.destroy(); resolve(ok); };
    s.setTimeout(timeoutMs);
    s.once('connect', () => s.write('PING\r\n'));
    s.once('data', (d) => done(!d.toString('latin1').startsWith('-LOADING')));
    s.once('error', () => done(false));
    s.once('timeout', () => done(false));
    s.once('end', () => done(false));
  });
}
