/**
 * Every check of a model file before anything parses it: it exists, is a file, is not empty,
 * is not a Git LFS pointer and starts like an ONNX ModelProto. The worker, `models inspect`
 * and the ONNX summary (summary.ts) all go through here, so a wrong file gives the same code
 * and message whoever reads it first.
 */
import { open, stat } from 'node:fs/promises';
import path from 'node:path';
import { E } from '../shared/errors.js';

/** The first line of a Git LFS pointer file (git-lfs spec v1). */
export const LFS_POINTER_PREFIX = 'version https://git-lfs.github.com/spec/';

/** Bytes read for the checks: an LFS pointer is ~130 bytes, the ONNX header a dozen. */
const HEAD_BYTES = 256;

/** Resolves a model argument: a .onnx file, or a folder holding model.onnx. */
export async function resolveModelFile(modelPath: string): Promise<string> {
  const st = await stat(modelPath).catch(() => undefined);
  if (!st) throw notFound(modelPath);
  if (st.isDirectory()) {
    const inner = path.join(modelPath, 'model.onnx');
    if (!(await stat(inner).catch(() => undefined))) {
      throw E.MODEL_NOT_FOUND(`folder ${modelPath} holds no model.onnx`, {
        hint: 'point --model at the .onnx file, or fetch a model bundle with `roberta-batch models fetch <name>`',
        context: { file: inner },
      });
    }
    return inner;
  }
  return modelPath;
}

/** Fails fast, with a fix, on the files users most often point at by mistake; returns the size. */
export async function checkModelFile(file: string): Promise<number> {
  let st;
  try {
    st = await stat(file);
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') throw notFound(file, cause);
    throw E.MODEL_NOT_FOUND(`model file ${file} cannot be read: ${(cause as Error).message}`, { cause, context: { file } });
  }
  if (!st.isFile()) {
    throw E.MODEL_NOT_FOUND(`model file ${file} is not a file (a directory?)`, { hint: 'pass the path of the .onnx file', context: { file } });
  }
  if (st.size === 0) throw E.MODEL_EMPTY(`model file ${file} is empty (0 bytes)`, { context: { file } });
  const fh = await open(file, 'r');
  const head = Buffer.alloc(Math.min(HEAD_BYTES, st.size));
  try {
    await fh.read(head, 0, head.length, 0);
  } finally {
    await fh.close();
  }
  if (head.toString('latin1').startsWith(LFS_POINTER_PREFIX)) {
    throw E.MODEL_LFS_POINTER(`model file ${file} is a Git LFS pointer (${st.size} bytes), not the model`, { context: { file } });
  }
  const bad = onnxHeaderProblem(head);
  if (bad) throw notOnnx(file, bad);
  return st.size;
}

/** E_MODEL_NOT_ONNX for a file whose bytes are not an ONNX model (`why` says what was found). */
export function notOnnx(file: string, why: string, cause?: unknown) {
  return E.MODEL_NOT_ONNX(`model file ${file} is not an ONNX model: ${why}`, { cause, context: { file } });
}

function notFound(file: string, cause?: unknown) {
  return E.MODEL_NOT_FOUND(`model file ${file} not found`, { cause, context: { file } });
}

/**
 * An ONNX ModelProto starts with field 1 (ir_version, a varint: tag byte 0x08) holding a small
 * version (3 to 10 for every onnx release so far), followed by another field with a protobuf
 * wire type (0, 1, 2 or 5). Text, HTML, JSON and random bytes fail one of the three; a file that
 * passes and still cannot be loaded is onnxruntime's to judge (E_MODEL_LOAD).
 */
function onnxHeaderProblem(head: Buffer): string | undefined {
  if (head[0] !== 0x08) return `first byte 0x${head[0].toString(16).padStart(2, '0')}, not the ir_version field`;
  let pos = 1;
  let version = 0;
  for (let shift = 0; ; shift += 7) {
    if (pos >= head.length || shift > 28) return 'ir_version is not a valid varint';
    const b = head[pos++];
    version += (b & 0x7f) * 2 ** shift;
    if (!(b & 0x80)) break;
  }
  if (version < 1 || version > 100) return `ir_version ${version} is not an ONNX IR version`;
  if (pos < head.length) {
    const wire = head[pos] & 0x07;
    if (wire !== 0 && wire !== 1 && wire !== 2 && wire !== 5) return `byte ${pos} (0x${head[pos].toString(16)}) is not a protobuf field`;
  }
  return undefined;
}
