/**
 * A dependency-free progress reporter for long counts: bytes of a download, documents of a run.
 *
 * - On a TTY it redraws one line in place (`\r`): a bar when the total is known, the count,
 *   the rate and the ETA. Redraws are throttled to one per 100 ms so a caller may call
 *   `update()` for every 64 KiB chunk without flooding the terminal.
 * - Elsewhere (CI logs, `kubectl logs`, a file) it writes one plain line every `logEveryMs`
 *   (5 s by default): carriage-return redraws are unreadable once captured.
 *
 * The rate is measured over a sliding window of the last 5 s, so a resumed download (which
 * starts at N bytes) and a pause do not distort it for long.
 */

export type ProgressUnit = 'bytes' | 'docs';

/** The part of a writable stream Progress needs; `process.stderr` fits. */
export interface ProgressStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressOptions {
  label: string;
  unit: ProgressUnit;
  total?: number;
  /** Where to draw; process.stderr by default (stdout may carry results). */
  stream?: ProgressStream;
  /** Interval between plain log lines when the stream is not a TTY, in ms (default 5000). */
  logEveryMs?: number;
  /** Clock in ms, injectable for tests. */
  now?: () => number;
}

const REDRAW_EVERY_MS = 100;
const RATE_WINDOW_MS = 5_000;
const BAR_WIDTH = 24;

export class Progress {
  readonly #label: string;
  readonly #unit: ProgressUnit;
  readonly #stream: ProgressStream;
  readonly #tty: boolean;
  readonly #logEveryMs: number;
  readonly #now: () => number;
  readonly #startedAt: number;
  #total: number | undefined;
  #done = 0;
  #startCount: number | undefined;
  #lastDrawAt = -Infinity;
  #lastLineLength = 0;
  #samples: Array<{ t: number; n: number }> = [];
  #finished = false;

  constructor(options: ProgressOptions) {
    this.#label = options.label;
    this.#unit = options.unit;
    this.#total = options.total;
    this.#stream = options.stream ?? process.stderr;
    this.#tty = this.#stream.isTTY === true;
    this.#logEveryMs = options.logEveryMs ?? 5_000;
    this.#now = options.now ?? Date.now;
    this.#startedAt = this.#now();
    // A non-TTY reporter waits one full interval before its first line: short tasks stay quiet.
    if (!this.#tty) this.#lastDrawAt = this.#startedAt;
  }

  get done(): number {
    return this.#done;
  }

  get total(): number | undefined {
    return this.#total;
  }

  /** Sets the absolute count (and the total, when it becomes known late). */
  update(done: number, total?: number): void {
    if (this.#finished) return;
    if (total !== undefined) this.#total = total;
    this.#done = done;
    const t = this.#now();
    this.#startCount ??= done;
    this.#record(t, done);
    if (t - this.#lastDrawAt >= (this.#tty ? REDRAW_EVERY_MS : this.#logEveryMs)) {
      this.#lastDrawAt = t;
      this.#draw(t);
    }
  }

  /** Adds `n` to the count. */
  tick(n = 1): void {
    this.update(this.#done + n);
  }

  /** Writes the final line (count, elapsed time, average rate); later calls do nothing. */
  finish(message = 'done'): void {
    if (this.#finished) return;
    this.#finished = true;
    const elapsedMs = Math.max(1, this.#now() - this.#startedAt);
    const counted = this.#done - (this.#startCount ?? this.#done);
    const avg = (counted * 1000) / elapsedMs;
    const line = `${this.#label}: ${message}, ${this.#amount(this.#done)} in ${formatDuration(elapsedMs / 1000)}`
      + (counted > 0 ? ` (${this.#rate(avg)})` : '');
    this.#write(line, true);
  }

  #record(t: number, n: number): void {
    const last = this.#samples[this.#samples.length - 1];
    // One sample per 250 ms is plenty for a 5 s window.
    if (last && t - last.t < 250) {
      last.n = n;
    } else {
      this.#samples.push({ t, n });
    }
    while (this.#samples.length > 2 && t - this.#samples[0].t > RATE_WINDOW_MS) this.#samples.shift();
  }

  /** Units per second over the window; undefined until two samples exist. */
  #currentRate(): number | undefined {
    const first = this.#samples[0];
    const last = this.#samples[this.#samples.length - 1];
    if (!first || !last || last.t <= first.t) return undefined;
    return ((last.n - first.n) * 1000) / (last.t - first.t);
  }

  #draw(t: number): void {
    const rate = this.#currentRate();
    const total = this.#total;
    const parts: string[] = [];
    if (total !== undefined && total > 0) {
      const ratio = Math.min(1, this.#done / total);
      const pct = `${(ratio * 100).toFixed(ratio < 0.1 ? 1 : 0)}%`;
      if (this.#tty) {
        const filled = Math.round(ratio * BAR_WIDTH);
        parts.push(`[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}] ${pct.padStart(5)}`);
        parts.push(`${this.#amount(this.#done)} / ${this.#amount(total)}`);
      } else {
        parts.push(`${this.#amount(this.#done)} / ${this.#amount(total)} (${pct})`);
      }
    } else {
      parts.push(this.#amount(this.#done));
    }
    if (rate !== undefined) {
      parts.push(this.#rate(rate));
      if (total !== undefined && rate > 0 && this.#done < total) {
        parts.push(`ETA ${formatDuration((total - this.#done) / rate)}`);
      }
    } else if (!this.#tty) {
      parts.push(`${formatDuration((t - this.#startedAt) / 1000)} elapsed`);
    }
    this.#write(`${this.#label}: ${parts.join('  ')}`, false);
  }

  #write(line: string, final: boolean): void {
    if (this.#tty) {
      const columns = this.#stream.columns ?? 100;
      const text = line.length >= columns ? line.slice(0, columns - 1) : line;
      // Pad over the remains of a longer previous line instead of relying on ANSI erase codes.
      const pad = ' '.repeat(Math.max(0, this.#lastLineLength - text.length));
      this.#lastLineLength = text.length;
      this.#stream.write(`\r${text}${pad}${final ? '\n' : ''}`);
    } else {
      this.#stream.write(`${line}\n`);
    }
  }

  #amount(n: number): string {
    return this.#unit === 'bytes' ? formatBytes(n) : `${formatCount(n)} docs`;
  }

  #rate(perSecond: number): string {
    return this.#unit === 'bytes' ? `${formatBytes(perSecond)}/s` : `${formatCount(Math.round(perSecond))} docs/s`;
  }
}

/** 1536 -> "1.5 KiB"; binary units because model sizes are quoted that way by most tools. */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${Math.round(v)} B` : `${v.toFixed(v < 10 ? 2 : 1)} ${units[i]}`;
}

function formatCount(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** Seconds -> "m:ss" or "h:mm:ss". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}
