/**
 * The process supervisor behind `roberta-batch worker --gpus 0,1,2,3` and `--processes N`:
 * one worker process per GPU (n with --processes-per-gpu n; N on CPU), restarted with
 * backoff when it crashes (restart-policy.ts), drained together on SIGTERM, and seen from
 * outside through ONE metrics server: /metrics merges the processes' metrics with a
 * `worker_process` label, /healthz says the supervisor runs, /readyz is 200 only while EVERY
 * process is ready.
 *
 * Why every process: a pod with one of four GPUs crash-looping serves at 3/4 of its capacity
 * while looking healthy; an unready pod stalls a rolling update on a broken release instead
 * of rolling it everywhere, and (liveness being /healthz) is not restarted for it. Each
 * process's state is listed under `processes` in the /readyz body.
 */
import { Counter, Gauge, Registry } from 'prom-client';
import { E } from '../shared/errors.js';
import { startMetricsServer, type MetricsServer, type Readiness } from '../shared/http-server.js';
import { logger, type Logger } from '../shared/logger.js';
import { createQueueUi, UI_PATH, type QueueUi, type QueueUiOptions } from '../ui/queue-ui.js';
import type { ChildSpec } from './child-command.js';
import { ExpositionMerger, PROCESS_LABEL } from './metrics-merge.js';
import { RestartPolicy } from './restart-policy.js';
import { WorkerProcess } from './worker-process.js';

export interface SupervisorOptions {
  specs: ChildSpec[];
  /** dist/cli/main.js: the children run the same CLI. */
  cli: string;
  metricsHost: string;
  metricsPort: number;
  /** The children's own drain deadline (--shutdown-grace-ms); the supervisor waits 5 s longer. */
  shutdownGraceMs: number;
  restartBackoffMs: number;
  maxStartFailures: number;
  ui?: QueueUiOptions;
  logger?: Logger;
}

/** Time (ms) the supervisor allows beyond the children's grace period for them to exit. */
const EXIT_MARGIN_MS = 5_000;
/** A child that does not answer its /metrics or /readyz within this (ms) counts as down. */
const CHILD_HTTP_TIMEOUT_MS = 2_000;

interface Slot {
  spec: ChildSpec;
  policy: RestartPolicy;
  current: WorkerProcess | undefined;
  restartAt: number | undefined;
  timer: NodeJS.Timeout | undefined;
  restarts: number;
}

export interface ProcessStatus {
  workerProcess: number;
  pid: number | undefined;
  gpu: number | undefined;
  state: string;
  restarts: number;
  metricsPort: number | undefined;
  device: string | undefined;
}

async function getText(url: string): Promise<{ status: number; body: string } | undefined> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(CHILD_HTTP_TIMEOUT_MS) });
    return { status: res.status, body: await res.text() };
  } catch {
    return undefined;
  }
}

export class Supervisor {
  readonly #o: SupervisorOptions;
  readonly #log: Logger;
  readonly #slots: Slot[];
  readonly #registry = new Registry();
  readonly #up: Gauge<'worker_process'>;
  readonly #restarts: Counter<'worker_process'>;
  #server: MetricsServer | undefined;
  #ui: QueueUi | undefined;
  #closing: Promise<number> | undefined;
  #giveUpCode: number | undefined;
  #finish!: (code: number) => void;
  /** Resolves with the exit code once the supervisor is done: drained after a signal, or gave up. */
  readonly finished: Promise<number>;

