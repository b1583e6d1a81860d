#!/usr/bin/env node
/**
 * The `roberta-batch` command. npm runs no install scripts in this project (.npmrc:
 * ignore-scripts, so that onnxruntime-node never downloads CUDA binaries on a CPU host), so
 * `prepare` does not build dist/ during `npm ci`: this launcher builds it (scripts/build.mjs,
 * esbuild, under a second) on first use, and again when a source (src/, the build script,
 * tsconfig, package.json) is newer than the build. Then it runs dist/cli/main.js in this same
 * process.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const main = path.join(root, 'dist/cli/main.js');
// A stale build would run old code; the check (scripts/build.mjs) costs about a millisecond.
const buildScript = path.join(root, 'scripts/build.mjs');
if (existsSync(buildScript)) {
  const { build, isStale } = await import(pathToFileURL(buildScript).href);
  if (isStale()) {
    process.stderr.write(existsSync(main) ? 'roberta-batch: sources changed, rebuilding dist/ ...\n' : 'roberta-batch: first run, building dist/ (about a second, once) ...\n');
    try {
      await build();
    } catch (err) {
      process.stderr.write(`E_CONFIG: dist/ is missing or older than src/ and could not be built (${err.message}) — run \`npm ci\` (with dev dependencies), then \`npm run build\`\n`);
      process.exit(2);
    }
  }
}
await import(pathToFileURL(main).href);
