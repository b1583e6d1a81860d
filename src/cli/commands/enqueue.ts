/**
 * `roberta-batch enqueue INPUT|- [options]`: reads documents and puts them on the queue.
 * Flags are parsed here; reading and enqueueing live in src/producer/.
 */
import { Command } from 'commander';
import { addFlags, runCommand } from '../options.js';
import { isQuiet } from '../output.js';
import { onShutdownSignal } from '../signals.js';
import { parseConfig } from '../../shared/config.js';
import { REPORT, schemaOf } from '../../shared/flags.js';
import { Progress } from '../progress.js';
import type { EnqueueSummary } from '../../producer/enqueue.js';
import { ENQUEUE_OPTIONS, toEnqueueFileOptions } from '../../producer/options.js';

const ENQUEUE_FLAGS = { ...ENQUEUE_OPTIONS, json: { ...REPORT.json, help: 'print the summary as one JSON object on stdout' }, progress: REPORT.progress };
const enqueueCommandSchema = schemaOf(ENQUEUE_FLAGS);

const HELP_AFTER = `
Document ids:
  The document id is the BullMQ job id, so enqueueing a document again is a no-op
  (counted as "already queued"). Ids BullMQ refuses are escaped reversibly in the job
  id only (":" → %3A, "%" → %25, "17" → %317); job data keeps the document id.

Rejected lines (skipped, counted, listed in --errors-out; abort with --strict):
  E_INPUT_PARSE      not JSON / broken CSV quoting (CSV reading resumes on the next record)
  E_INPUT_INVALID    no id or text field, bad id, or not valid UTF-8 (use --encoding latin1)
  E_INPUT_TOO_LARGE  text over --max-doc-bytes, job over --max-job-bytes, or a line over
                     3 x --max-job-bytes (never held in memory)
  E_INPUT_DUPLICATE  an id already read from this input: counted as already queued, listed
                     with its line and the first one's (only the first is scored)
  E_INPUT_BINARY     the input is binary or compressed (NUL bytes, gzip/zip/... magic): the
                     whole input is refused; .gz files are decompressed as they are read
  Blank lines are skipped and counted.

Exit codes: 0 done (even with rejected lines), 1 error or --strict abort,
  2 invalid options, 130 interrupted (the documents read so far are enqueued).

Examples:
  roberta-batch enqueue reviews.jsonl --errors-out reviews.errors.jsonl
  roberta-batch enqueue train.csv --id-field textID --text-field text
  roberta-batch enqueue rt-polarity.neg --encoding latin1 --id-prefix neg
  zcat big.jsonl.gz | roberta-batch enqueue - --format jsonl --docs-per-job 16
`;

function formatSummary(s: EnqueueSummary): string {
  const n = (v: number) => v.toLocaleString('en-US');
  const rows: Array<[string, string]> = [
    ['read', n(s.read)],
    ['enqueued', n(s.enqueued)],
    ['already queued', `${n(s.alreadyQueued)}${s.duplicates ? ` (${n(s.duplicates)} repeat an id of this input${s.errorsOut ? `, listed in ${s.errorsOut}` : ''})` : ''}`],
    ...(s.skippedUnchanged || s.rescored ? ([['unchanged', `${n(s.skippedUnchanged)} skipped`], ['changed', `${n(s.rescored)} re-scored`]] as Array<[string, string]>) : []),
    ...(s.notEnqueued ? ([['NOT enqueued', `${n(s.notEnqueued)} (Redis refused them: E_REDIS_OOM; run the same command again once Redis has memory)`]] as Array<[string, string]>) : []),
    ['rejected', `${n(s.rejected)}${s.rejected > 0 && s.errorsOut ? ` (listed in ${s.errorsOut})` : s.rejected > 0 ? ' (pass --errors-out FILE to list them)' : ''}`],
    ['blank lines', n(s.skippedBlank)],
    ['jobs added', n(s.jobs)],
    ['elapsed', `${(s.elapsedMs / 1000).toFixed(1)} s (${n(s.docsPerSecond)} docs/s)`],
  ];
  const head = `${s.aborted ? 'interrupted' : 'done'}: run ${s.runId} → queue "${s.queue}"`;
  return [head, ...rows.map(([k, v]) => `  ${k.padEnd(15)} ${v}`)].join('\n');
}

export function enqueueCommand(): Command {
  const cmd = new Command('enqueue')
    .description('read documents (JSON Lines, CSV or text; a file or - for stdin) and enqueue them as BullMQ jobs')
    .argument('<input>', 'input file, or - to read stdin');
  addFlags(cmd, ENQUEUE_FLAGS);
  cmd
    .addHelpText('after', HELP_AFTER)
    .action((input: string, flags: Record<string, unknown>) =>
      runCommand(async () => {
        const { json, progress: showProgress, ...config } = parseConfig(enqueueCommandSchema, flags);
        // Loaded once the flags are valid: a usage error or --help never pays for BullMQ.
        const { enqueueFile } = await import('../../producer/enqueue.js');
        const controller = new AbortController();
        let bar: Progress | undefined;
        let done: Promise<unknown> = Promise.resolve();
        // The summary decides the exit code (1 when documents were not enqueued, 130 when
        // interrupted): the handler never resolves, so it cannot exit 0 first.
        onShutdownSignal(async () => {
          controller.abort();
          await done;
          await new Promise(() => {});
        });
        const running = enqueueFile(input, {
          ...toEnqueueFileOptions(config, input),
          signal: controller.signal,
          onProgress: !showProgress || json || isQuiet() ? undefined : (p) => {
            bar ??= p.totalBytes !== undefined
              ? new Progress({ label: 'enqueue', unit: 'bytes', total: p.totalBytes })
              : new Progress({ label: 'enqueue', unit: 'docs' });
            bar.update(p.totalBytes !== undefined ? (p.bytesRead ?? 0) : p.read);
          },
        });
        done = running.catch(() => undefined);
        const summary = await running;
        bar?.finish(summary.aborted ? 'interrupted' : 'done');
        process.stdout.write(json ? `${JSON.stringify(summary)}\n` : `${formatSummary(summary)}\n`);
        if (summary.notEnqueued) return 1;
        return summary.aborted ? 130 : 0;
      }),
    );
  return cmd;
}
