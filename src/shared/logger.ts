/**
 * pino logs on stderr (stdout stays free for command output such as `status`): JSON lines for
 * machines, or concise human lines (pino-pretty) when a person watches a terminal.
 * Documents are logged by id, never by text: review archives may hold personal data.
 */
import { createRequire } from 'node:module';
import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

export type LogFormat = 'json' | 'pretty';

/**
 * `--log-format` / RB_LOG_FORMAT: `json`, `pretty`, or `auto` (the default): pretty only when
 * stderr is a terminal and the process is not in a Kubernetes pod (KUBERNETES_SERVICE_HOST is
 * set in every pod, also one with `tty: true`). `docker logs`, `kubectl logs`, CI and files get
 * JSON lines because their stderr is no terminal; `docker run -it` is a person at a terminal.
 */
export function resolveLogFormat(
  wanted: string | undefined = 'auto',
  // Not configuration: where the process runs (every Kubernetes pod has it).
  env: NodeJS.ProcessEnv = process.env,
  stderrIsTTY: boolean = process.stderr.isTTY === true,
): LogFormat {
  if (wanted === 'json' || wanted === 'pretty') return wanted;
  return stderrIsTTY && !env.KUBERNETES_SERVICE_HOST ? 'pretty' : 'json';
}

/**
 * Never printed: a password from REDIS_URL can reach a log call inside a client library's
 * error object (ioredis' ReplyError carries the failed command, `AUTH <password>`).
 */
const REDACT = [
  'text', '*.text', 'doc.text', 'docs[*].text',
  'password', '*.password', 'command.args', '*.command.args', 'err.command', 'reason.command',
];

function prettyStream(): DestinationStream {
  // Loaded on demand: JSON-only processes (workers in Kubernetes) never pay for it.
  const pretty = createRequire(import.meta.url)('pino-pretty') as (o: Record<string, unknown>) => DestinationStream;
  return pretty({
    destination: 2,
    sync: true,
    colorize: process.stderr.isTTY === true,
    translateTime: 'SYS:HH:MM:ss',
    // Fields that identify a process, a run or a log event for machines; a person sees them in
    // the summary or the message.
    ignore: 'pid,hostname,name,workerId,component,runId,sha256,event',
    singleLine: true,
  });
}

export function createLogger(opts: { level?: string; name?: string; format?: LogFormat; destination?: DestinationStream } = {}): Logger {
  const format = opts.format ?? resolveLogFormat();
  return pino(
    {
      name: opts.name ?? 'roberta-batch',
      // The CLI passes --log-level / LOG_LEVEL (src/shared/flags.ts OUTPUT).
      level: opts.level ?? 'info',
      base: { pid: process.pid },
      // Defence in depth: if a document object is ever passed to a log call, its text is dropped.
      redact: { paths: REDACT, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    opts.destination ?? (format === 'pretty' ? prettyStream() : pino.destination({ dest: 2, sync: true })),
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
