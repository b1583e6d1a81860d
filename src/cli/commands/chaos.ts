/**
 * `roberta-batch chaos [--quick]`: the fault-injection run of src/chaos/run.ts. Exit 0 only when
 * every invariant holds (nothing lost, no duplicate, every result its own document's, failures
 * exactly the planted bad inputs, queues empty).
 */
import { Command } from 'commander';
import { parseConfig } from '../../shared/config.js';
import { CHAOS, REPORT, schemaOf, variant } from '../../shared/flags.js';
import { CHAOS_FULL, CHAOS_QUICK, describeFault, runChaos } from '../../chaos/run.js';
import { formatReport } from '../../chaos/report.js';
import { addFlags, pick, runCommand } from '../options.js';

const CHAOS_FLAGS = {
  ...CHAOS,
  documents: variant(CHAOS.documents, { defaultHelp: `${CHAOS_FULL.documents}; ${CHAOS_QUICK.documents} with --quick` }),
  workers: variant(CHAOS.workers, { defaultHelp: `${CHAOS_FULL.workers}` }),
  kills: variant(CHAOS.kills, { defaultHelp: `${CHAOS_FULL.kills}; ${CHAOS_QUICK.kills} with --quick` }),
  json: variant(REPORT.json, { help: 'print the report as JSON' }),
};
const chaosSchema = schemaOf(CHAOS_FLAGS);

export function chaosCommand(): Command {
  const cmd = new Command('chaos')
    .description('Fault-injection run on a private redis-server: 5,000 documents + planted bad inputs through 3 worker processes while workers are SIGKILLed, Redis restarts and clients pause; exits 1 if anything is lost, duplicated or mismatched');
  addFlags(cmd, CHAOS_FLAGS);
  return cmd.action((flags: Record<string, unknown>) =>
      runCommand(async () => {
        const opts = parseConfig(chaosSchema, pick(flags, CHAOS_FLAGS));
        const base = opts.quick ? CHAOS_QUICK : CHAOS_FULL;
        const report = await runChaos({
          ...base,
          documents: opts.documents ?? base.documents,
          workers: opts.workers ?? base.workers,
          kills: opts.kills ?? base.kills,
          keepDir: opts.keep,
          onProgress: (line) => process.stderr.write(`chaos: ${line}\n`),
        });
        process.stdout.write(opts.json ? `${JSON.stringify(report)}\n` : formatReport(report, describeFault));
        return report.ok ? 0 : 1;
      }),
  );
}
