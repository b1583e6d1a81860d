import { Command, Option } from 'commander';
import { connectionSchema, parseConfig } from '../../shared/config.js';
import { logger } from '../../shared/logger.js';
import { waitForRedis } from '../../shared/redis.js';
import { ResultsExporter } from '../../worker/results-exporter.js';
import { CONNECTION_FLAGS, addFlags, pick, runCommand } from '../options.js';
import { onShutdownSignal } from '../signals.js';

export function resultsCommand(): Command {
  const cmd = new Command('results')
    .description('Drain the results queue into JSON Lines: results to --out, failures to <out>.errors.jsonl. Each document id is written once, also across restarts (ids already in the files are skipped).')
    .requiredOption('--out <file>', 'JSON Lines file to append results to')
    .addOption(new Option('--errors-out <file>', 'file for failure records (default <out>.errors.jsonl)'))
    .option('--follow', 'keep running and export new results as they arrive');
  addFlags(cmd, CONNECTION_FLAGS);
  cmd.action((opts: Record<string, unknown>) =>
    runCommand(async () => {
      const c = parseConfig(connectionSchema, pick(opts, CONNECTION_FLAGS));
      await waitForRedis(c.redisUrl);
      const exporter = new ResultsExporter({
        redisUrl: c.redisUrl, queue: c.queue, prefix: c.prefix, resultsQueue: c.resultsQueue,
        out: String(opts.out), errorsOut: opts.errorsOut as string | undefined, follow: Boolean(opts.follow),
      });
      onShutdownSignal(() => exporter.close());
      await exporter.start();
      if (opts.follow) {
        logger().info({ out: opts.out }, 'exporting results until SIGTERM/SIGINT');
        await new Promise(() => {});
      }
      await exporter.waitUntilDrained();
      await exporter.close();
      process.stdout.write(`exported ${exporter.counts.ok} results to ${String(opts.out)} and ${exporter.counts.failed} failures to ${exporter.errorsOut}` +
        `${exporter.counts.duplicatesSkipped ? ` (${exporter.counts.duplicatesSkipped} duplicates skipped)` : ''}\n`);
    }),
  );
  return cmd;
}
