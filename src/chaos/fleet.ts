/**
 * The chaos run's worker processes: the real CLI (`roberta-batch worker`), spawned, watched
 * through the `event` field of their JSON log lines (worker.ready, worker.batch, worker.stalled)
 * and killed by their own pid.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { LOG_EVENT, parseLogLine } from '../worker/worker-events.js';

const CLI = fileURLToPath(new URL('../cli/main.js', import.meta.url));

export interface StallEvent {
  /** Date.now() when the line was read. */
  at: number;
  jobId: string;
  workerId: string;
}

export interface FleetWorker {
  readonly id: string;
  readonly child: ChildProcess;
  readonly exited: Promise<number | string>;
  /** Date.now() of its last worker.batch log line. */
  lastBatchAt: number;
  ready: Promise<void>;
}

export class WorkerFleet {
  readonly stalls: StallEvent[] = [];
  /** Lines that look like a crash or a stack trace, with the worker id. */
  readonly stackTraces: string[] = [];
  readonly #args: string[];
  readonly #env: NodeJS.ProcessEnv;
  readonly #workers = new Map<string, FleetWorker>();
  #spawned = 0;

  constructor(args: string[], env: NodeJS.ProcessEnv) {
    this.#args = args;
    this.#env = env;
  }

  get live(): FleetWorker[] {
    return [...this.#workers.values()];
  }

  spawn(): FleetWorker {
    const id = `chaos-w${++this.#spawned}`;
    const child = spawn(process.execPath, [CLI, 'worker', ...this.#args, '--worker-id', id], {
      // debug: worker.batch lines tell when a worker is between batches.
      env: { ...process.env, ...this.#env, LOG_LEVEL: 'debug' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let readyResolve!: () => void;
    let readyReject!: (e: Error) => void;
    const w: FleetWorker = {
      id, child, lastBatchAt: 0,
      exited: new Promise((resolve) => child.once('exit', (code, sig) => resolve(code ?? sig ?? -1))),
      ready: new Promise<void>((res, rej) => { readyResolve = res; readyReject = rej; }),
    };
    void w.ready.catch(() => {});
    let buf = '';
    const onData = (d: Buffer) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (/^\s+at /.test(line)) this.stackTraces.push(`${id}: ${line.trim()}`);
        if (process.env.RB_CHAOS_DEBUG && /stall|lock|error/i.test(line)) process.stderr.write(`[${id}] ${line}\n`);
        if (!line.startsWith('{') || !line.includes('"event"')) continue;
        const rec = parseLogLine(line);
        if (rec?.event === LOG_EVENT.batch) w.lastBatchAt = Date.now();
        else if (rec?.event === LOG_EVENT.ready) readyResolve();
        else if (rec?.event === LOG_EVENT.stalled && typeof rec.jobId === 'string') {
          this.stalls.push({ at: Date.now(), jobId: rec.jobId, workerId: id });
        }
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void w.exited.then((code) => {
      this.#workers.delete(id);
      readyReject(new Error(`worker ${id} exited (${code}) before it was ready`));
    });
    this.#workers.set(id, w);
    return w;
  }

  /** Ends every live worker: SIGTERM, SIGKILL after `graceMs`. */
  async stopAll(graceMs = 10_000): Promise<void> {
    await Promise.all(this.live.map(async (w) => {
      w.child.kill('SIGTERM');
      const t = setTimeout(() => w.child.kill('SIGKILL'), graceMs);
      await w.exited;
      clearTimeout(t);
    }));
  }
}
