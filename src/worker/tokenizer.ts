/**
 * RoBERTa tokenization for the worker: Hugging Face `tokenizers` (Rust, via its Node binding)
 * set up exactly like transformers' `RobertaTokenizerFast` (its `RobertaConverter`):
 * byte-level BPE without prefix space, `<s> … </s>` wrapping, special tokens never split.
 *
 * Encoding runs on the libuv thread pool (the binding's `encodeBatch` is an AsyncTask), so a
 * large batch does not block the event loop; only the id copy into Int32Array runs on it.
 */
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import path from 'node:path';
import {
  AddedToken,
  BPE,
  Tokenizer,
  byteLevelPreTokenizer,
  robertaProcessing,
  type Decoder,
  type Encoding,
} from 'tokenizers';
import { RobertaBatchError } from '../shared/errors.js';

export interface RobertaTokenizerOptions {
  /**
   * The model's longest input INCLUDING `<s>` and `</s>`: 512 for roberta-base, whose
   * position table has 514 rows (RoBERTa's positions start at padding_idx + 1 = 2).
   */
  maxLength: number;
}

export interface Encoded {
  /** `<s>` + content + `</s>`, at most `maxLength` ids. */
  ids: Int32Array;
  /** Tokens of the whole text including the two specials, before truncation. */
  tokenCount: number;
  truncated: boolean;
}

/** RoBERTa's special tokens; the ids are those of roberta-base's vocab.json (`<mask>` is last). */
export const ROBERTA_SPECIAL_TOKENS = {
  bos: '<s>',
  pad: '<pad>',
  eos: '</s>',
  unk: '<unk>',
  mask: '<mask>',
} as const;

/** `<s>` and `</s>` around every sequence. */
const SPECIALS_PER_SEQUENCE = 2;

/**
 * The binding (0.23.2) exports no ByteLevel decoder factory (only bpe, byteFallback, ctc,
 * fuse, metaspace, replace, sequence, strip and wordPiece), but every component can be read
 * back from the serialized form tokenizer.json uses. Fields as transformers'
 * `decoders.ByteLevel()` saves them.
 */
function byteLevelDecoder(): Decoder {
  const carrier = Tokenizer.fromString(JSON.stringify({
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [],
    normalizer: null,
    pre_tokenizer: null,
    post_processor: null,
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: { type: 'BPE', vocab: {}, merges: [] },
  }));
  const decoder = carrier.getDecoder();
  if (!decoder) throw new Error('tokenizers returned no ByteLevel decoder from its own JSON');
  return decoder;
}

async function assertReadable(file: string, what: string): Promise<void> {
  try {
    await access(file, constants.R_OK);
  } catch (cause) {
    throw new RobertaBatchError('E_TOKENIZER', `${what} not found or not readable: ${file}`, {
      hint: 'point --tokenizer at a directory with tokenizer.json, or vocab.json and merges.txt',
      cause,
      context: { file },
    });
  }
}

function validateOptions(opts: RobertaTokenizerOptions): RobertaTokenizerOptions {
  const { maxLength } = opts;
  // 3 = the two specials plus at least one content token.
  if (!Number.isInteger(maxLength) || maxLength < SPECIALS_PER_SEQUENCE + 1) {
    throw new RobertaBatchError('E_CONFIG', `maxLength ${String(maxLength)}: expected an integer >= 3`, {
      hint: 'use the model maximum including <s> and </s> (512 for roberta-base)',
    });
  }
  return Object.freeze({ maxLength });
}

export class RobertaTokenizer {
  readonly #tokenizer: Tokenizer;
  readonly #maxLength: number;
  readonly #bosId: number;
  readonly #eosId: number;
  readonly #padId: number;
  readonly #vocabSize: number;

  private constructor(tokenizer: Tokenizer, opts: RobertaTokenizerOptions, source: string) {
    // A saved tokenizer.json may carry its own truncation/padding (HF writes them when they
    // were enabled at save time); truncation and padding are this class's and the batcher's.
    tokenizer.disableTruncation();
    tokenizer.disablePadding();
    this.#tokenizer = tokenizer;
    this.#maxLength = opts.maxLength;
    const idOf = (token: string): number => {
      const id = tokenizer.tokenToId(token);
      if (id === null || id === undefined) {
        throw new RobertaBatchError('E_TOKENIZER', `the tokenizer has no ${token} token (${source})`, {
          hint: 'use the tokenizer files shipped with the RoBERTa model',
          context: { file: source },
        });
      }
      return id;
    };
    this.#bosId = idOf(ROBERTA_SPECIAL_TOKENS.bos);
    this.#eosId = idOf(ROBERTA_SPECIAL_TOKENS.eos);
    this.#padId = idOf(ROBERTA_SPECIAL_TOKENS.pad);
    this.#vocabSize = tokenizer.getVocabSize(true);
  }

