/**
 * One running worker process of a supervisor: spawned as the same CLI, in its own process
 * group (a Ctrl-C in a terminal reaches only the supervisor, which forwards one SIGTERM;
 * the group's SIGINT would otherwise count as each child's first signal and the forwarded one
 * as its second, ending it at once), with an IPC channel over which it reports ready and by
 * which it notices a supervisor that died (the channel closes: it drains and exits).
 * Its stdout/stderr are the supervisor's, so its JSON log lines pass through unchanged.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { ChildSpec } from './child-command.js';

/** Sent by a supervised worker once it serves (src/cli/commands/worker.ts). */
export interface ReadyMessage {
  type: 'ready';
  pid: number;
  metricsPort: number;
  device: string;
  intraOpThreads: number;
  cudaVisibleDevices: string | null;
}

export function isReadyMessage(m: unknown): m is ReadyMessage {
  return typeof m === 'object' && m !== null && (m as { type?: unknown }).type === 'ready' && typeof (m as { metricsPort?: unknown }).metricsPort === 'number';
}

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class WorkerProcess {
  readonly spec: ChildSpec;
  readonly startedAt = Date.now();
  readonly exited: Promise<ProcessExit>;
  #child: ChildProcess;
  #ready: ReadyMessage | undefined;
  #readyAt: number | undefined;
  #exit: ProcessExit | undefined;

  constructor(spec: ChildSpec, cli: string, onReady: (p: WorkerProcess) => void) {
    this.spec = spec;
    this.#child = spawn(process.execPath, [...process.execArgv, cli, ...spec.args], {
      env: spec.env,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      detached: true,
    });
    this.#child.on('message', (m) => {
      if (!isReadyMessage(m) || this.#ready) return;
      this.#ready = m;
      this.#readyAt = Date.now();
      onReady(this);
    });
    this.exited = new Promise((resolve) => {
      // 'error' without 'exit' means the spawn itself failed (no node binary: not expected).
      this.#child.once('error', () => { if (!this.#exit) resolve((this.#exit = { code: 1, signal: null })); });
      this.#child.once('exit', (code, signal) => resolve((this.#exit = { code, signal })));
    });
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  get ready(): ReadyMessage | undefined {
    return this.#ready;
  }

  /** ms since it reported ready; undefined if it never did. */
  readyForMs(now = Date.now()): number | undefined {
    return this.#readyAt === undefined ? undefined : now - this.#readyAt;
  }

  get running(): boolean {
    return this.#exit === undefined;
  }

  /** Signals this process only (by its pid), if it still runs. */
  signal(sig: NodeJS.Signals): void {
    if (this.#exit === undefined && this.#child.pid !== undefined) {
      try { process.kill(this.#child.pid, sig); } catch { /* exited meanwhile */ }
    }
  }
}
