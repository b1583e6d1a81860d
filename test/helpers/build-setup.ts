/**
 * Global setup of the projects whose tests spawn dist/ (the CLI, worker threads, scripts that
 * import compiled modules): builds dist/ with tsc, skipped when dist/ is newer than every
 * source file. A no-op incremental tsc still costs ~3.4 s on 2 cores (it re-reads and hashes
 * every file), a full one ~11 s; comparing modification times costs a few ms.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync, utimesSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BUILD_INFO = path.join(root, 'dist/.tsbuildinfo');
const INPUTS = ['src', 'tsconfig.json', 'tsconfig.build.json', 'package.json'];

function newestMtime(p: string): number {
  const st = statSync(p);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = st.mtimeMs;
  for (const e of readdirSync(p)) newest = Math.max(newest, newestMtime(path.join(p, e)));
  return newest;
}

function builtAt(): number {
  try {
    return statSync(BUILD_INFO).mtimeMs;
  } catch {
    return -1;
  }
}

export default function setup(): void {
  const inputs = Math.max(...INPUTS.map((p) => newestMtime(path.join(root, p))));
  if (builtAt() > inputs) return;
  // Type errors are reported by `npm run typecheck`; tsc still emits, so the suite can run.
  try {
    execFileSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], {
      cwd: root, stdio: 'inherit',
    });
  } catch {
    console.warn('build-setup: tsc reported type errors (see above); dist/ was emitted anyway');
  }
  // A no-op incremental build leaves the file as it was: mark dist/ current for the next run.
  const now = new Date();
  utimesSync(BUILD_INFO, now, now);
}
