/**
 * A redis-server owned by the chaos run: its own port and folder, `appendonly yes` with
 * `appendfsync always` (a SIGKILL loses no acknowledged write) and `noeviction` (workers refuse
 * an evicting Redis). Only the pid started here is ever signalled.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { E } from '../shared/errors.js';
import { freePort, waitForPort } from '../shared/ports.js';


export class ChaosRedis {
  readonly port: number;
  readonly dir: string;
  #child: ChildProcess | undefined;

  private constructor(port: number, dir: string, args: string[]) {
    this.port = port;
    this.dir = dir;
    this.#args = args;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  #args: string[];

  /** `args` replace the append-only settings (the soak runs without AOF, with a maxmemory). */
  static async start(args: string[] = ['--appendonly', 'yes', '--appendfsync', 'always']): Promise<ChaosRedis> {
    const r = new ChaosRedis(await freePort(), mkdtempSync(path.join(os.tmpdir(), 'rb-chaos-redis-')), args);
    await r.start();
    return r;
  }

  async start(): Promise<void> {
    const child = spawn('redis-server', [
      '--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, '--save', '',
      '--maxmemory-policy', 'noeviction', ...this.#args,
    ], { stdio: 'ignore' });
    const failed = await new Promise<Error | undefined>((resolve) => {
      child.once('error', resolve);
      child.once('spawn', () => resolve(undefined));
    });
    if (failed) {
      throw E.REDIS_MISSING('chaos needs redis-server to start its own Redis', {
        hint: 'install Redis (apt-get install redis-server)', cause: failed,
      });
    }
    this.#child = child;
    if (!(await waitForPort(this.port, 15_000))) {
      throw E.REDIS_UNREACHABLE(`the chaos redis-server did not listen on ${this.port} within 15000 ms`);
    }
  }

  /** SIGKILL: what survives is what the append-only file holds. */
  async kill(): Promise<void> {
    const c = this.#child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    await new Promise<void>((resolve) => { c.once('exit', () => resolve()); c.kill('SIGKILL'); });
  }

  async stop(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
