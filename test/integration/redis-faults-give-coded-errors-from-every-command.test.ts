/**
 * Every command that talks to Redis meets the same three faults the same way: a closed port
 * gives E_REDIS_UNREACHABLE once the documented wait (RB_REDIS_WAIT_MS) is over, a wrong or a
 * missing password gives E_REDIS_AUTH at once; the process exits 1, prints no stack trace and
 * never the password (not even inside a library's error object). Also: a taken metrics port is
 * E_PORT_IN_USE with the --metrics-port 0 hint, and a closed stdout pipe ends `status` quietly.
 *
 * Bounds come from the documented wait and ioredis' connect timeout in waitForRedis (2 s per
 * attempt), plus three times what the same command takes on this machine to start and print
 * its --help (measured here), never from a fixed guess of the machine's speed.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/shared/ports.js';
import { CLI, FIXTURE_TOKENIZER, repoRoot, runCli } from '../helpers/cli.js';
import { syntheticDocs, toJsonl } from '../helpers/corpus.js';
import { testModel } from '../helpers/models.js';
import { redisUrl, removeQueues, uniqueQueueName } from '../helpers/queues.js';
import { startPrivateRedis, type PrivateRedis } from '../helpers/redis-server.js';

/** The wait the tests configure, and the most one connection attempt may add after it. */
const WAIT_MS = 1_000;
const CONNECT_TIMEOUT_MS = 2_000;

const dir = mkdtempSync(path.join(os.tmpdir(), 'rb-faults-'));
const password = `pw-${randomUUID()}`;
let redis: PrivateRedis;
let closedPort: number;
let args: Record<string, string[]>;

beforeAll(async () => {
  redis = await startPrivateRedis({ args: ['--requirepass', password] });
  closedPort = await freePort();
  const model = await testModel('sequence-classification', 'hf');
  const input = path.join(dir, 'docs.jsonl');
  writeFileSync(input, toJsonl(syntheticDocs(10, 3, 'fault').map((d, i) => ({ ...d, label: i % 2 }))));
  const modelFlags = ['--model', model.path, '--tokenizer', FIXTURE_TOKENIZER, '--skip-hash'];
  args = {
    run: ['run', input, '--out', path.join(dir, 'run.jsonl'), ...modelFlags],
    eval: ['eval', '--data', input, '--label-field', 'label', ...modelFlags],
    enqueue: ['enqueue', input, '--queue', 'faults', '--no-progress'],
    worker: ['worker', '--queue', 'faults', '--metrics-port', '0', ...modelFlags],
    results: ['results', '--queue', 'faults', '--out', path.join(dir, 'results.jsonl')],
    status: ['status', '--queue', 'faults'],
    reconcile: ['reconcile', input, '--queue', 'faults'],
  };
});

afterAll(async () => {
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** How long `<command> --help` takes here, measured once per command (3 tests use it). */
const startups = new Map<string, Promise<number>>();
function startupMs(command: string): Promise<number> {
  let ms = startups.get(command);
  if (!ms) {
    ms = (async () => {
      const t0 = performance.now();
      const r = await runCli([command, '--help'], {}, 60_000);
      expect(r.code).toBe(0);
      return performance.now() - t0;
    })();
    startups.set(command, ms);
  }
  return ms;
}

function expectClean(output: string): void {
  expect(output).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m); // a stack frame
  expect(output).not.toContain('ReplyError');
  expect(output).not.toContain(password);
  expect(output).not.toMatch(/pw-[0-9a-f-]{36}/);
}

describe.each(['run', 'eval', 'enqueue', 'worker', 'results', 'status', 'reconcile'])('%s', (command) => {
  it('closed port: E_REDIS_UNREACHABLE after the configured wait, exit 1', async () => {
    const bound = 3 * (await startupMs(command)) + WAIT_MS + CONNECT_TIMEOUT_MS;
    const t0 = performance.now();
    const r = await runCli(args[command], { REDIS_URL: `redis://:${password}@127.0.0.1:${closedPort}`, RB_REDIS_WAIT_MS: String(WAIT_MS) }, 60_000);
    const took = performance.now() - t0;
    expect(r.code, r.output).toBe(1);
    expect(r.output).toMatch(/E_REDIS_UNREACHABLE: Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:\d+\/? did not answer/);
    expectClean(r.output);
    expect(took, r.output).toBeLessThan(bound);
  });

  for (const [fault, url] of [['wrong password', () => `redis://:wrong-${password}@127.0.0.1:${redis.port}`], ['no password', () => `redis://127.0.0.1:${redis.port}`]] as const) {
    it(`${fault}: E_REDIS_AUTH at once, exit 1`, async () => {
      const bound = 3 * (await startupMs(command)) + CONNECT_TIMEOUT_MS;
      const t0 = performance.now();
      // A long wait: an auth failure must not wait for it.
      const r = await runCli(args[command], { REDIS_URL: url(), RB_REDIS_WAIT_MS: '60000' }, 60_000);
      const took = performance.now() - t0;
      expect(r.code, r.output).toBe(1);
      expect(r.output).toMatch(/E_REDIS_AUTH: Redis at redis:\/\/\S+ refused the credentials: (WRONGPASS|NOAUTH)/);
      expectClean(r.output);
      expect(took, r.output).toBeLessThan(bound);
    });
  }
});

it('a taken metrics port is E_PORT_IN_USE with the --metrics-port 0 hint', async () => {
  const holder = net.createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', () => resolve()));
  const port = (holder.address() as net.AddressInfo).port;
  try {
    const r = await runCli([...args.worker.filter((a, i, all) => a !== '--metrics-port' && all[i - 1] !== '--metrics-port'), '--metrics-port', String(port)], { REDIS_URL: redisUrl() }, 60_000);
    expect(r.code, r.output).toBe(1);
    expect(r.output).toMatch(new RegExp(`E_PORT_IN_USE: cannot listen on 127\\.0\\.0\\.1:${port}.*--metrics-port 0`));
    expectClean(r.output);
    expect(r.output).not.toContain('EADDRINUSE');
  } finally {
    holder.close();
  }
});

it('status into a closed pipe ends quietly with exit 0', async () => {
  const queue = uniqueQueueName('epipe');
  try {
    const child = spawn(process.execPath, [CLI, 'status', '--queue', queue], {
      cwd: repoRoot, env: { ...process.env, REDIS_URL: redisUrl() }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    // What `| head -1` does once it has its line: the reader closes before the writer is done.
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    expect(code, stderr).toBe(0);
    expect(stderr).not.toMatch(/EPIPE|^\s+at /m);
  } finally {
    await removeQueues(queue);
  }
});
