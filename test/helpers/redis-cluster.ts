/**
 * A real 3-master Redis Cluster on free ports, for tests that prove BullMQ runs on one:
 * three `redis-server --cluster-enabled yes` processes joined by `redis-cli --cluster create`.
 * Each node is a RedisServer (src/pipeline/redis-server.ts): only the pids started here are
 * ever signalled, and their folders are removed on stop().
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { sleep } from '../../src/shared/util.js';
import { RedisServer } from './redis-server.js';

const run = promisify(execFile);

export interface PrivateCluster {
  readonly ports: number[];
  /** redis+cluster://127.0.0.1:p1,127.0.0.1:p2,127.0.0.1:p3 */
  readonly url: string;
  stop(): Promise<void>;
}

export async function startRedisCluster(masters = 3): Promise<PrivateCluster> {
  const servers: RedisServer[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(servers.map((s) => s.stop()));
  };
  try {
    for (let i = 0; i < masters; i++) {
      // nodes.conf lands in each server's own folder (redis-server runs in its --dir).
      servers.push(await RedisServer.start({
        args: ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '5000'],
        dirPrefix: 'rb-cluster-',
      }));
    }
    const ports = servers.map((s) => s.port);
    await run('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes'], { timeout: 30_000 });
    // Every node must see every slot covered before BullMQ's scripts can run anywhere.
    const deadline = Date.now() + 20_000;
    for (const port of ports) {
      for (;;) {
        const { stdout } = await run('redis-cli', ['-p', String(port), 'cluster', 'info']);
        if (/cluster_state:ok/.test(stdout)) break;
        if (Date.now() > deadline) throw new Error(`cluster node ${port} is not ok after 20 s:\n${stdout}`);
        await sleep(100);
      }
    }
    return { ports, url: `redis+cluster://${ports.map((p) => `127.0.0.1:${p}`).join(',')}`, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
