/**
 * Global setup of the projects whose tests spawn dist/ (the CLI, worker threads, scripts that
 * import compiled modules): builds dist/ with scripts/build.mjs, the project's only build
 * (esbuild, one file at a time, under a second; types are `npm run typecheck`'s job), skipped
 * when dist/ is newer than every input.
 */
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUILD_STAMP, build } from '../../scripts/build.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const INPUTS = ['src', 'scripts/build.mjs', 'tsconfig.json', 'tsconfig.build.json', 'package.json'];

function newestMtime(p: string): number {
  const st = statSync(p);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = st.mtimeMs;
  for (const e of readdirSync(p)) newest = Math.max(newest, newestMtime(path.join(p, e)));
  return newest;
}

function builtAt(): number {
  try {
    return statSync(BUILD_STAMP).mtimeMs;
  } catch {
    return -1;
  }
}

export default async function setup(): Promise<void> {
  const inputs = Math.max(...INPUTS.map((p) => newestMtime(path.join(root, p))));
  if (builtAt() > inputs) return;
  await build();
}
