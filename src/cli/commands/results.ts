import { Command, Option } from 'commander';
import { connectionSchema, parseConfig } from '../../shared/config.js';
import { logger } from '../../shared/logger.js';
import { waitForRedis } from '../../shared/redis-checks.js';
import { E } from '../../shared/errors.js';
import { ParquetResultsWriter } from '../../worker/parquet-writer.js';
import { ResultsExporter } from '../../worker/results-exporter.js';
import { CONNECTION_FLAGS, addFlags, pick, runCommand } from '../options.js';
import { onShutdownSignal } from '../signals.js';

export function resultsCommand(): Command {
  const cmd = new Command('results')
    .description('Drain the results queue into JSON Lines (or one Parquet file with --format parquet): results to --out, failures to <out>.errors.jsonl. Each document id is written once, also across restarts (ids already in the files are skipped).')
    .requiredOption('--out <file>', 'JSON Lines file to append results to, or the Parquet file to write (see --format)')
    .addOption(new Option('--format <format>', 'jsonl: one JSON record per line, appended | parquet: one file with a float32 vector column, written to <out>.part and renamed when the export ends; rows already in <out> are kept (docs/OUTPUT.md)').choices(['jsonl', 'parquet']).default('jsonl'))
    .addOption(new Option('--errors-out <file>', 'file for failure records, JSON Lines in both formats (default <out>.errors.jsonl)'))
    .option('--follow', 'keep running and export new results as they arrive');
  addFlags(cmd, CONNECTION_FLAGS);
  cmd.action((opts: Record<string, unknown>) =>
    runCommand(async () => {
      const c = parseConfig(connectionSchema, pick(opts, CONNECTION_FLAGS));
      const out = String(opts.out);
      if (opts.format === 'parquet' && out.endsWith('.jsonl')) {
        throw E.CONFIG(`--format parquet with --out ${out}`, { hint: 'name the Parquet file *.parquet' });
      }
      await waitForRedis(c.redisUrl, c.redisWaitMs);
      const exporter = new ResultsExporter({
        redisUrl: c.redisUrl, queue: c.queue, prefix: c.prefix, resultsQueue: c.resultsQueue,
        out, errorsOut: opts.errorsOut as string | undefined,
        sink: opts.format === 'parquet' ? new ParquetResultsWriter({ out }) : undefined,
      });
      onShutdownSignal(() => exporter.close());
      await exporter.start();
      if (opts.follow) {
        logger().info({ out }, opts.format === 'parquet' ? 'exporting results until SIGTERM/SIGINT; the Parquet file is completed then' : 'exporting results until SIGTERM/SIGINT');
        await new Promise(() => {});
      }
      await exporter.waitUntilDrained();
      await exporter.close();
      process.stdout.write(`exported ${exporter.counts.ok} results to ${out} and ${exporter.counts.failed} failures to ${exporter.errorsOut}` +
        `${exporter.counts.duplicatesSkipped ? ` (${exporter.counts.duplicatesSkipped} duplicates skipped)` : ''}\n`);
    }),
  );
  return cmd;
}