  /** Loads a Hugging Face `tokenizer.json` (the pipeline it describes is used as is). */
  static async fromTokenizerJson(file: string, opts: RobertaTokenizerOptions): Promise<RobertaTokenizer> {
    const options = validateOptions(opts);
    await assertReadable(file, 'tokenizer.json');
    let tokenizer: Tokenizer;
    try {
      tokenizer = Tokenizer.fromFile(file);
    } catch (cause) {
      throw new RobertaBatchError('E_TOKENIZER', `cannot parse ${file}: ${(cause as Error).message}`, {
        hint: 'the file must be a Hugging Face tokenizer.json (saved by tokenizers >= 0.10)',
        cause,
        context: { file },
      });
    }
    return RobertaTokenizer.#checked(tokenizer, options, file);
  }

  /**
   * Builds RoBERTa's byte-level BPE from GPT-2 style `vocab.json` + `merges.txt`, the way
   * transformers' RobertaConverter does: BPE without subword prefix/suffix, ByteLevel
   * pre-tokenizer with add_prefix_space=false, ByteLevel decoder, RobertaProcessing with
   * trim_offsets=true, and the five specials added as special tokens (`<mask>` strips the
   * space on its left, as RobertaTokenizer declares it).
   */
  static async fromVocabMerges(
    vocabJson: string,
    mergesTxt: string,
    opts: RobertaTokenizerOptions,
  ): Promise<RobertaTokenizer> {
    const options = validateOptions(opts);
    await assertReadable(vocabJson, 'vocab.json');
    await assertReadable(mergesTxt, 'merges.txt');
    let tokenizer: Tokenizer;
    try {
      const model = await BPE.fromFile(vocabJson, mergesTxt, {
        continuingSubwordPrefix: '',
        endOfWordSuffix: '',
        fuseUnk: false,
      });
      tokenizer = new Tokenizer(model);
      tokenizer.setPreTokenizer(byteLevelPreTokenizer(false, true));
      tokenizer.setDecoder(byteLevelDecoder());
      tokenizer.setPostProcessor(robertaProcessing(
        [ROBERTA_SPECIAL_TOKENS.eos, 2],
        [ROBERTA_SPECIAL_TOKENS.bos, 0],
        true,
        false,
      ));
      // Present in vocab.json, so they keep its ids (0..3 and 50264 for roberta-base).
      tokenizer.addAddedTokens([
        new AddedToken(ROBERTA_SPECIAL_TOKENS.bos, true),
        new AddedToken(ROBERTA_SPECIAL_TOKENS.pad, true),
        new AddedToken(ROBERTA_SPECIAL_TOKENS.eos, true),
        new AddedToken(ROBERTA_SPECIAL_TOKENS.unk, true),
        new AddedToken(ROBERTA_SPECIAL_TOKENS.mask, true, { leftStrip: true, rightStrip: false, normalized: false }),
      ]);
    } catch (cause) {
      if (cause instanceof RobertaBatchError) throw cause;
      throw new RobertaBatchError('E_TOKENIZER', `cannot build BPE from ${vocabJson} + ${mergesTxt}: ${(cause as Error).message}`, {
        hint: 'vocab.json must map token -> id, merges.txt must hold one "left right" pair a line',
        cause,
        context: { file: vocabJson },
      });
    }
    // RobertaProcessing above hard-codes ids 0 and 2: check the vocabulary agrees.
    const bos = tokenizer.tokenToId(ROBERTA_SPECIAL_TOKENS.bos);
    const eos = tokenizer.tokenToId(ROBERTA_SPECIAL_TOKENS.eos);
    if (bos !== 0 || eos !== 2) {
      throw new RobertaBatchError('E_TOKENIZER', `${vocabJson}: <s> and </s> must have ids 0 and 2, found ${bos} and ${eos}`, {
        hint: 'use the RoBERTa vocabulary layout (<s> 0, <pad> 1, </s> 2, <unk> 3)',
        context: { file: vocabJson },
      });
    }
    return RobertaTokenizer.#checked(tokenizer, options, vocabJson);
  }

