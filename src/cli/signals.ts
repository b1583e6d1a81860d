/**
 * Signal handling for long-running commands (graphile-worker's pattern): the first SIGTERM or
 * SIGINT starts a graceful shutdown, a second one ends the process at once.
 */
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
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
}
