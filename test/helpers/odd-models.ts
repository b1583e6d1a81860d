/**
 * Valid ONNX files that are not RoBERTa models, to test that start-up refuses them.
 */
import { writeFileSync } from 'node:fs';
import { encodeModelToBuffer, type ModelProto, type ValueInfoProto } from '../../src/model/onnx-proto.js';

const FLOAT = 1;
const INT64 = 7;

function vi(name: string, elemType: number, dims: (number | string)[]): ValueInfoProto {
  return { name, type: { tensorType: { elemType, shape: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } };
}

function identityModel(input: ValueInfoProto, output: ValueInfoProto): ModelProto {
  return {
    irVersion: 6, opsetImport: [{ domain: '', version: 11 }], producerName: 'roberta-batch-tests', producerVersion: '1',
    domain: '', modelVersion: 1, docString: '', metadataProps: [],
    graph: {
      name: 'identity', initializer: [], valueInfo: [],
      node: [{ name: 'id', opType: 'Identity', domain: '', input: [input.name], output: [output.name], attribute: [] }],
      input: [input], output: [output],
    },
  };
}

/** One float input `pixels` [batch, 3]: not a token-id signature. */
export function writeFloatInputModel(file: string): void {
  writeFileSync(file, encodeModelToBuffer(identityModel(vi('pixels', FLOAT, ['batch', 3]), vi('out', FLOAT, ['batch', 3]))));
}

/** input_ids int64 [batch, seq] in, the same int64 tensor out: no float output fits a task. */
export function writeIntOutputModel(file: string): void {
  writeFileSync(file, encodeModelToBuffer(identityModel(vi('input_ids', INT64, ['batch', 'seq']), vi('ids_out', INT64, ['batch', 'seq']))));
}

/**
 * A well-formed ONNX file with a RoBERTa signature whose one node is an operator no runtime
 * has (NoSuchOp): it passes every file check and only onnxruntime refuses it.
 */
export function writeUnknownOperatorModel(file: string): void {
  const m = identityModel(vi('input_ids', INT64, ['batch', 'seq']), vi('logits', FLOAT, ['batch', 2]));
  m.graph!.node[0].opType = 'NoSuchOp';
  writeFileSync(file, encodeModelToBuffer(m));
}
