import path from 'node:path';
import { Command, Option } from 'commander';
import { E } from '../../shared/errors.js';
import { renderSection, writeReport } from '../../bench/report.js';
import { repoRoot, runBench } from '../../bench/run.js';
import { runCommand } from '../options.js';

export function benchCommand(): Command {
  return new Command('bench')
    .description('Measure onnxruntime alone, roberta-batch end to end, a naive BullMQ worker and transformers.js on the same model and documents; the queue path; memory; int8. Writes docs/BENCHMARKS.md')
    .option('--quick', 'small samples: under 3 minutes')
    .addOption(new Option('--precision <p>', 'fp32 | int8 (int8 also measures the fp32 ceiling and embedding similarity)').default('fp32'))
    .option('--docs <n>', 'documents per throughput section (default 256 with --quick, 2000 otherwise)')
    .option('--queue-docs <n>', 'documents of the queue-path and memory-growth runs (default 2000 with --quick, 20000 otherwise)')
    .option('--worker-args <flags>', 'flags for the benchmarked worker, e.g. "--max-batch-size 64 --intra-op-threads 2"')
    .option('--skip <sections>', 'comma-separated: naive, transformers-js, queue-path, memory, similarity, ceiling')
    .addOption(new Option('--only <section>', 'run one section only: ceiling (the pipeline ceiling on a near-free model, ~1 minute with --quick)').choices(['ceiling']))
    .option('--ceiling-docs <n>', 'documents of each pipeline-ceiling run (default 5000 with --quick, 30000 otherwise)')
    .option('--ceiling-runs <list>', 'pipeline-ceiling runs as docsPerJob[xWorkers], comma-separated (default 1,64; e.g. 1,64,64x2)')
    .option('--baseline-cli <file>', "another build's dist/cli/main.js (an earlier commit): the end-to-end section and each pipeline-ceiling run are also made with it, for before/after ratios in one run")
    .option('--cpu-prof <dir>', 'write a CPU profile of every pipeline-ceiling worker process into <dir> (node --cpu-prof)')
    .option('--report <file>', 'Markdown file receiving the results section', 'docs/BENCHMARKS.md')
    .option('--no-write', 'print the results only')
    .action((opts: { quick?: boolean; precision: string; docs?: string; queueDocs?: string; workerArgs?: string; skip?: string; only?: 'ceiling'; ceilingDocs?: string; ceilingRuns?: string; cpuProf?: string; baselineCli?: string; report: string; write: boolean }) =>
      runCommand(async () => {
        const errs: string[] = [];
        if (opts.precision !== 'fp32' && opts.precision !== 'int8') errs.push(`  --precision "${opts.precision}": expected fp32 or int8`);
        for (const [flag, v] of [['--docs', opts.docs], ['--queue-docs', opts.queueDocs]] as const) {
          if (v !== undefined && !(/^\d+$/.test(v) && Number(v) >= 32)) errs.push(`  ${flag} "${v}": expected an integer >= 32`);
        }
        if (opts.ceilingDocs !== undefined && !(/^\d+$/.test(opts.ceilingDocs) && Number(opts.ceilingDocs) >= 64)) errs.push(`  --ceiling-docs "${opts.ceilingDocs}": expected an integer >= 64`);
        const runs = opts.ceilingRuns?.split(',').map((s) => s.trim()).filter(Boolean).map((s) => /^(\d+)(?:x(\d+))?$/.exec(s));
        if (runs?.some((m) => !m || Number(m[1]) < 1 || Number(m[2] ?? 1) < 1)) errs.push(`  --ceiling-runs "${opts.ceilingRuns}": expected docsPerJob[xWorkers],... e.g. 1,64,64x2`);
        if (errs.length) throw E.CONFIG(`invalid configuration:\n${errs.join('\n')}`);
        const result = await runBench({
          quick: Boolean(opts.quick),
          precision: opts.precision as 'fp32' | 'int8',
          docs: opts.docs ? Number(opts.docs) : undefined,
          queueDocs: opts.queueDocs ? Number(opts.queueDocs) : undefined,
          workerArgs: opts.workerArgs?.split(/\s+/).filter(Boolean),
          skip: opts.skip?.split(',').map((s) => s.trim()).filter(Boolean),
          only: opts.only,
          ceilingDocs: opts.ceilingDocs ? Number(opts.ceilingDocs) : undefined,
          ceilingRuns: runs?.map((m) => [Number(m![1]), Number(m![2] ?? 1)] as [number, number]),
          cpuProfDir: opts.cpuProf ? path.resolve(opts.cpuProf) : undefined,
          baselineCli: opts.baselineCli ? path.resolve(opts.baselineCli) : undefined,
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
