/**
 * `roberta-batch soak [--short]`: src/bench/soak.ts. Exit 0 only when every id was exported
 * exactly once.
 */
import { Command } from 'commander';
import { parseConfig } from '../../shared/config.js';
import { REPORT, SOAK, schemaOf, variant } from '../../shared/flags.js';
import { formatSoak, runSoak, SOAK_FULL, SOAK_SHORT } from '../../bench/soak.js';
import { addFlags, pick, runCommand } from '../options.js';

const both = (field: 'documents' | 'maxmemory' | 'docsPerJob' | 'maxWaiting') =>
  SOAK_FULL[field] === SOAK_SHORT[field] ? `${SOAK_FULL[field]}` : `${SOAK_FULL[field]}; ${SOAK_SHORT[field]} with --short`;
const SOAK_FLAGS = {
  ...SOAK,
  documents: variant(SOAK.documents, { defaultHelp: both('documents') }),
  maxmemory: variant(SOAK.maxmemory, { defaultHelp: both('maxmemory') }),
  docsPerJob: variant(SOAK.docsPerJob, { defaultHelp: both('docsPerJob') }),
  maxWaiting: variant(SOAK.maxWaiting, { defaultHelp: both('maxWaiting') }),
  json: variant(REPORT.json, { help: 'print the report as JSON' }),
};
const soakSchema = schemaOf(SOAK_FLAGS);

export function soakCommand(): Command {
  const cmd = new Command('soak')
    .description('Bounded-Redis soak on a private redis-server (maxmemory 256mb, noeviction): 1,000,000 documents through one worker process and a following exporter; reports peak used_memory, bytes per document at the end and docs/s, exits 1 unless every id is exported exactly once');
  addFlags(cmd, SOAK_FLAGS);
  return cmd.action((flags: Record<string, unknown>) =>
      runCommand(async () => {
        const opts = parseConfig(soakSchema, pick(flags, SOAK_FLAGS));
        const base = opts.short ? SOAK_SHORT : SOAK_FULL;
        const report = await runSoak({
          documents: opts.documents ?? base.documents,
          maxmemory: opts.maxmemory ?? base.maxmemory,
          docsPerJob: opts.docsPerJob ?? base.docsPerJob,
          maxWaiting: opts.maxWaiting ?? base.maxWaiting,
          onProgress: (line) => process.stderr.write(`soak: ${line}\n`),
        });
        process.stdout.write(opts.json ? `${JSON.stringify(report)}\n` : formatSoak(report));
        return report.ok ? 0 : 1;
      }),
  );
}