  /** `tokenizer.json` when the directory has one, else `vocab.json` + `merges.txt`. */
  static async fromDir(dir: string, opts: RobertaTokenizerOptions): Promise<RobertaTokenizer> {
    const json = path.join(dir, 'tokenizer.json');
    const hasJson = await access(json, constants.R_OK).then(() => true, () => false);
    if (hasJson) return RobertaTokenizer.fromTokenizerJson(json, opts);
    return RobertaTokenizer.fromVocabMerges(path.join(dir, 'vocab.json'), path.join(dir, 'merges.txt'), opts);
  }

  /** Refuses a pipeline that does not wrap text as `<s> … </s>` (a tokenizer.json without post-processor). */
  static async #checked(tokenizer: Tokenizer, opts: RobertaTokenizerOptions, source: string): Promise<RobertaTokenizer> {
    const self = new RobertaTokenizer(tokenizer, opts, source);
    const empty = (await tokenizer.encode('')).getIds();
    if (empty.length !== SPECIALS_PER_SEQUENCE || empty[0] !== self.#bosId || empty[1] !== self.#eosId) {
      throw new RobertaBatchError('E_TOKENIZER', `${source} does not wrap text as <s> … </s> (empty text gave [${empty.join(', ')}])`, {
        hint: 'the tokenizer needs a RobertaProcessing post-processor',
        context: { file: source },
      });
    }
    return self;
  }

  get vocabSize(): number { return this.#vocabSize; }
  get padId(): number { return this.#padId; }
  get bosId(): number { return this.#bosId; }
  get eosId(): number { return this.#eosId; }
  get maxLength(): number { return this.#maxLength; }

  /**
   * One Rust `encodeBatch` call for all texts (parallel in Rust), then truncation here.
   *
   * Why encode untruncated and slice, rather than let tokenizers truncate: `tokenCount` needs
   * the whole text tokenized either way (truncation in tokenizers happens after BPE).
   * Measured in docs per CPU-second (2 shared cores, roberta-base vocabulary, batches of 256):
   * - tokenizers' own truncation with overflow cannot count: an 80-review text of 1998 tokens
   *   came back as 512 ids plus ONE overflow of 4 (`Encoding.getOverflowing()`, 0.23.2), 514;
   * - truncate, then re-encode only the docs that hit maxLength: 129 on ~2078-token docs;
   * - encode untruncated + slice (this): 204 on the same docs; on rt-polarity reviews
   *   (27 tokens mean, none truncated) 11.96k, the same as truncating (12.35k, within noise);
   * - truncation without any count (not an option, for scale): 281 on the long docs.
   * So the count costs ~27% CPU only on documents ~4x over maxLength and nothing on
   * documents that fit. A 1 MB text takes ~0.7 s (~0.35 s truncated) plus ~20 ms to copy its
   * 221k ids out of Rust. Of a batch of short reviews, ~94% of the time is in Rust and ~6%
   * (getIds + Int32Array copy) on the event loop.
   */
  async encodeBatch(texts: string[]): Promise<Encoded[]> {
    if (texts.length === 0) return [];
    const encodings = await this.#tokenizer.encodeBatch(texts);
    return encodings.map((encoding) => this.#truncate(encoding));
  }

  /** Same as `encodeBatch([text])[0]`. */
  async encode(text: string): Promise<Encoded> {
    return this.#truncate(await this.#tokenizer.encode(text));
  }

  /**
   * All ids of the text, WITHOUT `<s>`/`</s>` and without truncation, for cutting a long
   * document into windows: each window then takes at most `maxLength - 2` of these ids and
   * gets `bosId`/`eosId` around it.
   */
  async encodeFull(text: string): Promise<Int32Array> {
    const encoding = await this.#tokenizer.encode(text, null, { addSpecialTokens: false });
    return Int32Array.from(encoding.getIds());
  }

  /** Text back from ids; specials are dropped. */
  async decode(ids: ArrayLike<number>): Promise<string> {
    return this.#tokenizer.decode(Array.from(ids), true);
  }

  /** Writes the pipeline as a Hugging Face tokenizer.json. */
  saveTokenizerJson(file: string): void {
    this.#tokenizer.save(file, true);
  }

  /** Keeps `<s>` + the first maxLength-2 content ids + `</s>`, as HF's truncation does. */
  #truncate(encoding: Encoding): Encoded {
    const all = encoding.getIds();
    const tokenCount = all.length;
    if (tokenCount <= this.#maxLength) {
      return { ids: Int32Array.from(all), tokenCount, truncated: false };
    }
    const ids = new Int32Array(this.#maxLength);
    for (let i = 0; i < this.#maxLength - 1; i++) ids[i] = all[i];
    ids[this.#maxLength - 1] = this.#eosId;
    return { ids, tokenCount, truncated: true };
  }
}
