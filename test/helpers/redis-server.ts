/**
 * Spawns a private redis-server on a free port for tests that must own their Redis
 * (fault tests restart or pause it). Only the pid we started is ever signalled.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { freePort, waitForPort as waitForPortOrFalse } from '../../src/shared/ports.js';
import os from 'node:os';
import path from 'node:path';

export { freePort } from '../../src/shared/ports.js';

export async function waitForPort(port: number, timeoutMs = 10_000): Promise<void> {
  if (!(await waitForPortOrFalse(port, timeoutMs))) throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
}

export interface PrivateRedis {
  readonly port: number;
  readonly url: string;
  readonly dir: string;
  pid(): number | undefined;
  /** SIGKILL the server (data survives only through the append-only file). */
  kill(): Promise<void>;
  /** Start it again on the same port and folder. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

export async function startPrivateRedis(opts: { appendonly?: boolean; extraArgs?: string[]; port?: number } = {}): Promise<PrivateRedis> {
  const port = opts.port ?? (await freePort());
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rb-redis-'));
  let child: ChildProcess | undefined;
  const args = [
    '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '',
    '--appendonly', opts.appendonly ? 'yes' : 'no', '--appendfsync', 'always',
    '--maxmemory-policy', 'noeviction', ...(opts.extraArgs ?? []),
  ];
  const start = async (): Promise<void> => {
    child = spawn('redis-server', args, { stdio: 'ignore' });
    await waitForPort(port);
  };
  const kill = async (): Promise<void> => {
    const c = child;
    // A process ended by a signal has exitCode null and signalCode set: killing it twice
    // (kill() then stop()) must not wait for an 'exit' that already happened.
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    await new Promise<void>((resolve) => { c.once('exit', () => resolve()); c.kill('SIGKILL'); });
  };
  await start();
  return {
    port, dir, url: `redis://127.0.0.1:${port}`,
    pid: () => child?.pid,
    kill, start,
    stop: async () => { await kill(); rmSync(dir, { recursive: true, force: true }); },
  };
}
