/**
 * The jobs collected for one addBulk (`chunkSize`, default 1000), and the ids seen in this
 * input with their first line, so a repeat is counted and listed with both lines rather than
 * sent twice. Ids are remembered across chunks up to a bound (100,000 ids, ~10 MB); beyond it
 * the job's timestamp still catches a repeat (reported as "an earlier line").
 */
import type { PendingJob } from './packer.js';

export class Chunk {
  readonly #size: number;
  readonly #remembered: number;
  #jobs: PendingJob[] = [];
  readonly #firstLines = new Map<string, number>();

  constructor(size: number, rememberedIds: number) {
    this.#size = size;
    this.#remembered = rememberedIds;
  }

  /** Adds the job; a repeat of an id seen earlier is not added and its first line is returned. */
  add(job: PendingJob): number | undefined {
    const firstLine = this.#firstLines.get(job.jobId);
    if (firstLine !== undefined) return firstLine;
    this.#firstLines.set(job.jobId, job.lineNo);
    this.#jobs.push(job);
    if (this.full && this.#firstLines.size > this.#remembered) this.#firstLines.clear();
    return undefined;
  }

  get full(): boolean {
    return this.#jobs.length >= this.#size;
  }

  /** The jobs collected so far; the chunk starts empty again. */
  take(): PendingJob[] {
    const jobs = this.#jobs;
    this.#jobs = [];
    return jobs;
  }
}
