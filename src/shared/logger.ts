/**
 * pino JSON logs on stderr (stdout stays free for command output such as `status`).
 * Documents are logged by id, never by text: review archives may hold personal data.
 */
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(opts: { level?: string; name?: string } = {}): Logger {
  return pino(
    {
      name: opts.name ?? 'roberta-batch',
      level: opts.level ?? process.env.LOG_LEVEL ?? 'info',
      base: { pid: process.pid },
      // Defence in depth: if a document object is ever passed to a log call, its text is dropped.
      redact: { paths: ['text', '*.text', 'doc.text', 'docs[*].text'], censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    pino.destination({ dest: 2, sync: true }),
  );
}

let root: Logger | undefined;

/** The process-wide logger, created on first use. */
export function logger(): Logger {
  root ??= createLogger();
  return root;
}

export function setLogger(l: Logger): void {
  root = l;
}
