/**
 * A RobertaWorker in the test process, for tests where a process boundary adds nothing: the
 * same class the CLI runs, on real Redis and a real model, observed through its events instead
 * of its log lines. Spawning the CLI costs ~0.5 s and a second model load per worker; tests of
 * signals, crashes, exit codes and the supervisor still spawn it (cli.ts).
 */
import { once } from 'node:events';
import { parseConfig, workerSchema } from '../../src/shared/config.js';
import type { Logger } from 'pino';
import { createLogger } from '../../src/shared/logger.js';
import type { WorkerDeps } from '../../src/worker/worker-deps.js';
import type { WorkerEventMap } from '../../src/worker/worker-events.js';
import { RobertaWorker } from '../../src/worker/worker.js';
import { withDeadline } from './test-queue.js';

/**
 * A worker built from config fields as the CLI flags give them (`{ queue, model, tokenizer }`;
 * metricsPort 0 unless given,
 * RB_* and REDIS_URL from the environment as for the CLI). Not started: call start() (it
 * resolves once the `ready` event was emitted); end it with closeWorker() in an after hook.
 */
export function inProcessWorker(flags: Record<string, unknown>, deps: WorkerDeps = {}): RobertaWorker {
  const config = parseConfig(workerSchema, { metricsPort: 0, ...flags });
  // Warnings and errors only: the test's own output stays readable.
  const worker = new RobertaWorker(config, { log: createLogger({ level: process.env.RB_TEST_WORKER_LOG ?? 'warn', format: 'json' }), ...deps });
  return worker;
}

/**
 * A JSON logger that keeps its lines in memory, for tests that read what a worker logged
 * (`{ log }` as the worker's deps). Level info, as the CLI logs by default.
 */
export function capturedLogger(level = 'info'): { log: Logger; text(): string } {
  const lines: string[] = [];
  const log = createLogger({ level, format: 'json', destination: { write: (line: string) => { lines.push(line); } } });
  return { log, text: () => lines.join('') };
}

/** close() with a deadline, so a stuck worker fails the test instead of hanging the suite. */
export function closeWorker(worker: RobertaWorker, timeoutMs = 30_000): Promise<boolean> {
  return withDeadline(worker.close(), timeoutMs, 'worker.close');
}

/** The arguments of the next `event` of a worker, or a rejection after `timeoutMs`. */
export async function nextEvent<E extends keyof WorkerEventMap>(worker: RobertaWorker, event: E, timeoutMs = 30_000): Promise<WorkerEventMap[E]> {
  return withDeadline(once(worker, event) as Promise<WorkerEventMap[E]>, timeoutMs, `worker event ${event}`);
}
