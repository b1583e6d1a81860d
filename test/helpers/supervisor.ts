/**
 * Spawns `roberta-batch worker --processes/--gpus ...` (the real CLI) and reads its one
 * metrics server. Worker processes are the supervisor's children: tests signal them only by
 * the pids the supervisor reports, and stopping the supervisor drains them.
 */
import { afterEach } from 'vitest';
import { FIXTURE_TOKENIZER, spawnCli, stop, type Spawned } from './cli.js';
import { testModel } from './models.js';
import { removeQueues, waitFor } from './queues.js';

export interface ProcessStatus {
  workerProcess: number;
  pid?: number;
  gpu?: number;
  state: string;
  restarts: number;
  metricsPort?: number;
  device?: string;
}

export interface Readyz {
  ready: boolean;
  reasons: string[];
  processes: ProcessStatus[];
}

export interface RunningSupervisor {
  proc: Spawned;
  base: string;
  readyz(): Promise<{ status: number; body: Readyz }>;
  metrics(): Promise<string>;
  waitAllReady(timeoutMs?: number): Promise<Readyz>;
}

/** `model`: a model file (default: the tiny sentiment model). */
export async function startSupervisor(args: string[], env: NodeJS.ProcessEnv = {}, model?: string): Promise<RunningSupervisor> {
  const file = model ?? (await testModel('sequence-classification', 'hf')).path;
  const proc = spawnCli(['worker', '--model', file, '--tokenizer', FIXTURE_TOKENIZER, '--metrics-port', '0', '--skip-hash', ...args], env);
  const line = await proc.waitForOutput(/"url":"http:\/\/127\.0\.0\.1:\d+\/metrics"[^\n]*supervisor listening/, 30_000);
  const base = /http:\/\/127\.0\.0\.1:\d+/.exec(line)![0];
  const readyz = async () => {
    const res = await fetch(`${base}/readyz`);
    return { status: res.status, body: (await res.json()) as Readyz };
  };
  return {
    proc, base, readyz,
    metrics: async () => (await fetch(`${base}/metrics`)).text(),
    waitAllReady: async (timeoutMs = 60_000) => {
      let last: Readyz | undefined;
      await waitFor(async () => { const r = await readyz(); last = r.body; return r.status === 200; }, timeoutMs, 200);
      return last!;
    },
  };
}

/** True while a process with this pid exists (signal 0 only checks). */
export function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

/**
 * Call once at the top of a test file: `start(queue, args)` runs `startSupervisor` with
 * `--queue queue` for the current test, and after each test that supervisor is stopped (a no-op
 * when the test already stopped it) and its queue's keys are removed.
 */
export function supervisorPerTest(stopGraceMs = 15_000): {
  start(queue: string, args: string[], env?: NodeJS.ProcessEnv, model?: string): Promise<RunningSupervisor>;
} {
  let current: { sup?: RunningSupervisor; queue: string } | undefined;
  afterEach(async () => {
    const c = current;
    current = undefined;
    if (c?.sup) await stop(c.sup.proc, stopGraceMs);
    if (c) await removeQueues(c.queue);
  });
  return {
    async start(queue, args, env = {}, model) {
      current = { queue };
      current.sup = await startSupervisor(['--queue', queue, ...args], env, model);
      return current.sup;
    },
  };
}
