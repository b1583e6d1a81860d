import { Command } from 'commander';
import { connectionSchema, parseConfig } from '../../shared/config.js';
import { CONNECTION, RESULTS, schemaOf } from '../../shared/flags.js';
import { logger } from '../../shared/logger.js';
import { waitForRedis } from '../../shared/redis-checks.js';
import { E } from '../../shared/errors.js';
import { ParquetResultsWriter } from '../../exporter/parquet-writer.js';
import { ResultsExporter } from '../../exporter/results-exporter.js';
import { addFlags, pick, runCommand } from '../options.js';

const resultsSchema = schemaOf(RESULTS);
import { onShutdownSignal } from '../signals.js';

export function resultsCommand(): Command {
  const cmd = new Command('results')
    .description('Drain the results queue into JSON Lines (or one Parquet file with --format parquet): results to --out, failures to <out>.errors.jsonl. Each document id is written once, also across restarts (ids already in the files are skipped).');
  addFlags(cmd, { ...RESULTS, ...CONNECTION });
  cmd.action((opts: Record<string, unknown>) =>
    runCommand(async () => {
      const c = parseConfig(connectionSchema, pick(opts, CONNECTION));
      const r = parseConfig(resultsSchema, pick(opts, RESULTS));
      const out = r.out;
      if (r.format === 'parquet' && out.endsWith('.jsonl')) {
        throw E.CONFIG(`--format parquet with --out ${out}`, { hint: 'name the Parquet file *.parquet' });
      }
      await waitForRedis(c.redisUrl, c.redisWaitMs);
      const exporter = new ResultsExporter({
        redisUrl: c.redisUrl, queue: c.queue, prefix: c.prefix, resultsQueue: c.resultsQueue,
        out, errorsOut: r.errorsOut,
        sink: r.format === 'parquet' ? new ParquetResultsWriter({ out }) : undefined,
      });
      onShutdownSignal(() => exporter.close());
      await exporter.start();
      if (r.follow) {
        logger().info({ out }, r.format === 'parquet' ? 'exporting results until SIGTERM/SIGINT; the Parquet file is completed then' : 'exporting results until SIGTERM/SIGINT');
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
