#!/usr/bin/env node
/**
 * Builds dist/ from src/: every TypeScript file is transpiled on its own by esbuild, with no
 * bundling, so dist/ keeps src/'s layout (one .js and one .js.map per .ts). That takes well under
 * a second, where tsc's emit took 11 to 19 s on 2 cores, and it is the only build: the launcher
 * (bin/roberta-batch.mjs), the test setup, `npm run build` and the Dockerfiles all run this.
 *
 * Types are checked by tsc, not here: `npm run typecheck` (CI runs it), and `npm run build`
 * runs this script with --check, which then runs `tsc --noEmit` and fails on a type error.
 * tsconfig.json sets isolatedModules, so tsc refuses anything that a file-by-file transpiler
 * would compile differently.
 *
 *   node scripts/build.mjs [--check]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SRC = path.join(root, 'src');
const DIST = path.join(root, 'dist');
/** Written last: its modification time is when dist/ was last built completely. */
export const BUILD_STAMP = path.join(DIST, '.build-stamp');
/** What the build reads: dist/ is stale when one of them is newer than the stamp. */
const INPUTS = ['src', 'scripts/build.mjs', 'tsconfig.json', 'tsconfig.build.json', 'package.json'].map((p) => path.join(root, p));

function walk(dir, keep) {
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...walk(p, keep));
    else if (keep(e.name)) out.push(p);
  }
  return out;
}

function newestMtime(p) {
  const st = statSync(p);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = st.mtimeMs;
  for (const e of readdirSync(p)) newest = Math.max(newest, newestMtime(path.join(p, e)));
  return newest;
}

/**
 * True when dist/ is missing or older than any input. Without src/ (a packed install) an
 * existing dist/ is used as it is. Walking ~130 files costs about a millisecond.
 */
export function isStale() {
  if (!existsSync(path.join(DIST, 'cli/main.js'))) return true;
  if (!existsSync(SRC)) return false;
  if (!existsSync(BUILD_STAMP)) return true;
  const built = statSync(BUILD_STAMP).mtimeMs;
  return INPUTS.some((p) => existsSync(p) && newestMtime(p) > built);
}

/**
 * Transpiles src/**\/*.ts into dist/ and removes outputs whose source is gone. Files are
 * rewritten in place (never a removed dist/), so a process already running from dist/ keeps
 * finding its modules. Resolves with the number of files built.
 */
export async function build() {
  const require = createRequire(import.meta.url);
  let esbuild;
  try {
    esbuild = await import(pathToFileURL(require.resolve('esbuild')).href);
  } catch {
    throw new Error('esbuild is not installed: run `npm ci` (with dev dependencies)');
  }
  const sources = walk(SRC, (n) => n.endsWith('.ts') && !n.endsWith('.d.ts'));
  await esbuild.build({
    entryPoints: sources,
    outdir: DIST,
    outbase: SRC,
    bundle: false,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    sourcemap: true,
    tsconfig: path.join(root, 'tsconfig.build.json'),
    logLevel: 'warning',
  });
  const expected = new Set(sources.flatMap((s) => {
    const js = path.join(DIST, path.relative(SRC, s)).replace(/\.ts$/, '.js');
    return [js, `${js}.map`];
  }));
  if (existsSync(DIST)) {
    for (const f of walk(DIST, (n) => n.endsWith('.js') || n.endsWith('.js.map'))) if (!expected.has(f)) rmSync(f);
  }
  mkdirSync(DIST, { recursive: true });
  writeFileSync(BUILD_STAMP, `${new Date().toISOString()}\n`);
  return sources.length;
}

/** `tsc --noEmit`: the exit status of the type check (0 when the types hold). */
export function typecheck() {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  return spawnSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json'), '--noEmit'], { cwd: root, stdio: 'inherit' }).status ?? 1;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const t0 = performance.now();
  const n = await build();
  process.stderr.write(`built dist/ from ${n} files in ${((performance.now() - t0) / 1000).toFixed(2)} s\n`);
  if (process.argv.includes('--check')) process.exitCode = typecheck();
}
