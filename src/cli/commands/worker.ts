import { Command } from 'commander';
import { parseConfig, workerSchema } from '../../shared/config.js';
import { logger } from '../../shared/logger.js';
import { RobertaWorker } from '../../worker/worker.js';
import { CONNECTION_FLAGS, WORKER_FLAGS, addFlags, pick, runCommand } from '../options.js';
import { onShutdownSignal } from '../signals.js';

export function workerCommand(): Command {
  const cmd = new Command('worker')
    .description('Serve a queue: documents in, one result per document to the results queue. Runs until SIGTERM/SIGINT (graceful: finishes the batch in flight).');
  addFlags(cmd, [...CONNECTION_FLAGS, ...WORKER_FLAGS]);
  cmd.action((opts: Record<string, unknown>) =>
    runCommand(async () => {
      const config = parseConfig(workerSchema, pick(opts, [...CONNECTION_FLAGS, ...WORKER_FLAGS]));
      const worker = new RobertaWorker(config);
      onShutdownSignal(() => worker.close());
      try {
        await worker.start();
      } catch (err) {
        await worker.close();
        throw err;
      }
      logger().info('worker running; SIGTERM or Ctrl-C to stop');
      await new Promise(() => {});
    }),
  );
  return cmd;
}
