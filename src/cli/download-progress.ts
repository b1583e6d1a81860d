/**
 * Download progress on the terminal: an onProgress callback for `downloadFile`/`fetchModel`
 * that draws one Progress per file. The model layer only calls a callback; the terminal stays
 * here: `fetchModel(name, { onProgress: stderrProgress() })`.
 */
import path from 'node:path';
import { Progress, type ProgressStream } from './progress.js';

/** What a download reports (src/model/download.ts DownloadProgress, plus the bundle file name). */
export interface FileProgress {
  dest: string;
  received: number;
  total: number | undefined;
  /** Bytes that were already in the `.part` when this attempt started. */
  resumedFrom: number;
  file?: string;
}

/** One Progress per file and attempt on `stream` (a bar on a TTY, a line every 5 s otherwise). */
export function stderrProgress(stream: ProgressStream = process.stderr): (p: FileProgress) => void {
  let current: { key: string; progress: Progress } | undefined;
  return (p) => {
    const key = `${p.dest}\u0000${p.resumedFrom}`;
    if (current?.key !== key) {
      current?.progress.finish(current.progress.total !== undefined && current.progress.done >= current.progress.total ? 'done' : 'stopped');
      const label = p.resumedFrom > 0 ? `${p.file ?? path.basename(p.dest)} (resumed)` : p.file ?? path.basename(p.dest);
      current = { key, progress: new Progress({ label, unit: 'bytes', total: p.total, stream }) };
    }
    current.progress.update(p.received, p.total);
    if (p.total !== undefined && p.received >= p.total) current.progress.finish();
  };
}
