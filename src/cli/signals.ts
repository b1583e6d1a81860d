/**
 * Signal handling for long-running commands (graphile-worker's pattern): the first SIGTERM or
 * SIGINT starts a graceful shutdown, a second one ends the process at once.
 */
import { runBeforeExitHooks } from '../shared/exit-hooks.js';
import { logger } from '../shared/logger.js';

/**
 * Ends the process now, even while onnxruntime computes in the inference thread. A plain
 * process.exit() there runs onnxruntime's static destructors under a live session and aborts
 * (SIGABRT, core dump); SIGKILL ends it cleanly. Jobs in flight come back through BullMQ's
 * stalled-job recovery.
 */
export function exitNow(): never {
  logger().flush?.();
  process.kill(process.pid, 'SIGKILL');
  throw new Error('unreachable');
}

/** `shutdown` resolves to `false` when it could not finish cleanly (grace period over). */
export function onShutdownSignal(shutdown: (signal: NodeJS.Signals) => Promise<boolean | void>): void {
  let shuttingDown = false;
  const handler = (signal: NodeJS.Signals) => {
    if (shuttingDown) {
      logger().warn({ signal }, 'second signal: exiting now');
      exitNow();
    }
    shuttingDown = true;
    logger().info({ signal }, 'signal received: graceful shutdown (send it again to exit at once)');
    shutdown(signal).then(
      (clean) => (clean === false ? exitNow() : process.exit(0)),
      (err) => {
        logger().error({ reason: (err as Error).message }, 'shutdown failed');
        void runBeforeExitHooks().finally(() => process.exit(1));
      },
    );
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
}

/**
 * For commands that clean up after themselves (run, eval): the first signal aborts `signal`
 * and waits for the work handed to `track()` to finish its clean-up; the work then rejects with
 * E_SHUTDOWN, which runCommand reports and turns into the exit code. A second signal ends the
 * process at once.
 */
export function abortOnShutdownSignal(): { signal: AbortSignal; track<T>(work: Promise<T>): Promise<T> } {
  const controller = new AbortController();
  let finished: Promise<unknown> = Promise.resolve();
  onShutdownSignal(async () => {
    controller.abort();
    await finished;
    await new Promise(() => {});
  });
  return {
    signal: controller.signal,
    track(work) {
      finished = work.catch(() => undefined);
      return work;
    },
  };
}
