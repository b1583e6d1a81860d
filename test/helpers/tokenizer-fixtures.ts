/**
 * Where the tokenizer tests find their vocabularies: the small one trained by
 * test/helpers/train-tokenizer.ts (committed) and, when the machine has it, the real
 * roberta-base vocabulary next to the repository (never copied into it).
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RobertaTokenizer } from '../../src/model/tokenizer.js';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const FIXTURE_TOKENIZER_DIR = path.join(repoRoot, 'models/sample-tokenizer');
export const REAL_ROBERTA_DIR = path.resolve(repoRoot, '../shared/roberta-base');
export const hasRealRoberta =
  existsSync(path.join(REAL_ROBERTA_DIR, 'vocab.json')) && existsSync(path.join(REAL_ROBERTA_DIR, 'merges.txt'));

export interface Vocabulary {
  name: string;
  available: boolean;
  load(maxLength: number): Promise<RobertaTokenizer>;
}

/**
 * One tokenizer per folder and maxLength for the whole fork: loading roberta-base's 50,265
 * tokens and 50,000 merges costs ~0.3 s of CPU, and the unit files (one module cache per fork)
 * would otherwise each load it again. A RobertaTokenizer keeps no state between encodes.
 */
const loaded = new Map<string, Promise<RobertaTokenizer>>();
function shared(dir: string, maxLength: number): Promise<RobertaTokenizer> {
  const key = `${dir}\0${maxLength}`;
  if (!loaded.has(key)) loaded.set(key, RobertaTokenizer.fromDir(dir, { maxLength }));
  return loaded.get(key)!;
}

/** The trained fixture always; roberta-base only where ../shared/roberta-base exists. */
export const VOCABULARIES: Vocabulary[] = [
  {
    name: 'trained test vocabulary',
    available: true,
    load: (maxLength) => shared(FIXTURE_TOKENIZER_DIR, maxLength),
  },
  {
    name: 'roberta-base vocabulary',
    available: hasRealRoberta,
    load: (maxLength) => shared(REAL_ROBERTA_DIR, maxLength),
  },
];

/** The project's own sample reviews (the training text of the test vocabulary), one a line. */
export async function sampleReviews(): Promise<string[]> {
  const text = await readFile(path.join(FIXTURE_TOKENIZER_DIR, 'sample-reviews.txt'), 'utf8');
  return text.split('\n').filter((line) => line.length > 0);
}

/** Texts a tokenizer must survive: empty, blank, emoji, other scripts, control bytes. */
export const HOSTILE_TEXTS: Record<string, string> = {
  empty: '',
  'single space': ' ',
  'whitespace only': ' \t\n\r\u00a0\u2003 \n\n',
  emoji: 'Loved it 😀👍🏽 👨‍👩‍👧‍👦 🇯🇵 ❤️',
  CJK: '这部电影非常好看。映画は最高でした！영화가 정말 좋았어요.',
  Arabic: 'كان الفيلم رائعاً جداً، أنصح به بشدة.',
  'combining marks': 'Cafe\u0301 n\u0303 Z̤͔ͧ̑̓ä͖̭̈̇lͮ̒ͫǧ̗͚̚o̙̔ͮ̇͐̇',
  'control chars': 'a\u0001b\u0007c\u001bd\u007fe\u0085f\u200bg\ufeffh',
  'NUL bytes': '\u0000\u0000before\u0000after\u0000',
  'special token text': '<s></s><pad><unk><mask> </s>',
};
