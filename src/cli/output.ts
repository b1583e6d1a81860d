/**
 * What a command prints for people: the log format and level chosen from --log-format, --quiet
 * and --verbose (program-wide flags), the random-weights banner and the run progress line.
 */
import { createLogger, logger, resolveLogFormat, setLogger, type LogFormat } from '../shared/logger.js';
import { Progress } from './progress.js';
import { configError, parseConfig } from '../shared/config.js';
import { OUTPUT, schemaOf } from '../shared/flags.js';

const outputSchema = schemaOf(OUTPUT);

let format: LogFormat = 'json';
let quiet = false;

export interface OutputFlags {
  logFormat?: string;
  logLevel?: string;
  quiet?: boolean;
  verbose?: boolean;
}

/** Called once before a command runs. Child processes (supervised workers) inherit the choice. */
export function configureOutput(flags: OutputFlags): void {
  const c = parseConfig(outputSchema, { ...flags });
  if (c.quiet && c.verbose) throw configError(['--quiet and --verbose: give one of them']);
  format = resolveLogFormat(c.logFormat);
  quiet = c.quiet;
  const level = c.quiet ? 'error' : c.verbose ? 'debug' : c.logLevel;
  // Inherited by child processes (supervised workers, bench and chaos workers): the same choice.
  process.env.RB_LOG_FORMAT = format;
  process.env.LOG_LEVEL = level;
  setLogger(createLogger({ format, level }));
}

export function logFormat(): LogFormat {
  return format;
}

/** --quiet: the summary and errors only (no progress line either). */
export function isQuiet(): boolean {
  return quiet;
}

/** A progress line for people (a terminal, pretty logs, not --quiet); JSON logs get none. */
export function runProgress(label: string): { update: (done: number, total: number | undefined) => void; finish: () => void } | undefined {
  if (quiet || format !== 'pretty') return undefined;
  const bar = new Progress({ label, unit: 'docs' });
  // Finished as soon as the last document is in: the workers' shutdown lines come after it.
  return {
    update: (done, total) => {
      bar.update(done, total);
      if (done === total) bar.finish();
    },
    finish: () => bar.finish(),
  };
}

const BANNER_TEXT = [
  'RANDOM WEIGHTS: this run used a generated test model, its scores are meaningless.',
  'For real sentiment scores: npx roberta-batch models fetch roberta-sequence-classification-9',
];

/**
 * The warning a newcomer must not miss, right above the summary: a framed block on stderr for
 * people, one more warning line in JSON logs for machines.
 */
export function showModelBanner(): void {
  if (format === 'json') {
    logger().warn({ randomWeights: true }, BANNER_TEXT.join(' '));
    return;
  }
  const width = Math.max(...BANNER_TEXT.map((l) => l.length));
  const rule = `+${'-'.repeat(width + 2)}+`;
  const body = [rule, ...BANNER_TEXT.map((l) => `| ${l.padEnd(width)} |`), rule].join('\n');
  const tty = process.stderr.isTTY === true;
  process.stderr.write(`\n${tty ? `\x1b[1;33m${body}\x1b[0m` : body}\n`);
}
