/**
 * File order when vitest has no timings yet (a fresh clone, CI): test/chaos first, then the
 * rest in vitest's own order (larger files first). The chaos tests are short files that run
 * longest, mostly waiting on the faults they cause (locks expiring, Redis restarting); sorted
 * by size they started last and one of them (`chaos --quick`, ~20 s) ran alone at the end of
 * the suite. With timings cached (later local runs), vitest's longest-first order is kept.
 */
import path from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

export default class FaultTestsFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const timed = (f: TestSpecification) => this.ctx.cache.getFileTestResults(`${f.project.name}:${path.relative(this.ctx.config.root, f.moduleId)}`);
    if (sorted.every((f) => timed(f))) return sorted;
    const chaos = (f: TestSpecification) => f.moduleId.includes(`${path.sep}test${path.sep}chaos${path.sep}`);
    return [...sorted.filter(chaos), ...sorted.filter((f) => !chaos(f))];
  }
}
