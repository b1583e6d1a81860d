/**
 * A real `roberta-batch worker` process for the benchmark, so that its resident memory and its
 * main thread's event-loop delay are its own, not the harness's. Read through /proc/<pid>/status
 * and the worker's own /metrics endpoint (metrics port 0: any free port, read from its log).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { processMemory } from './machine.js';
import { LOG_EVENT, parseLogLine } from '../worker/worker-events.js';

/** dist/cli/main.js, also when the harness itself runs from the TypeScript sources (tests). */
export function cliEntry(): string {
  const here = fileURLToPath(import.meta.url);
  const sibling = path.join(path.dirname(here), '../cli/main.js');
  if (existsSync(sibling)) return sibling;
  const fromSrc = path.join(path.dirname(here).replace(`${path.sep}src${path.sep}`, `${path.sep}dist${path.sep}`), '../cli/main.js');
  if (existsSync(fromSrc)) return fromSrc;
  throw new Error(`dist/cli/main.js not found (from ${here}): run \`npm run build\``);
}

export interface WorkerMetricsSample {
  batches: number;
  batchRowsSum: number;
  usefulTokens: number;
  paddedTokens: number;
  eventLoopDelayP99Seconds: number;
  documentsOk: number;
}

/** Reads the few series the report needs from Prometheus text. */
export function parseWorkerMetrics(text: string): WorkerMetricsSample {
  const value = (re: RegExp) => Number(re.exec(text)?.[1] ?? 0);
  return {
    batches: value(/^roberta_batch_batch_size_count(?:\{[^}]*\})? (\S+)$/m),
    batchRowsSum: value(/^roberta_batch_batch_size_sum(?:\{[^}]*\})? (\S+)$/m),
    usefulTokens: value(/^roberta_batch_tokens_total\{[^}]*kind="useful"[^}]*\} (\S+)$/m),
    paddedTokens: value(/^roberta_batch_tokens_total\{[^}]*kind="padded"[^}]*\} (\S+)$/m),
    eventLoopDelayP99Seconds: value(/^roberta_batch_event_loop_delay_p99_seconds(?:\{[^}]*\})? (\S+)$/m),
    documentsOk: value(/^roberta_batch_documents_total\{[^}]*status="ok"[^}]*\} (\S+)$/m),
  };
}

export class WorkerProcess {
  readonly child: ChildProcess;
  #output = '';
  #metricsUrl: string | undefined;
  #exited: Promise<number | string>;

  private constructor(child: ChildProcess) {
    this.child = child;
    const onData = (d: Buffer) => {
      this.#output += d.toString();
      // Only the tail is kept for error messages: a long run logs a line per batch at debug.
      if (this.#output.length > 200_000) this.#output = this.#output.slice(-100_000);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    this.#exited = new Promise((resolve) => child.once('exit', (code, sig) => resolve(code ?? sig ?? -1)));
  }

  /**
   * Spawns `node <nodeArgs> <cli> worker <args>` and resolves once it logged its ready event (worker-events.ts).
   * `cli`: another build's dist/cli/main.js (bench --baseline-cli) for before/after in one run.
   */
  static async start(args: string[], timeoutMs = 120_000, nodeArgs: string[] = [], cli = cliEntry()): Promise<WorkerProcess> {
    const child = spawn(process.execPath, [...nodeArgs, cli, 'worker', '--metrics-port', '0', '--skip-hash', ...args], {
      env: { ...process.env, LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const w = new WorkerProcess(child);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      // Builds before the `event` field (a --baseline-cli of an older commit) said the same in `msg`.
      const events = w.#output.split('\n').filter((l) => l.startsWith('{')).map(parseLogLine);
      const listening = events.find((e) => e?.event === LOG_EVENT.metricsListening || e?.msg === 'metrics server listening');
      if (typeof listening?.url === 'string') w.#metricsUrl = listening.url;
      if (events.some((e) => e?.event === LOG_EVENT.ready || e?.msg === 'worker ready')) break;
      if (child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) {
        w.kill();
        throw new Error(`worker did not become ready (exit ${child.exitCode ?? child.signalCode ?? 'timeout'}):\n${w.#output.slice(-3000)}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    return w;
  }

  get pid(): number {
    return this.child.pid!;
  }

  memory(): { rss: number; peakRss: number } | undefined {
    return processMemory(this.pid);
  }

  /** Scrapes /metrics; the event-loop p99 covers the time since the previous scrape. */
  async metrics(): Promise<WorkerMetricsSample> {
    if (!this.#metricsUrl) throw new Error('the worker logged no metrics URL');
    const res = await fetch(this.#metricsUrl);
    return parseWorkerMetrics(await res.text());
  }

  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }

  /** SIGTERM (graceful drain), SIGKILL after `graceMs`. */
  async stop(graceMs = 30_000): Promise<number | string> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return this.#exited;
    this.child.kill('SIGTERM');
    const t = setTimeout(() => this.kill(), graceMs);
    const code = await this.#exited;
    clearTimeout(t);
    return code;
  }
}
