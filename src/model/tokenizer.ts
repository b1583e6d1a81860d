/**
 * RoBERTa tokenization for the worker: Hugging Face `tokenizers` (Rust, via its Node binding)
 * set up exactly like transformers' `RobertaTokenizerFast` (its `RobertaConverter`):
 * byte-level BPE without prefix space, `<s> … </s>` wrapping, special tokens never split.
 *
 * Encoding runs on the libuv thread pool (the binding's `encodeBatch` is an AsyncTask), so a
 * large batch does not block the event loop; only the id copy into Int32Array runs on it.
 */
import { constants } from 'node:fs';
import { access, readFile } from 'node:fs/promises';
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
import { E, RobertaBatchError } from '../shared/errors.js';

export interface RobertaTokenizerOptions {
  /**
   * The model's longest input INCLUDING `<s>` and `</s>`: 512 for roberta-base, whose
   * position table has 514 rows (RoBERTa's positions start at padding_idx + 1 = 2).
   */
  maxLength: number;
  /**
   * Texts up to this many UTF-16 code units are tokenized whole, so that their `tokenCount` is
   * exact (default 65,536: ~16k tokens, ~30 ms); only longer ones are cut to a prefix.
   */
  exactCountChars?: number;
}

/** Default of `exactCountChars`: one streaming segment. */
const EXACT_COUNT_CHARS = 64 * 1024;

export interface Encoded {
  /**
   * `<s>` + content + `</s>`, at most `maxLength` ids. From `encodeBatch`, a view of one buffer
   * shared by every text of the call: copy it before transferring it to another thread.
   */
  ids: Int32Array;
  /**
   * Tokens of the text including the two specials, before truncation. Exact when the whole
   * text was tokenized (`tokenizedChars` = its length); for a text cut to a prefix (see
   * `encodeBatch`) the tokens of that prefix: a lower bound, always over `maxLength`.
   */
  tokenCount: number;
  truncated: boolean;
  /** UTF-16 code units of the text that went through the tokenizer. */
  tokenizedChars: number;
}

/**
 * What the prefix cut relies on, known from the tokenizer's pipeline (see `cutAt`):
 * `maxTokenBytes`, the longest token in bytes, sizes the first prefix; `streamable` says a
 * text may also be cut into consecutive segments tokenized one by one (no prefix space added
 * to each segment).
 */
interface PrefixCut {
  maxTokenBytes: number;
  streamable: boolean;
}

/** GPT-2's bytes_to_unicode: the 256 characters byte-level BPE writes bytes as. */
const BYTE_LEVEL_CHARS: ReadonlySet<string> = (() => {
  const printable = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const out = new Set<string>();
  let n = 0;
  for (let b = 0; b < 256; b++) out.add(String.fromCodePoint(printable(b) ? b : 256 + n++));
  return out;
})();

/** Bytes a vocabulary entry stands for: one per byte-level character, else its UTF-8 (an added token). */
function tokenBytes(token: string): number {
  const chars = [...token];
  return chars.every((c) => BYTE_LEVEL_CHARS.has(c)) ? chars.length : Buffer.byteLength(token, 'utf8');
}

function maxTokenBytesOf(vocab: Iterable<string>): number {
  let max = 1;
  for (const t of vocab) max = Math.max(max, tokenBytes(t));
  return max;
}

/**
 * A tokenizer.json qualifies for the prefix cut only if its pipeline is the one the argument
 * at `cutAt` is about: no normalizer, the ByteLevel pre-tokenizer with its GPT-2 regex, BPE
 * without dropout, added tokens without whitespace. Anything else is tokenized whole.
 */
function prefixCutFromJson(json: unknown): PrefixCut | undefined {
  const j = json as {
    normalizer?: unknown;
    pre_tokenizer?: { type?: string; use_regex?: boolean; add_prefix_space?: boolean } | null;
    model?: { type?: string; dropout?: unknown; vocab?: Record<string, number> };
    added_tokens?: Array<{ content?: string }>;
  };
  if (j.normalizer) return undefined;
  const pre = j.pre_tokenizer;
  if (!pre || pre.type !== 'ByteLevel' || pre.use_regex === false) return undefined;
  if (j.model?.type !== 'BPE' || j.model.dropout || !j.model.vocab) return undefined;
  const added = (j.added_tokens ?? []).map((a) => a.content ?? '');
  if (added.some((c) => c === '' || /[\s\u0085\u180e]/u.test(c))) return undefined;
  return { maxTokenBytes: maxTokenBytesOf([...Object.keys(j.model.vocab), ...added]), streamable: pre.add_prefix_space !== true };
}

