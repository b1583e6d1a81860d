/**
 * `roberta-batch soak [--short]`: src/bench/soak.ts. Exit 0 only when every id was exported
 * exactly once.
 */
import { Command, Option } from 'commander';
import { formatSoak, runSoak, SOAK_FULL, SOAK_SHORT } from '../../bench/soak.js';
import { integerFlag, runCommand } from '../options.js';

export function soakCommand(): Command {
  return new Command('soak')
    .description('Bounded-Redis soak on a private redis-server (maxmemory 256mb, noeviction): 1,000,000 documents through one worker process and a following exporter; reports peak used_memory, bytes per document at the end and docs/s, exits 1 unless every id is exported exactly once')
    .option('--short', '20,000 documents under maxmemory 16mb (what npm test runs)')
    .addOption(new Option('--documents <n>', 'documents (default 1000000; 20000 with --short)'))
    .addOption(new Option('--maxmemory <size>', 'redis-server maxmemory (default 256mb; 16mb with --short)'))
    .addOption(new Option('--docs-per-job <n>', 'documents per job (default 64)'))
    .addOption(new Option('--max-waiting <n>', 'producer back-pressure, in waiting jobs (default 200; 20 with --short)'))
    .option('--json', 'print the report as JSON')
    .action((opts: { short?: boolean; documents?: string; maxmemory?: string; docsPerJob?: string; maxWaiting?: string; json?: boolean }) =>
      runCommand(async () => {
        const base = opts.short ? SOAK_SHORT : SOAK_FULL;
        const report = await runSoak({
          documents: integerFlag('--documents', opts.documents, 1) ?? base.documents,
          maxmemory: opts.maxmemory ?? base.maxmemory,
          docsPerJob: integerFlag('--docs-per-job', opts.docsPerJob, 1) ?? base.docsPerJob,
          maxWaiting: integerFlag('--max-waiting', opts.maxWaiting, 1) ?? base.maxWaiting,
          onProgress: (line) => process.stderr.write(`soak: ${line}\n`),
        });
        process.stdout.write(opts.json ? `${JSON.stringify(report)}\n` : formatSoak(report));
        return report.ok ? 0 : 1;
      }),
    );
}
