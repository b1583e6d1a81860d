#!/usr/bin/env node
/**
 * The `roberta-batch` command. npm runs no install scripts in this project (.npmrc:
 * ignore-scripts, so that onnxruntime-node never downloads CUDA binaries on a CPU host), so
 * `prepare` does not build dist/ during `npm ci`: this launcher builds it (scripts/build.mjs,
 * esbuild, under a second) on first use, and again when a file under src/ is newer than the
 * build. Then it runs dist/cli/main.js in this same process.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const main = path.join(root, 'dist/cli/main.js');
/** Written by scripts/build.mjs once dist/ is complete. */
const stamp = path.join(root, 'dist/.build-stamp');
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
// Without src/ (a packed install), dist/ is used as it is.
const stale = !existsSync(main) || (existsSync(src) && (!existsSync(stamp) || newestMtime(src) > statSync(stamp).mtimeMs));
if (stale) {
  process.stderr.write(existsSync(main) ? 'roberta-batch: src/ changed, rebuilding dist/ ...\n' : 'roberta-batch: first run, building dist/ (about a second, once) ...\n');
  try {
    const { build } = await import(pathToFileURL(path.join(root, 'scripts/build.mjs')).href);
    await build();
  } catch (err) {
    process.stderr.write(`E_CONFIG: dist/ is missing or older than src/ and could not be built (${err.message}) — run \`npm ci\` (with dev dependencies), then \`npm run build\`\n`);
    process.exit(2);
  }
}
await import(pathToFileURL(main).href);
