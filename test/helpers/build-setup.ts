/**
 * Global setup of the projects whose tests spawn dist/ (the CLI, worker threads, scripts that
 * import compiled modules): builds dist/ with scripts/build.mjs, the project's only build
 * (esbuild, one file at a time, under a second; types are `npm run typecheck`'s job), skipped
 * when dist/ is newer than every input (the same check as the launcher's).
 */
import { build, isStale } from '../../scripts/build.mjs';

export default async function setup(): Promise<void> {
  if (isStale()) await build();
}
