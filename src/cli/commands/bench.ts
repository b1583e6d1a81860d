import path from 'node:path';
import { Command } from 'commander';
import { parseConfig } from '../../shared/config.js';
import { BENCH, schemaOf, variant } from '../../shared/flags.js';
import { renderSection, writeReport } from '../../bench/report.js';
import { BENCH_SIZES, repoRoot, runBench } from '../../bench/run.js';
import { addFlags, pick, runCommand } from '../options.js';

const sized = (field: keyof typeof BENCH_SIZES.full) => `${BENCH_SIZES.quick[field]} with --quick, ${BENCH_SIZES.full[field]} otherwise`;
const BENCH_FLAGS = {
  ...BENCH,
  docs: variant(BENCH.docs, { defaultHelp: sized('docs') }),
  queueDocs: variant(BENCH.queueDocs, { defaultHelp: sized('queueDocs') }),
  ceilingDocs: variant(BENCH.ceilingDocs, { defaultHelp: sized('ceilingDocs') }),
  ceilingRounds: variant(BENCH.ceilingRounds, { defaultHelp: sized('ceilingRounds') }),
};
const benchSchema = schemaOf(BENCH_FLAGS);

export function benchCommand(): Command {
  const cmd = new Command('bench')
    .description('Measure onnxruntime alone, roberta-batch end to end, a naive BullMQ worker and transformers.js on the same model and documents; the queue path; memory; int8. Writes docs/BENCHMARKS.md');
  addFlags(cmd, BENCH_FLAGS);
  return cmd.action((flags: Record<string, unknown>) =>
    runCommand(async () => {
      const opts = parseConfig(benchSchema, pick(flags, BENCH_FLAGS));
      const result = await runBench({
        quick: opts.quick,
        precision: opts.precision,
        docs: opts.docs,
        queueDocs: opts.queueDocs,
        workerArgs: opts.workerArgs,
        skip: opts.skip,
        only: opts.only,
        ceilingDocs: opts.ceilingDocs,
        ceilingRuns: opts.ceilingRuns,
        ceilingRounds: opts.ceilingRounds,
        ceilingWarmup: opts.ceilingWarmup,
        ceilingModel: opts.ceilingModel,
        cpuProfDir: opts.cpuProf ? path.resolve(opts.cpuProf) : undefined,
        baselineCli: opts.baselineCli ? path.resolve(opts.baselineCli) : undefined,
        redisUrl: opts.redisUrl,
      });
      process.stdout.write(renderSection(result));
      if (opts.write) {
        const file = path.resolve(repoRoot(), opts.report);
        writeReport(file, result);
        process.stdout.write(`\nwritten to ${file}\n`);
      }
    }),
  );
}
