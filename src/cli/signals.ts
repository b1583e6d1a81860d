/**
 * Signal handling for long-running commands (graphile-worker's pattern): the first SIGTERM or
 * SIGINT starts a graceful shutdown, a second one exits at once.
 */
import { logger } from '../shared/logger.js';

export function onShutdownSignal(shutdown: (signal: NodeJS.Signals) => Promise<void>): void {
  let shuttingDown = false;
  const handler = (signal: NodeJS.Signals) => {
    if (shuttingDown) {
      logger().warn({ signal }, 'second signal: exiting now');
      process.exit(130);
    }
    shuttingDown = true;
    logger().info({ signal }, 'signal received: graceful shutdown (send it again to exit at once)');
    shutdown(signal).then(
      () => process.exit(0),
      (err) => {
        logger().error({ reason: (err as Error).message }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
}
