/**
 * Documents → jobs: one job per document, or packs of `docsPerJob` documents whose job id is
 * derived from the packed ids (`pack-<sha1>`, job-id.ts). A pack is closed early rather than
 * grown over the job limit (`maxJobBytes`, measured as the JSON BullMQ stores).
 */
import type { DocJobData, DocumentInput } from '../shared/types.js';
import { jobIdForDocument, jobIdForPack } from '../shared/job-id.js';

export interface PendingJob {
  jobId: string;
  data: DocJobData;
  /** Input line of the (first) document. */
  lineNo: number;
}

export const utf8Bytes = (s: string): number => Buffer.byteLength(s, 'utf8');

export class Packer {
  /** Bytes of a job with no document: what every job costs over its documents' JSON. */
  readonly overhead: number;
  readonly #runId: string;
  readonly #docsPerJob: number;
  readonly #maxJobBytes: number;
  readonly #keepDoneDays: number | undefined;
  #pack: { docs: DocumentInput[]; bytes: number; firstLine: number } | undefined;

  constructor(opts: { runId: string; docsPerJob: number; maxJobBytes: number; keepDoneDays: number | undefined }) {
    this.#runId = opts.runId;
    this.#docsPerJob = opts.docsPerJob;
    this.#maxJobBytes = opts.maxJobBytes;
    this.#keepDoneDays = opts.keepDoneDays;
    this.overhead = utf8Bytes(JSON.stringify({ v: 1, runId: opts.runId, docs: [], keepDoneDays: opts.keepDoneDays } satisfies DocJobData));
  }

  /** Adds a document (`docBytes`: its JSON size); returns the jobs it completed, in order. */
  add(doc: DocumentInput, docBytes: number, lineNo: number): PendingJob[] {
    if (this.#docsPerJob === 1) return [{ jobId: jobIdForDocument(doc.id), data: this.#data([doc]), lineNo }];
    const closed: PendingJob[] = [];
    // Packs: `,` between documents; close the pack early rather than grow it over the limit.
    if (this.#pack && this.#pack.bytes + 1 + docBytes > this.#maxJobBytes) closed.push(this.close()!);
    if (!this.#pack) this.#pack = { docs: [doc], bytes: this.overhead + docBytes, firstLine: lineNo };
    else {
      this.#pack.docs.push(doc);
      this.#pack.bytes += 1 + docBytes;
    }
    if (this.#pack.docs.length >= this.#docsPerJob) closed.push(this.close()!);
    return closed;
  }

  /** The pack being filled, as a job (undefined when empty). */
  close(): PendingJob | undefined {
    const pack = this.#pack;
    if (!pack) return undefined;
    this.#pack = undefined;
    return { jobId: jobIdForPack(pack.docs.map((d) => d.id)), data: this.#data(pack.docs), lineNo: pack.firstLine };
  }

  #data(docs: DocumentInput[]): DocJobData {
    return { v: 1, runId: this.#runId, docs, keepDoneDays: this.#keepDoneDays };
  }
}
