/**
 * `roberta-batch reconcile INPUT --queue Q [--requeue]`: lists the documents of INPUT that have
 * neither a result nor a recorded failure (lost in a failover), and enqueues them again.
 * The work is in src/pipeline/reconcile.ts.
 */
import { Command } from 'commander';
import { parseConfig } from '../../shared/config.js';
import { CONNECTION, INPUT, RECONCILE, REPORT, schemaOf } from '../../shared/flags.js';
import type { ReconcileReport } from '../../pipeline/reconcile.js';
import { addFlags, runCommand } from '../options.js';

const FLAGS = {
  ...INPUT, ...CONNECTION, ...RECONCILE,
  json: { ...REPORT.json, help: 'print the report as one JSON object on stdout' },
};
const reconcileSchema = schemaOf(FLAGS);

function formatReport(r: ReconcileReport, listIds: boolean): string {
  const lines: string[] = [];
  if (listIds) {
    for (const id of r.missing) lines.push(`missing\t${id}`);
    for (const id of r.inProgress) lines.push(`in-progress\t${id}`);
  }
  const rows: Array<[string, number | string]> = [
    ['documents', r.documents],
    ['results', r.ok],
    ['failures', r.failed],
    ['in progress', r.inProgress.length],
    ['missing', r.missing.length],
  ];
  if (r.unreadableLines) rows.push(['unreadable lines', `${r.unreadableLines} (not documents: see enqueue --errors-out)`]);
  if (r.rejectedAtEnqueue) rows.push(['rejected', `${r.rejectedAtEnqueue} (refused by the producer: bad id or over --max-doc-bytes)`]);
  if (r.repeatedIds) rows.push(['repeated ids', r.repeatedIds]);
  if (r.requeue) rows.push(['requeued', `${r.requeue.enqueued}${r.staleJobsRemoved ? ` (${r.staleJobsRemoved} completed jobs without a result removed first)` : ''}`]);
  lines.push(`reconcile: queue "${r.queue}"`, ...rows.map(([k, v]) => `  ${k.padEnd(16)} ${v}`));
  return `${lines.join('\n')}\n`;
}

export function reconcileCommand(): Command {
  const cmd = new Command('reconcile')
    .description('List the documents of INPUT with neither a result nor a recorded failure (e.g. lost in a Redis failover); --requeue enqueues them again')
    .argument('<input>', 'the input file that was enqueued (JSON Lines, CSV or text)');
  addFlags(cmd, FLAGS);
  cmd
    .addHelpText('after', `
Each document is looked up by its job id in the results queue (a result or a failure record),
else in the main queue: waiting/active/delayed jobs are "in progress", failed jobs count as
failures (the results exporter records them), completed jobs without a result and absent jobs
are "missing". One document per job only: enqueue with --docs-per-job 1 (the default packs 64; packs cannot be looked up).
Exit codes: 0 done (also when documents are missing), 1 error, 2 invalid options.`)
    .action((input: string, flags: Record<string, unknown>) =>
      runCommand(async () => {
        const { json, ids, ...c } = parseConfig(reconcileSchema, flags);
        // Loaded once the flags are valid: a usage error or --help never pays for BullMQ.
        const { reconcile } = await import('../../pipeline/reconcile.js');
        const report = await reconcile(input, { ...c, encoding: c.encoding as 'utf8' | 'latin1' });
        process.stdout.write(json ? `${JSON.stringify(report)}\n` : formatReport(report, ids));
        return 0;
      }),
    );
  return cmd;
}
