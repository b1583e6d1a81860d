#!/usr/bin/env node
/**
 * The `roberta-batch` command. npm runs no install scripts in this project (.npmrc:
 * ignore-scripts, so that onnxruntime-node never downloads CUDA binaries on a CPU host), so
 * `prepare` does not build dist/ during `npm ci`: this launcher builds it with the project's
 * TypeScript on first use, and again when a file under src/ is newer than the build. Then it
 * runs dist/cli/main.js in this same process.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const main = path.join(root, 'dist/cli/main.js');
const src = path.join(root, 'src');

function newestMtime(dir) {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

// Walking ~100 source files costs about a millisecond; a stale build would run old code.
const stale = !existsSync(main) || (existsSync(src) && newestMtime(src) > statSync(main).mtimeMs);
if (stale) {
  let tsc;
  try {
    tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  } catch {
    process.stderr.write('E_CONFIG: dist/ is missing or older than src/, and TypeScript is not installed to build it — run `npm ci` (with dev dependencies), then `npm run build`\n');
    process.exit(2);
  }
  process.stderr.write(existsSync(main) ? 'roberta-batch: src/ changed, rebuilding dist/ ...\n' : 'roberta-batch: first run, building dist/ (a few seconds, once) ...\n');
  const r = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json')], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
  // tsc emits JavaScript even when it reports type errors; only a missing build is fatal.
  if (!existsSync(main)) process.exit(r.status || 1);
}
await import(pathToFileURL(main).href);
