/** Test helper: runs a reader over in-memory input, split into chunks to exercise chunk boundaries. */
import { readDocuments, type ReaderOptions, type ReadItem } from '../../src/producer/readers.js';

export async function readAll(
  input: string | Buffer,
  name: string,
  opts: ReaderOptions = {},
  chunkBytes = 7,
): Promise<{ items: ReadItem[]; skippedBlank: number; bytesRead: number }> {
  const buf = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  async function* chunks() {
    for (let i = 0; i < buf.length; i += chunkBytes) yield buf.subarray(i, i + chunkBytes);
  }
  const reader = readDocuments(chunks(), name, opts);
  const items: ReadItem[] = [];
  for await (const item of reader) items.push(item);
  return { items, skippedBlank: reader.stats.skippedBlank, bytesRead: reader.stats.bytesRead };
}

export const docs = (items: ReadItem[]) => items.filter((i) => i.doc).map((i) => ({ lineNo: i.lineNo, ...i.doc }));
export const errors = (items: ReadItem[]) => items.filter((i) => i.error).map((i) => ({ lineNo: i.lineNo, ...i.error }));
