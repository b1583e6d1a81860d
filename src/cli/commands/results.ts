import { Command } from 'commander';
import { connectionSchema, parseConfig } from '../../shared/config.js';
import { CONNECTION, RESULTS, schemaOf } from '../../shared/flags.js';
import { logger } from '../../shared/logger.js';
import { E } from '../../shared/errors.js';
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
      // Loaded once the flags are valid (ioredis, BullMQ); Arrow and parquet-wasm only for --format parquet.
      const [{ waitForRedis }, { ResultsExporter }] = await Promise.all([import('../../shared/redis-checks.js'), import('../../exporter/results-exporter.js')]);
      await waitForRedis(c.redisUrl, c.redisWaitMs);
      const { ParquetResultsWriter } = r.format === 'parquet' ? await import('../../exporter/parquet-writer.js') : { ParquetResultsWriter: undefined };
      const exporter = new ResultsExporter({
        redisUrl: c.redisUrl, queue: c.queue, prefix: c.prefix, resultsQueue: c.resultsQueue,
        out, errorsOut: r.errorsOut,
        sink: ParquetResultsWriter ? new ParquetResultsWriter({ out }) : undefined,
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
