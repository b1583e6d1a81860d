/**
 * `roberta-batch reconcile INPUT --queue Q [--requeue]`: lists the documents of INPUT that have
 * neither a result nor a recorded failure (lost in a failover), and enqueues them again.
 * The work is in src/pipeline/reconcile.ts.
 */
import { Command, Option } from 'commander';
import { z } from 'zod';
import { connectionSchema, parseConfig } from '../../shared/config.js';
import { enqueueSchema } from '../../producer/options.js';
import { reconcile, type ReconcileReport } from '../../pipeline/reconcile.js';
import { addFlags, CONNECTION_FLAGS, runCommand } from '../options.js';
import { READER_FLAGS } from './enqueue.js';

const reconcileSchema = connectionSchema.extend(
  enqueueSchema.pick({ format: true, idField: true, textField: true, autoId: true, idPrefix: true, encoding: true, maxDocBytes: true, maxJobBytes: true, runId: true }).shape,
).extend({ requeue: z.union([z.boolean(), z.enum(['true', 'false', '1', '0'])]).transform((v) => v === true || v === 'true' || v === '1').default(false) });

type Flag = [field: string, flags: string, description: string];
const FLAGS: Flag[] = [
  ...READER_FLAGS,
  ...CONNECTION_FLAGS,
  ['maxDocBytes', '--max-doc-bytes <n>', 'as for enqueue: larger documents were rejected at enqueue and are not looked up (default 1048576)'],
  ['maxJobBytes', '--max-job-bytes <n>', 'as for enqueue, for re-enqueued documents (default 2097152)'],
  ['runId', '--run-id <id>', 'run id stored with re-enqueued jobs (default: a new one)'],
  ['requeue', '--requeue', 'enqueue the missing documents again (same job ids: safe to repeat)'],
];

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
    .addOption(new Option('--json', 'print the report as one JSON object on stdout'))
    .addOption(new Option('--no-ids', 'print the counts only, not the missing and in-progress ids'))
    .addHelpText('after', `
Each document is looked up by its job id in the results queue (a result or a failure record),
else in the main queue: waiting/active/delayed jobs are "in progress", failed jobs count as
failures (the results exporter records them), completed jobs without a result and absent jobs
are "missing". One document per job only: enqueue with --docs-per-job 1 (the default packs 64; packs cannot be looked up).
Exit codes: 0 done (also when documents are missing), 1 error, 2 invalid options.`)
    .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2))
    .action((input: string, flags: Record<string, unknown>) =>
      runCommand(async () => {
        const { json, ids, ...rest } = flags;
        const c = parseConfig(reconcileSchema, rest);
        const report = await reconcile(input, { ...c, encoding: c.encoding as 'utf8' | 'latin1' });
        process.stdout.write(json ? `${JSON.stringify(report)}\n` : formatReport(report, ids !== false));
        return 0;
      }),
    );
  return cmd;
}