/** Whitespace to the GPT-2 regex's `\s` (Unicode White_Space), plus U+180E and U+FEFF to be safe. */
function isWhitespace(c: number): boolean {
  return (c >= 0x09 && c <= 0x0d) || c === 0x20 || c === 0x85 || c === 0xa0 || c === 0x1680 || c === 0x180e ||
    (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff;
}

/** ASCII space, tab, LF, CR: whitespace to every regex flavour. */
const isCutChar = (c: number) => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;

/**
 * The first index >= `from` where the text may be cut so that tokenizing `text.slice(0, i)`
 * gives exactly the first tokens of the whole text, or `text.length` when there is none.
 *
 * Why such a cut exists (byte-level BPE as RoBERTa sets it up): the pre-tokenizer splits the
 * text with `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+` and BPE
 * runs on each piece alone. At an index i with whitespace at i and none at i-1, the piece
 * holding i-1 is one of the non-whitespace alternatives, which take a space only as their
 * first character, so it ends at i: i is a piece boundary of the whole text. Every piece
 * before it is matched from characters before i (the only lookahead, `(?!\S)`, looks one
 * character past a whitespace run, which ends before i-1), so the prefix splits into the same
 * pieces, and BPE gives them the same tokens. Added tokens (`<s>`, `<mask>` ...) hold no
 * whitespace, so none spans i; `<mask>`'s left strip only takes whitespace after i-1.
 * Hence tokens(prefix) = the first tokens of tokens(text), and tokens(rest) follow them.
 * Cutting inside a word instead would not do: BPE merges in a piece depend on its whole length.
 */
function cutAt(text: string, from: number): number {
  for (let i = Math.max(1, from); i < text.length; i++) {
    if (isCutChar(text.charCodeAt(i)) && !isWhitespace(text.charCodeAt(i - 1))) return i;
  }
  return text.length;
}

/** Segment size for streaming a long text into windows: 64 Ki code units, ~16k tokens of English. */
const SEGMENT_CHARS = 64 * 1024;

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
    throw E.TOKENIZER(`${what} not found or not readable: ${file}`, {
      hint: 'point --tokenizer at a directory with tokenizer.json, or vocab.json and merges.txt',
      cause,
      context: { file },
    });
  }
}

function validateOptions(opts: RobertaTokenizerOptions): Required<RobertaTokenizerOptions> {
  const { maxLength, exactCountChars = EXACT_COUNT_CHARS } = opts;
  // 3 = the two specials plus at least one content token.
  if (!Number.isInteger(maxLength) || maxLength < SPECIALS_PER_SEQUENCE + 1) {
    throw E.CONFIG(`maxLength ${String(maxLength)}: expected an integer >= 3`, {
      hint: 'use the model maximum including <s> and </s> (512 for roberta-base)',
    });
  }
  return Object.freeze({ maxLength, exactCountChars });
}

export class RobertaTokenizer {
  readonly #tokenizer: Tokenizer;
  readonly #maxLength: number;
  readonly #bosId: number;
  readonly #eosId: number;
  readonly #padId: number;
  readonly #vocabSize: number;
  readonly #cut: PrefixCut | undefined;
  /** Texts longer than this are cut; the first prefix holds maxLength - 1 content tokens unless tokens run longer than maxTokenBytes. */
  readonly #prefixChars: number;