  constructor(opts: SupervisorOptions) {
    this.#o = opts;
    this.#log = (opts.logger ?? logger()).child({ component: 'supervisor' });
    this.#slots = opts.specs.map((spec) => ({
      spec, current: undefined, restartAt: undefined, timer: undefined, restarts: 0,
      policy: new RestartPolicy({ baseMs: opts.restartBackoffMs, maxStartFailures: opts.maxStartFailures }),
    }));
    this.finished = new Promise((resolve) => { this.#finish = resolve; });
    const P = 'roberta_batch_supervisor_';
    new Gauge({ name: `${P}processes`, help: 'Worker processes this supervisor runs (one per GPU, or --processes)', registers: [this.#registry] }).set(opts.specs.length);
    this.#up = new Gauge({ name: `${P}process_up`, help: 'Whether the last scrape read the worker process metrics (1) or not (0: starting, restarting, hung)', labelNames: [PROCESS_LABEL], registers: [this.#registry] });
    this.#restarts = new Counter({ name: `${P}restarts_total`, help: 'Times a worker process was started again after it exited', labelNames: [PROCESS_LABEL], registers: [this.#registry] });
  }

  get port(): number | undefined {
    return this.#server?.port;
  }

  /** Serves /metrics, /healthz, /readyz (and /ui) and starts every worker process. */
  async start(): Promise<void> {
    const o = this.#o;
    this.#server = await startMetricsServer({
      host: o.metricsHost,
      port: o.metricsPort,
      registry: () => this.#metricsText(),
      contentType: this.#registry.contentType,
      health: this,
    });
    if (o.ui) {
      this.#ui = createQueueUi(o.ui);
      this.#server.mount(UI_PATH, this.#ui.handler);
    }
    this.#log.info({ url: `http://${o.metricsHost}:${this.#server.port}/metrics`, processes: o.specs.length, gpus: [...new Set(o.specs.map((s) => s.gpu).filter((g) => g !== undefined))] }, 'supervisor listening');
    for (const slot of this.#slots) this.#spawn(slot);
  }

  #spawn(slot: Slot): void {
    slot.timer = undefined;
    slot.restartAt = undefined;
    if (this.#closing) return;
    const proc = new WorkerProcess(slot.spec, this.#o.cli, (p) => {
      this.#log.info({ workerProcess: slot.spec.index, pid: p.pid, metricsPort: p.ready?.metricsPort, device: p.ready?.device, gpu: slot.spec.gpu }, 'worker process ready');
    });
    slot.current = proc;
    this.#log.info({ workerProcess: slot.spec.index, pid: proc.pid, gpu: slot.spec.gpu }, 'worker process started');
    void proc.exited.then((exit) => this.#onExit(slot, proc, exit.code, exit.signal));
  }

  #onExit(slot: Slot, proc: WorkerProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (slot.current === proc) slot.current = undefined;
    if (this.#closing) return;
    const readyForMs = proc.readyForMs();
    const decision = slot.policy.onExit({ code, signal, readyForMs });
    const facts = { workerProcess: slot.spec.index, pid: proc.pid, gpu: slot.spec.gpu, code, signal, readyForMs };
    if (decision.action === 'give-up') {
      const err = E.WORKER_START_LOOP(`worker process ${slot.spec.index} ${decision.reason}`, {
        hint: 'its own log lines above say why (model file, CUDA, Redis); fix that and start again',
      });
      this.#log.error({ ...facts, code: err.code, exitCode: code }, err.describe());
      this.#giveUpCode = decision.exitCode;
      void this.close();
      return;
    }
    this.#log.warn({ ...facts, restartInMs: decision.delayMs, crashesInARow: decision.crashesInARow }, 'worker process exited: restarting it');
    slot.restarts++;
    this.#restarts.inc({ [PROCESS_LABEL]: String(slot.spec.index) });
    slot.restartAt = Date.now() + decision.delayMs;
    slot.timer = setTimeout(() => this.#spawn(slot), decision.delayMs);
  }

  async #status(slot: Slot): Promise<ProcessStatus> {
    const p = slot.current;
    let state: string;
    if (!p) state = slot.restartAt !== undefined ? `restarting in ${Math.max(0, slot.restartAt - Date.now())} ms` : 'stopped';
    else if (!p.ready) state = 'starting';
    else {
      const res = await getText(`http://127.0.0.1:${p.ready.metricsPort}/readyz`);
      let reasons: string[] = [];
      try { reasons = (JSON.parse(res?.body ?? '{}') as { reasons?: string[] }).reasons ?? []; } catch { /* not JSON */ }
      state = res?.status === 200 ? 'ready' : `not ready: ${res ? reasons.join(', ') : 'no answer'}`;
    }
    return {
      workerProcess: slot.spec.index, pid: p?.pid, gpu: slot.spec.gpu, state, restarts: slot.restarts,
      metricsPort: p?.ready?.metricsPort, device: p?.ready?.device,
    };
  }

  async ready(): Promise<Readiness> {
    const processes = await Promise.all(this.#slots.map((s) => this.#status(s)));
    const reasons = processes.filter((p) => p.state !== 'ready').map((p) => `worker process ${p.workerProcess}: ${p.state}`);
    if (this.#closing) reasons.unshift('shutting down');
    return { ready: reasons.length === 0, reasons, processes };
  }

  async #metricsText(): Promise<string> {
    const texts = await Promise.all(this.#slots.map(async (slot) => {
      const port = slot.current?.ready?.metricsPort;
      const res = port === undefined ? undefined : await getText(`http://127.0.0.1:${port}/metrics`);
      const ok = res?.status === 200;
      this.#up.set({ [PROCESS_LABEL]: String(slot.spec.index) }, ok ? 1 : 0);
      return ok ? res.body : undefined;
    }));
    const merger = new ExpositionMerger().add(await this.#registry.metrics());
    texts.forEach((t, i) => { if (t) merger.add(t, { [PROCESS_LABEL]: String(this.#slots[i].spec.index) }); });
    return merger.text();
  }

  /**
   * Graceful shutdown, idempotent: no more restarts, SIGTERM to every process (each finishes
   * its batch in flight and publishes it), wait for all of them up to their grace period + 5 s,
   * then SIGKILL the rest by pid. Resolves 0 when every process drained and exited 0.
   */
  close(): Promise<number> {
    this.#closing ??= (async () => {
      for (const slot of this.#slots) {
        if (slot.timer) clearTimeout(slot.timer);
        slot.timer = undefined;
        slot.restartAt = undefined;
      }
      const running = this.#slots.map((s) => s.current).filter((p): p is WorkerProcess => p !== undefined && p.running);
      this.#log.info({ processes: running.map((p) => p.pid) }, 'supervisor shutting down: draining every worker process');
      for (const p of running) p.signal('SIGTERM');
      const deadline = this.#o.shutdownGraceMs + EXIT_MARGIN_MS;
      let timer: NodeJS.Timeout | undefined;
      const all = Promise.all(running.map((p) => p.exited));
      const timedOut = await Promise.race([
        all.then(() => false),
        new Promise<boolean>((r) => { timer = setTimeout(() => r(true), deadline); }),
      ]);
      clearTimeout(timer);
      if (timedOut) {
        this.#log.warn({ afterMs: deadline }, 'worker processes still running after the grace period: SIGKILL');
        this.killAll();
      }
      const exits = await all;
      await this.#ui?.close();
      await this.#server?.close();
      const clean = !timedOut && exits.every((e) => e.code === 0);
      this.#log.info({ exits: exits.map((e, i) => ({ pid: running[i].pid, code: e.code, signal: e.signal })) }, clean ? 'supervisor stopped: every worker process drained' : 'supervisor stopped: not every worker process drained');
      const code = this.#giveUpCode ?? (clean ? 0 : 1);
      this.#finish(code);
      return code;
    })();
    return this.#closing;
  }

  /** Second signal: SIGKILL every worker process by its pid (their jobs come back as stalled). */
  killAll(): void {
    for (const slot of this.#slots) slot.current?.signal('SIGKILL');
  }
}
