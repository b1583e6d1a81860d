/**
 * Trains the small byte-level BPE vocabulary the tests use instead of roberta-base's 50265
 * tokens, with the `tokenizers` trainer, and writes it in RoBERTa's layout: vocab.json,
 * merges.txt and tokenizer.json (the committed copy lives in models/sample-tokenizer/).
 *
 * Regenerate: `npx vite-node test/helpers/train-tokenizer-cli.ts models/sample-tokenizer` (a test
 * fixture, not part of the product: it lives beside the tests and is not compiled into dist/)
 *
 * The Node binding (0.23.2) has no trainer constructors: `Tokenizer.train(files)` always uses
 * the model's default BpeTrainer (vocab_size 30000, min_frequency 0, no special tokens, no
 * initial alphabet; bindings/node/src/tokenizer.rs `train` calls `get_trainer()`). On a few KB
 * of text it merges until every word is one token (7.1 KB of sample reviews: 1489 merges).
 * BPE merges are learnt most-frequent first and each merge only uses earlier ones, so a
 * prefix of the merge list is itself a valid BPE model; we keep the prefix that fills
 * `vocabSize` and lay the vocabulary out as RoBERTa does: specials 0..3, the 256 byte
 * symbols, the merged tokens, `<mask>` last.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BPE, Tokenizer, byteLevelAlphabet, byteLevelPreTokenizer } from 'tokenizers';
import { ROBERTA_SPECIAL_TOKENS, RobertaTokenizer } from '../../src/model/tokenizer.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export const DEFAULT_TRAINING_CORPUS = path.join(repoRoot, 'models/sample-tokenizer/sample-reviews.txt');

export interface TrainTestTokenizerOptions {
  /** Plain-text files, one document a line. Default: the committed sample reviews. */
  corpusFiles?: string[];
  /**
   * Total ids including the 4 leading specials, the 256 byte symbols and `<mask>`.
   * 1024 keeps the test model's embedding table small (1024 x hidden) and, on the sample
   * reviews, covers the 763 most frequent merges (of 1489 learnt).
   */
  vocabSize?: number;
}

export interface TrainedTokenizer {
  vocabSize: number;
  merges: number;
  vocabJson: string;
  mergesTxt: string;
  tokenizerJson: string;
}

/** Leading specials in RoBERTa's order (ids 0..3); `<mask>` takes the last id. */
const LEADING_SPECIALS = [
  ROBERTA_SPECIAL_TOKENS.bos,
  ROBERTA_SPECIAL_TOKENS.pad,
  ROBERTA_SPECIAL_TOKENS.eos,
  ROBERTA_SPECIAL_TOKENS.unk,
];
const BYTE_SYMBOLS = 256;
const MIN_VOCAB = LEADING_SPECIALS.length + BYTE_SYMBOLS + 1;

/**
 * GPT-2's byte -> printable character table (byte-level BPE never sees raw bytes): bytes that
 * are printable Latin-1 map to themselves, the other 68 to U+0100 upwards, in byte order.
 */
export function byteSymbols(): string[] {
  const printable = (b: number): boolean =>
    (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const out: string[] = [];
  let shifted = 0;
  for (let b = 0; b < BYTE_SYMBOLS; b++) {
    out.push(String.fromCodePoint(printable(b) ? b : BYTE_SYMBOLS + shifted++));
  }
  return out;
}

/** tokenizer.json stores merges as "a b" (before 0.20) or ["a", "b"] (since). */
function parseMerges(raw: unknown): Array<[string, string]> {
  if (!Array.isArray(raw)) throw new Error('trained tokenizer.json has no model.merges list');
  return raw.map((m: unknown): [string, string] => {
    if (Array.isArray(m) && m.length === 2) return [String(m[0]), String(m[1])];
    if (typeof m === 'string') {
      const cut = m.indexOf(' ');
      return [m.slice(0, cut), m.slice(cut + 1)];
    }
    throw new Error(`unexpected merge entry ${JSON.stringify(m)}`);
  });
}

async function learnMerges(corpusFiles: string[], scratch: string): Promise<Array<[string, string]>> {
  const trainer = new Tokenizer(BPE.empty());
  // Same pre-tokenization as RoBERTa, so merges never cross word boundaries the same way.
  trainer.setPreTokenizer(byteLevelPreTokenizer(false, true));
  trainer.train(corpusFiles);
  const saved = path.join(scratch, 'trained.json');
  trainer.save(saved);
  const json = JSON.parse(await readFile(saved, 'utf8')) as { model?: { merges?: unknown } };
  return parseMerges(json.model?.merges);
}

export async function trainTestTokenizer(outDir: string, opts: TrainTestTokenizerOptions = {}): Promise<TrainedTokenizer> {
  const corpusFiles = opts.corpusFiles ?? [DEFAULT_TRAINING_CORPUS];
  const vocabSize = opts.vocabSize ?? 1024;
  if (!Number.isInteger(vocabSize) || vocabSize < MIN_VOCAB) {
    throw new RangeError(`vocabSize ${vocabSize}: expected an integer >= ${MIN_VOCAB} (4 specials, 256 bytes, <mask>)`);
  }

  const symbols = byteSymbols();
  // Guards the table above against the binding's own alphabet.
  const alphabet = new Set(byteLevelAlphabet());
  if (alphabet.size !== BYTE_SYMBOLS || !symbols.every((s) => alphabet.has(s))) {
    throw new Error('byte symbol table disagrees with tokenizers.byteLevelAlphabet()');
  }

  const scratch = await mkdtemp(path.join(os.tmpdir(), 'train-tokenizer-'));
  try {
    const learnt = await learnMerges(corpusFiles, scratch);
    const vocab = new Map<string, number>();
    for (const token of [...LEADING_SPECIALS, ...symbols]) vocab.set(token, vocab.size);
    const kept: Array<[string, string]> = [];
    for (const [left, right] of learnt) {
      const merged = left + right;
      // A token can be reached by two merges ("ab"+"c", "a"+"bc"); it gets one id.
      if (!vocab.has(merged)) {
        if (vocab.size === vocabSize - 1) break;
        vocab.set(merged, vocab.size);
      }
      kept.push([left, right]);
    }
    vocab.set(ROBERTA_SPECIAL_TOKENS.mask, vocab.size);

    await mkdir(outDir, { recursive: true });
    const vocabJson = path.join(outDir, 'vocab.json');
    const mergesTxt = path.join(outDir, 'merges.txt');
    const tokenizerJson = path.join(outDir, 'tokenizer.json');
    await writeFile(vocabJson, `${JSON.stringify(Object.fromEntries(vocab))}\n`);
    await writeFile(mergesTxt, `#version: 0.2\n${kept.map(([l, r]) => `${l} ${r}`).join('\n')}\n`);
    // tokenizer.json is written by the same builder the worker uses for vocab + merges.
    const tokenizer = await RobertaTokenizer.fromVocabMerges(vocabJson, mergesTxt, { maxLength: 512 });
    tokenizer.saveTokenizerJson(tokenizerJson);
    return { vocabSize: vocab.size, merges: kept.length, vocabJson, mergesTxt, tokenizerJson };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