  private constructor(tokenizer: Tokenizer, opts: Required<RobertaTokenizerOptions>, source: string, cut: PrefixCut | undefined) {
    // A saved tokenizer.json may carry its own truncation/padding (HF writes them when they
    // were enabled at save time); truncation and padding are this class's and the batcher's.
    tokenizer.disableTruncation();
    tokenizer.disablePadding();
    this.#tokenizer = tokenizer;
    this.#maxLength = opts.maxLength;
    const idOf = (token: string): number => {
      const id = tokenizer.tokenToId(token);
      if (id === null || id === undefined) {
        throw E.TOKENIZER(`the tokenizer has no ${token} token (${source})`, {
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
    this.#cut = cut;
    // maxLength - 1 content tokens (one more than fit) of at most maxTokenBytes bytes each; a
    // UTF-16 code unit is at least one UTF-8 byte, so that many code units hold at least that
    // many bytes. roberta-base: 511 x 128 = 65,408.
    this.#prefixChars = cut ? Math.max(opts.exactCountChars, (opts.maxLength - 1) * cut.maxTokenBytes) : Infinity;
  }

  /** Loads a Hugging Face `tokenizer.json` (the pipeline it describes is used as is). */
  static async fromTokenizerJson(file: string, opts: RobertaTokenizerOptions): Promise<RobertaTokenizer> {
    const options = validateOptions(opts);
    await assertReadable(file, 'tokenizer.json');
    let tokenizer: Tokenizer;
    try {
      tokenizer = Tokenizer.fromFile(file);
    } catch (cause) {
      throw E.TOKENIZER(`cannot parse ${file}: ${(cause as Error).message}`, {
        hint: 'the file must be a Hugging Face tokenizer.json (saved by tokenizers >= 0.10)',
        cause,
        context: { file },
      });
    }
    let cut: PrefixCut | undefined;
    try {
      cut = prefixCutFromJson(JSON.parse(await readFile(file, 'utf8')));
    } catch {
      cut = undefined;
    }
    return RobertaTokenizer.#checked(tokenizer, options, file, cut);
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
      throw E.TOKENIZER(`cannot build BPE from ${vocabJson} + ${mergesTxt}: ${(cause as Error).message}`, {
        hint: 'vocab.json must map token -> id, merges.txt must hold one "left right" pair a line',
        cause,
        context: { file: vocabJson },
      });
    }
    // RobertaProcessing above hard-codes ids 0 and 2: check the vocabulary agrees.
    const bos = tokenizer.tokenToId(ROBERTA_SPECIAL_TOKENS.bos);
    const eos = tokenizer.tokenToId(ROBERTA_SPECIAL_TOKENS.eos);
    if (bos !== 0 || eos !== 2) {
      throw E.TOKENIZER(`${vocabJson}: <s> and </s> must have ids 0 and 2, found ${bos} and ${eos}`, {
        hint: 'use the RoBERTa vocabulary layout (<s> 0, <pad> 1, </s> 2, <unk> 3)',
        context: { file: vocabJson },
      });
    }
    // The pipeline built above is the one prefixCutFromJson accepts.
    const cut: PrefixCut = { maxTokenBytes: maxTokenBytesOf(Object.keys(tokenizer.getVocab(true))), streamable: true };
    return RobertaTokenizer.#checked(tokenizer, options, vocabJson, cut);
  }

  /** `tokenizer.json` when the directory has one, else `vocab.json` + `merges.txt`. */
  static async fromDir(dir: string, opts: RobertaTokenizerOptions): Promise<RobertaTokenizer> {
    const json = path.join(dir, 'tokenizer.json');
    const hasJson = await access(json, constants.R_OK).then(() => true, () => false);
    if (hasJson) return RobertaTokenizer.fromTokenizerJson(json, opts);
    return RobertaTokenizer.fromVocabMerges(path.join(dir, 'vocab.json'), path.join(dir, 'merges.txt'), opts);
  }

  /** Refuses a pipeline that does not wrap text as `<s> … </s>` (a tokenizer.json without post-processor). */
  static async #checked(tokenizer: Tokenizer, opts: Required<RobertaTokenizerOptions>, source: string, cut: PrefixCut | undefined): Promise<RobertaTokenizer> {
    const self = new RobertaTokenizer(tokenizer, opts, source, cut);
    const empty = (await tokenizer.encode('')).getIds();
    if (empty.length !== SPECIALS_PER_SEQUENCE || empty[0] !== self.#bosId || empty[1] !== self.#eosId) {
      throw E.TOKENIZER(`${source} does not wrap text as <s> … </s> (empty text gave [${empty.join(', ')}])`, {
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
   * documents that fit. Tokenized whole, a 1 MB text took ~0.7 s and a 20 MB one 39 s; past
   * 64 Ki characters only a prefix is tokenized now (below), so a 20 MB text costs ~59 ms,
   * 10.7 times a 10 KB one (5.5 ms; roberta-base, load average 8.4). Of a batch of short reviews, ~94% of the time is in Rust and ~6%
   * (getIds + Int32Array copy) on the event loop.
   */
  async encodeBatch(texts: string[]): Promise<Encoded[]> {
    if (texts.length === 0) return [];
    // A text longer than the first prefix is tokenized only up to a cut (see cutAt) past it:
    // a 20 MB document cost 39 s and 2.5 GiB tokenized whole, and held up every document
    // tokenized in the same call. The ids are those of tokenizing it whole and truncating.
    const ends = texts.map((t) => (t.length > this.#prefixChars ? cutAt(t, this.#prefixChars) : t.length));
    const encodings = await this.#tokenizer.encodeBatch(texts.map((t, i) => (ends[i] < t.length ? t.slice(0, ends[i]) : t)));
    // Synchronous for every text that was tokenized whole (all but the rare cut ones): no
    // promise per document. The ids of all texts share one buffer, each text a view of it:
    // one typed-array allocation for the call instead of one per text (each over 64 bytes,
    // so outside V8's heap, a malloc and a sweep each): 0.7 against 2.4 µs a document in a
    // microbenchmark of 64 review-length id lists (Node 20, CPU of the process).
    const lists = encodings.map((e) => e.getIds());
    let total = 0;
    for (const l of lists) total += Math.min(l.length, this.#maxLength);
    const pool = new Int32Array(total);
    let at = 0;
    const out = lists.map((all, i) => {
      const n = Math.min(all.length, this.#maxLength);
      const enc = this.#truncateInto(all, pool.subarray(at, at + n), ends[i]);
      at += n;
      return enc;
    });
    for (let i = 0; i < out.length; i++) {
      // Tokens over maxTokenBytes only come from added tokens that strip whitespace (`<mask>`
      // after a long run of spaces): the prefix then holds too few tokens to prove the cut; grow it.
      let end = ends[i];
      while (end < texts[i].length && !out[i].truncated) {
        end = cutAt(texts[i], end * 2);
        out[i] = this.#truncate(await this.#tokenizer.encode(end < texts[i].length ? texts[i].slice(0, end) : texts[i]), end);
      }
    }
    return out;
  }

  /** Same as `encodeBatch([text])[0]`. */
  async encode(text: string): Promise<Encoded> {
    return (await this.encodeBatch([text]))[0];
  }

  /**
   * All ids of the text, WITHOUT `<s>`/`</s>` and without truncation, for cutting a long
   * document into windows: each window then takes at most `maxLength - 2` of these ids and
   * gets `bosId`/`eosId` around it.
   */
  async encodeFull(text: string): Promise<Int32Array> {
    const parts: Int32Array[] = [];
    for await (const p of this.encodeSegments(text)) parts.push(p);
    if (parts.length === 1) return parts[0];
    const out = new Int32Array(parts.reduce((a, p) => a + p.length, 0));
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }

  /**
   * The ids of `encodeFull(text)`, in consecutive pieces, each from one segment of about
   * SEGMENT_CHARS cut where cutAt allows: tokenizers holds one segment's encoding at a time
   * (offsets, strings: ~125 bytes a token) instead of the whole text's, and the caller can
   * plan windows as the ids arrive.
   */
  async *encodeSegments(text: string): AsyncGenerator<Int32Array> {
    if (!this.#cut?.streamable) {
      yield Int32Array.from((await this.#tokenizer.encode(text, null, { addSpecialTokens: false })).getIds());
      return;
    }
    for (let start = 0; start < text.length || start === 0;) {
      const end = text.length - start > SEGMENT_CHARS ? cutAt(text, start + SEGMENT_CHARS) : text.length;
      const encoding = await this.#tokenizer.encode(start === 0 && end === text.length ? text : text.slice(start, end), null, { addSpecialTokens: false });
      yield Int32Array.from(encoding.getIds());
      start = end;
      if (end === text.length) break;
    }
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
  #truncate(encoding: Encoding, tokenizedChars: number): Encoded {
    const all = encoding.getIds();
    return this.#truncateInto(all, new Int32Array(Math.min(all.length, this.#maxLength)), tokenizedChars);
  }

  /** The same into `ids`, of min(all.length, maxLength) elements. */
  #truncateInto(all: number[], ids: Int32Array, tokenizedChars: number): Encoded {
    const tokenCount = all.length;
    if (tokenCount <= this.#maxLength) {
      ids.set(all);
      return { ids, tokenCount, truncated: false, tokenizedChars };
    }
    for (let i = 0; i < this.#maxLength - 1; i++) ids[i] = all[i];
    ids[this.#maxLength - 1] = this.#eosId;
    return { ids, tokenCount, truncated: true, tokenizedChars };
  }
}
