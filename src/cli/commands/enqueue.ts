/**
 * `roberta-batch enqueue INPUT|- [options]`: reads documents and puts them on the queue.
 * Flags are parsed here; reading and enqueueing live in src/producer/.
 */
import { Command, Option } from 'commander';
import { addFlags, CONNECTION_FLAGS, INPUT_FLAGS, MAX_JOB_BYTES_FLAG, runCommand } from '../options.js';
import { isQuiet } from '../output.js';
import { onShutdownSignal } from '../signals.js';
import { parseConfig } from '../../shared/config.js';
import { Progress } from '../../shared/progress.js';
import { enqueueFile, type EnqueueSummary } from '../../producer/enqueue.js';
import { enqueueSchema, toEnqueueFileOptions } from '../../producer/options.js';

type Flag = [field: string, flags: string, description: string];

/** The reader flags, shared with `run` and `eval`. */
export const READER_FLAGS: Flag[] = INPUT_FLAGS;

const PRODUCER_FLAGS: Flag[] = [
  ['docsPerJob', '--docs-per-job <n>', 'documents per job; >1 packs them, job id pack-<sha1 of ids>, dedup per pack; 1 = one job per document, id = document id (default 64, 1 with --skip-unchanged)'],
  ['chunkSize', '--chunk-size <n>', 'jobs per addBulk round trip (default 1000)'],
  ['maxWaiting', '--max-waiting <n>', 'pause while the queue has more waiting jobs than this (default 100000)'],
  ['runId', '--run-id <id>', 'run id stored with every job (default run-YYYYMMDD-HHMMSS-xxxx, UTC)'],
  ['maxDocBytes', '--max-doc-bytes <n>', 'reject (E_INPUT_TOO_LARGE) documents whose text is over this many UTF-8 bytes (default 1048576)'],
  MAX_JOB_BYTES_FLAG,
  ['strict', '--strict', 'abort (exit 1) on the first malformed or rejected line instead of skipping it'],
  ['errorsOut', '--errors-out <file>', 'write malformed and rejected lines there as JSON Lines {lineNo, code, message, id?}'],
  ['skipUnchanged', '--skip-unchanged', 'skip documents whose stored result came from the same text and model setup; re-score changed ones (docs/INCREMENTAL.md)'],
  ['keepDoneDays', '--keep-done-days <days>', 'finished documents keep a ~100-byte marker in Redis (dedup, --skip-unchanged, reconcile) for this many days; after that a re-enqueue recomputes them; 0 = forever (default 0, docs/RELIABILITY.md)'],
  ['fingerprintTtlDays', '--fingerprint-ttl-days <days>', 'older name of --keep-done-days'],
];

const ENQUEUE_FLAGS: Flag[] = [...READER_FLAGS, ...CONNECTION_FLAGS.filter(([f]) => f !== 'resultsQueue'), ...PRODUCER_FLAGS];

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
    .addOption(new Option('--json', 'print the summary as one JSON object on stdout'))
    .addOption(new Option('--no-progress', 'no progress line on stderr'))
    .addHelpText('after', HELP_AFTER)
    // Commander's own usage errors (unknown option, missing INPUT) are invalid configuration too: exit 2.
    .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2))
    .action((input: string, flags: Record<string, unknown>) =>
      runCommand(async () => {
        const { json, progress: showProgress, ...rest } = flags;
        const config = parseConfig(enqueueSchema, rest);
        const controller = new AbortController();
        let bar: Progress | undefined;
        let done: Promise<unknown> = Promise.resolve();
        onShutdownSignal(async () => {
          controller.abort();
          await done;
        });
        const running = enqueueFile(input, {
          ...toEnqueueFileOptions(config, input),
          signal: controller.signal,
          onProgress: showProgress === false || json || isQuiet() ? undefined : (p) => {
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
