/** Reads a Parquet file back with the library that wrote it (parquet-wasm → Arrow IPC → apache-arrow). */
import { readFileSync } from 'node:fs';
import { tableFromIPC, type Table } from 'apache-arrow';
import * as pw from 'parquet-wasm';

export function readParquetTable(file: string): Table {
  return tableFromIPC(pw.readParquet(new Uint8Array(readFileSync(file))).intoIPCStream());
}

export async function rowGroupSizes(file: string): Promise<number[]> {
  const f = await pw.ParquetFile.fromFile(new Blob([readFileSync(file)]));
  const md = f.metadata();
  return Array.from({ length: md.numRowGroups() }, (_, i) => md.rowGroup(i).numRows());
}
