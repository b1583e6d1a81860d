/**
 * Work that has to end before `process.exit()`. An onnxruntime session still loaded, or still
 * inside `session.run`, in a worker thread aborts the process at exit: onnxruntime's static
 * destructors run under it ("terminate called after throwing an instance of 'Napi::Error'",
 * SIGABRT, exit 134). runCommand (src/cli/options.ts) awaits these hooks before it exits, so an
 * interrupted `run` whose grace period ran out during a batch still exits 1 with its E_SHUTDOWN
 * message, once that batch is done. A second signal still ends the process at once (SIGKILL).
 */
const hooks = new Set<() => Promise<void>>();

/** Registers `hook`; returns the function that removes it. */
export function beforeExit(hook: () => Promise<void>): () => void {
  hooks.add(hook);
  return () => { hooks.delete(hook); };
}

/** Runs every hook; callers skip the await when there is none (see hasBeforeExitHooks). */
export async function runBeforeExitHooks(): Promise<void> {
  await Promise.allSettled([...hooks].map((h) => h()));
}

export function hasBeforeExitHooks(): boolean {
  return hooks.size > 0;
}
