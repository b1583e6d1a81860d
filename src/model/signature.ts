/**
 * Which RoBERTa signature an ONNX model has: the input names and integer types the engine
 * feeds, and which output holds logits (classification) or token states (base). Works on the
 * plain metadata the engine reads from its session, so it needs no onnxruntime here.
 */
import { E } from '../shared/errors.js';

export type OutputKind = 'classification' | 'base';

/** One input or output as onnxruntime describes it ('non-tensor' for maps and sequences). */
export interface TensorMeta {
  name: string;
  type: string;
  shape: (number | string)[];
}

export interface DetectedSignature {
  /** `zoo`: input_ids only (padding changes results: batch equal lengths only). `hf`: with attention_mask. */
  kind: 'zoo' | 'hf';
  idsInput: string;
  idsType: 'int64' | 'int32';
  maskInput?: string;
  maskType?: 'int64' | 'int32';
  tokenTypeInput?: string;
  outputKind: OutputKind;
  logitsOutput?: string;
  numLabels?: number;
  lastHiddenOutput?: string;
  pooledOutput?: string;
  hiddenSize?: number;
  inputs: TensorMeta[];
  outputs: TensorMeta[];
}

/**
 * Reads which RoBERTa signature a model has from its session's inputs and outputs. Inputs:
 * `input_ids` (or the only integer input), optional `attention_mask`, optional
 * `token_type_ids`. Outputs: a rank-2 output with a small last dimension is classification
 * logits; a rank-3 output is the last hidden state.
 */
export function detectSignature(inputs: TensorMeta[], outputs: TensorMeta[], file: string, override?: OutputKind): DetectedSignature {
  const sigError = (msg: string) =>
    E.MODEL_SIGNATURE(`${file}: ${msg}; inputs are ${inputs.map((i) => `${i.name}:${i.type}[${i.shape.join(',')}]`).join(', ')}`, {
      hint: 'roberta-batch runs RoBERTa-family models with input_ids [batch, seq] (and optionally attention_mask); see docs/MODELS.md',
      context: { file },
    });
  const intTypes = new Set(['int64', 'int32']);
  const ids = inputs.find((i) => i.name === 'input_ids') ?? (inputs.length === 1 && intTypes.has(inputs[0].type) ? inputs[0] : undefined);
  if (!ids) throw sigError('no input_ids input');
  if (!intTypes.has(ids.type)) throw sigError(`input ${ids.name} has type ${ids.type}, expected int64 or int32`);
  if (ids.shape.length !== 2) throw sigError(`input ${ids.name} has rank ${ids.shape.length}, expected [batch, seq]`);
  const mask = inputs.find((i) => i.name === 'attention_mask');
  const tokenTypes = inputs.find((i) => i.name === 'token_type_ids');
  const unknown = inputs.filter((i) => i !== ids && i !== mask && i !== tokenTypes);
  if (unknown.length) throw sigError(`unexpected inputs ${unknown.map((u) => u.name).join(', ')}`);
  if (mask && !intTypes.has(mask.type)) throw sigError(`attention_mask has type ${mask.type}`);

  const floats = outputs.filter((o) => o.type === 'float32');
  const rank3 = floats.find((o) => o.shape.length === 3);
  const rank2 = floats.filter((o) => o.shape.length === 2);
  const logits = rank2.find((o) => o.name === 'logits') ?? (rank3 ? undefined : rank2[0]);
  let outputKind: OutputKind | undefined = override;
  if (!outputKind) outputKind = rank3 ? 'base' : logits ? 'classification' : undefined;
  const out: DetectedSignature = {
    kind: mask ? 'hf' : 'zoo',
    idsInput: ids.name,
    idsType: ids.type as 'int64' | 'int32',
    maskInput: mask?.name,
    maskType: mask?.type as 'int64' | 'int32' | undefined,
    tokenTypeInput: tokenTypes?.name,
    outputKind: outputKind ?? 'classification',
    inputs,
    outputs,
  };
  if (!outputKind) {
    throw E.MODEL_TASK_MISMATCH(`${file}: no float32 output of shape [batch, labels] or [batch, seq, hidden]; outputs are ${outputs.map((o) => `${o.name}:${o.type}[${o.shape.join(',')}]`).join(', ')}`, {
      hint: 'use a sequence-classification model for --task sentiment and a base model for --task embed',
      context: { file },
    });
  }
  if (outputKind === 'classification') {
    const l = logits ?? rank2[0];
    if (!l) throw E.MODEL_TASK_MISMATCH(`${file}: no [batch, labels] output for classification`, { context: { file } });
    out.logitsOutput = l.name;
    out.numLabels = typeof l.shape[1] === 'number' ? l.shape[1] : undefined;
  } else {
    if (!rank3) throw E.MODEL_TASK_MISMATCH(`${file}: no [batch, seq, hidden] output for embeddings`, { context: { file } });
    out.lastHiddenOutput = rank3.name;
    out.hiddenSize = typeof rank3.shape[2] === 'number' ? rank3.shape[2] : undefined;
    out.pooledOutput = rank2.find((o) => o !== rank3)?.name;
  }
  return out;
}
