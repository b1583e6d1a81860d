/**
 * A Redis master, a replica and one Sentinel watching them (quorum 1), on free ports, for
 * tests of redis+sentinel:// URLs and failover. Only the pids started here are signalled.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort, startPrivateRedis, waitForPort, type PrivateRedis } from './redis-server.js';

export const MASTER_NAME = 'rbmaster';

const run = promisify(execFile);
const cli = async (port: number, ...args: string[]) => (await run('redis-cli', ['-p', String(port), ...args])).stdout;

export interface PrivateSentinel {
  master: PrivateRedis;
  replica: PrivateRedis;
  /** redis+sentinel://127.0.0.1:<port>/rbmaster */
  url: string;
  /** Waits until the replica has applied every write the master has so far (replication offsets). */
  syncReplica(): Promise<void>;
  stop(): Promise<void>;
}

const offsetOf = (info: string, field: string) => Number(new RegExp(`^${field}:(\\d+)`, 'm').exec(info)?.[1] ?? -1);

/**
 * Waits until the replica's applied offset reaches the master's current one. Not Redis WAIT:
 * WAIT counts the replicas that acknowledged the writes of the connection that sends it, and a
 * fresh connection has written nothing, so WAIT 1 answered 1 at once while the replica was
 * still at offset 0 with the master at 178,436. After a diskless initial sync the master
 * streams writes only once the replica first acknowledges, which it does once a second: the
 * first write reached the replica 15 ms or ~1,000 ms after the link came up (8 tries, half
 * each). The failover then promoted an empty replica and the test lost every result written
 * before it, 2 runs in 3 on a quiet machine.
 */
async function replicaCaughtUp(masterPort: number, replicaPort: number, timeoutMs: number): Promise<void> {
  const target = offsetOf(await cli(masterPort, 'info', 'replication'), 'master_repl_offset');
  const deadline = Date.now() + timeoutMs;
  let at = -1;
  while ((at = offsetOf(await cli(replicaPort, 'info', 'replication'), 'slave_repl_offset')) < target) {
    if (Date.now() > deadline) throw new Error(`the replica reached replication offset ${at} of the master's ${target} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export async function startSentinel(): Promise<PrivateSentinel> {
  // Redis delays a replica's first (diskless) sync by 5 s by default: start it at once.
  const master = await startPrivateRedis({ args: ['--repl-diskless-sync-delay', '0'] });
  const replica = await startPrivateRedis({ args: ['--replicaof', '127.0.0.1', String(master.port)] });
  const deadline = Date.now() + 10_000;
  while (!/master_link_status:up/.test(await cli(replica.port, 'info', 'replication'))) {
    if (Date.now() > deadline) throw new Error('the replica did not sync with its master within 10 s');
    await new Promise((r) => setTimeout(r, 50));
  }
  // The link is up; the command stream must flow too before the test relies on it.
  await cli(master.port, 'set', 'rb:replication-probe', '1');
  await replicaCaughtUp(master.port, replica.port, 10_000);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rb-sentinel-'));
  const port = await freePort();
  const conf = path.join(dir, 'sentinel.conf'); // Sentinel rewrites its file: it must be its own
  writeFileSync(conf, [
    `port ${port}`, 'bind 127.0.0.1', `dir ${dir}`,
    `sentinel monitor ${MASTER_NAME} 127.0.0.1 ${master.port} 1`,
    // Failover within ~2 s of the master's death, short enough for a test.
    `sentinel down-after-milliseconds ${MASTER_NAME} 1000`,
    `sentinel failover-timeout ${MASTER_NAME} 5000`,
    '',
  ].join('\n'));
  const sentinel: ChildProcess = spawn('redis-server', [conf, '--sentinel'], { stdio: 'ignore' });
  await waitForPort(port);
  return {
    master, replica, url: `redis+sentinel://127.0.0.1:${port}/${MASTER_NAME}`,
    syncReplica: () => replicaCaughtUp(master.port, replica.port, 10_000),
    stop: async () => {
      await new Promise<void>((resolve) => {
        if (sentinel.exitCode !== null || sentinel.signalCode !== null) return resolve();
        sentinel.once('exit', () => resolve());
        sentinel.kill('SIGKILL');
      });
      await replica.stop();
      await master.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
