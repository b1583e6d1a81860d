/**
 * `roberta-batch chaos [--quick]`: the fault-injection run of src/chaos/run.ts. Exit 0 only when
 * every invariant holds (nothing lost, no duplicate, every result its own document's, failures
 * exactly the planted bad inputs, queues empty).
 */
import { Command, Option } from 'commander';
import { CHAOS_FULL, CHAOS_QUICK, describeFault, runChaos } from '../../chaos/run.js';
import { formatReport } from '../../chaos/report.js';
import { integerFlag, runCommand } from '../options.js';

export function chaosCommand(): Command {
  return new Command('chaos')
    .description('Fault-injection run on a private redis-server: 5,000 documents + planted bad inputs through 3 worker processes while workers are SIGKILLed, Redis restarts and clients pause; exits 1 if anything is lost, duplicated or mismatched')
    .option('--quick', '600 documents, 1 SIGKILL, 1 Redis restart, 1 pause (about a minute)')
    .addOption(new Option('--documents <n>', 'good documents (default 5000; 600 with --quick)'))
    .addOption(new Option('--workers <n>', 'worker processes (default 3)'))
    .addOption(new Option('--kills <n>', 'SIGKILLs shortly after a batch starts (default 3; 1 with --quick)'))
    .option('--json', 'print the report as JSON')
    .option('--keep', 'keep the run folder (inputs, export, rejected lines)')
    .action((opts: { quick?: boolean; documents?: string; workers?: string; kills?: string; json?: boolean; keep?: boolean }) =>
      runCommand(async () => {
        const base = opts.quick ? CHAOS_QUICK : CHAOS_FULL;
        const report = await runChaos({
          ...base,
          documents: integerFlag('--documents', opts.documents, 50) ?? base.documents,
          workers: integerFlag('--workers', opts.workers, 2) ?? base.workers,
          kills: integerFlag('--kills', opts.kills) ?? base.kills,
          keepDir: Boolean(opts.keep),
          onProgress: (line) => process.stderr.write(`chaos: ${line}\n`),
        });
        process.stdout.write(opts.json ? `${JSON.stringify(report)}\n` : formatReport(report, describeFault));
        return report.ok ? 0 : 1;
      }),
    );
}
