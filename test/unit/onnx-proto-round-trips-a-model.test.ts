import { describe, expect, it } from 'vitest';
import {
  AttributeType, DataType, decodeModel, encodeModel, encodeModelToBuffer, type ModelProto,
} from '../../src/model/onnx-proto.js';

function sampleModel(): ModelProto {
  const weights = new Float32Array([1.5, -2.25, 3, 1e-8, -0, 65504]);
  return {
    irVersion: 6,
    opsetImport: [{ domain: '', version: 11 }, { domain: 'com.microsoft', version: 1 }],
    producerName: 'test', producerVersion: '1.2', domain: 'ai.test', modelVersion: 3, docString: 'doc ✓',
    metadataProps: [{ key: 'a', value: '1' }, { key: 'ünï', value: '' }],
    graph: {
      name: 'g',
      node: [
        {
          name: 'n0', opType: 'Reshape', domain: '', input: ['x', 'shape'], output: ['y'],
          attribute: [
            { name: 'i', type: AttributeType.INT, i: -1 },
            { name: 'zero', type: AttributeType.INT, i: 0 },
            { name: 'big', type: AttributeType.INT, i: 2 ** 40 + 3 },
            { name: 'f', type: AttributeType.FLOAT, f: 0.5 },
            { name: 'ints', type: AttributeType.INTS, ints: [0, -1, 2, 300] },
            { name: 'floats', type: AttributeType.FLOATS, floats: [0.25, -8] },
            { name: 's', type: AttributeType.STRING, s: new TextEncoder().encode('erf') },
            { name: 't', type: AttributeType.TENSOR, t: { name: '', dims: [1], dataType: DataType.INT64, int64Data: [-7] } },
          ],
        },
        { name: '', opType: 'Attention', domain: 'com.microsoft', input: ['y', ''], output: ['z'], attribute: [] },
      ],
      initializer: [
        { name: 'w', dims: [2, 3], dataType: DataType.FLOAT, rawData: new Uint8Array(weights.buffer) },
        { name: 'shape', dims: [3], dataType: DataType.INT64, int64Data: [0, 0, -1] },
        { name: 'scalar', dims: [], dataType: DataType.FLOAT, floatData: new Float32Array([2]) },
      ],
      input: [{ name: 'x', type: { tensorType: { elemType: DataType.INT64, shape: [{ dimParam: 'batch_size' }, { dimValue: 0 }, { dimValue: 768 }] } } }],
      output: [{ name: 'z', type: { tensorType: { elemType: DataType.FLOAT, shape: [] } } }],
      valueInfo: [{ name: 'y' }],
    },
  };
}

/** Decoded bytes are views; compare them as plain arrays. */
function plain(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value, (_k, v: unknown) => (ArrayBuffer.isView(v) ? Array.from(v as Uint8Array) : v)));
}

describe('onnx-proto', () => {
  it('decodes what it encodes, field for field', () => {
    const model = sampleModel();
    const decoded = decodeModel(encodeModelToBuffer(model));
    expect(plain(decoded)).toEqual(plain(model));
  });

  it('announces the exact byte length before producing lazy tensor bytes', () => {
    const model = sampleModel();
    const bytes = new Uint8Array([9, 8, 7, 6]);
    let produced = 0;
    model.graph!.initializer[0] = {
      name: 'lazy', dims: [1], dataType: DataType.FLOAT,
      rawData: { byteLength: 4, produce: () => { produced++; return bytes; } },
    };
    const { byteLength } = encodeModel(model);
    expect(produced).toBe(0);
    const buf = encodeModelToBuffer(model);
    expect(buf.byteLength).toBe(byteLength);
    expect(Array.from(decodeModel(buf).graph!.initializer[0].rawData as Uint8Array)).toEqual([9, 8, 7, 6]);
  });
});
